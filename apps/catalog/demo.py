"""The Gera product family, for `manage.py seed_demo`."""

from apps.catalog.models import Product

PRODUCTS = [
    ("gerahome", "GeraHome", "Home services: plumbers, electricians, cleaners."),
    ("geraclinic", "GeraClinic", "Telehealth consultations."),
    ("gera-warranty", "Gera Action Warranty", "Insures the outcome of dispatched actions."),
]


def seed() -> list[str]:
    for code, name, description in PRODUCTS:
        Product.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    return [f"{'products':20} {', '.join(name for _, name, _ in PRODUCTS)}"]
