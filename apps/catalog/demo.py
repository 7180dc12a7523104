"""The Gera product family, their skills and providers across seven cities, for
`manage.py seed_demo`. Existing rows are kept as they are."""

from decimal import Decimal

from apps.catalog import services
from apps.catalog.models import Product, Provider, Skill

PRODUCTS = [
    ("gerahome", "GeraHome", "Home services: plumbers, electricians, cleaners."),
    ("geraclinic", "GeraClinic", "Telehealth consultations."),
    ("gera-warranty", "Gera Action Warranty", "Insures the outcome of dispatched actions."),
]
CITIES = [
    ("Lagos", "NG", "Africa/Lagos"),
    ("Nairobi", "KE", "Africa/Nairobi"),
    ("Mumbai", "IN", "Asia/Kolkata"),
    ("São Paulo", "BR", "America/Sao_Paulo"),
    ("Amsterdam", "NL", "Europe/Amsterdam"),
    ("Yerevan", "AM", "Asia/Yerevan"),
    ("London", "GB", "Europe/London"),
]
HOME_DETAILS = {
    "type": "object",
    "properties": {
        "problem": {"type": "string", "description": "What needs doing, in a sentence."},
        "address_area": {"type": "string", "description": "Neighbourhood or postcode."},
    },
    "required": ["problem"],
}
SKILLS = [
    (
        "gerahome",
        "home.plumbing",
        "Plumber visit",
        "A plumber comes to fix leaks, blockages, boilers.",
        ["plumber", "plumbing", "leak", "pipe", "boiler"],
        "35.00",
    ),
    (
        "gerahome",
        "home.electrician",
        "Electrician visit",
        "An electrician fixes sockets, lights, wiring.",
        ["electrician", "electrical", "socket", "wiring"],
        "40.00",
    ),
    (
        "gerahome",
        "home.cleaning",
        "Home cleaning",
        "A cleaner for two to four hours.",
        ["cleaner", "cleaning", "clean"],
        "25.00",
    ),
    (
        "geraclinic",
        "health.telehealth_consult",
        "Telehealth consult",
        "A video consultation with a GP.",
        ["doctor", "gp", "consult", "telehealth"],
        "20.00",
    ),
]
MORNINGS = [{"days": [0, 1, 2, 3, 4, 5], "start": "08:00", "end": "12:00"}]
AFTERNOONS = [{"days": [0, 1, 2, 3, 4], "start": "13:00", "end": "18:00"}]


def seed() -> list[str]:
    products = {}
    for code, name, description in PRODUCTS:
        products[code], _ = Product.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    for product_code, capability, title, description, synonyms, price in SKILLS:
        skill, created = Skill.objects.get_or_create(
            product=products[product_code],
            capability=capability,
            defaults={
                "title": title,
                "description": description,
                "synonyms": synonyms,
                "examples": [f"book a {synonyms[0]} in Lagos under £50 tomorrow morning"],
                "input_schema": HOME_DETAILS
                if product_code == "gerahome"
                else {
                    "type": "object",
                    "properties": {"symptoms": {"type": "string"}},
                    "required": ["symptoms"],
                },
                "price_from": Decimal(price),
                "countries": [country for _, country, _ in CITIES],
                "cities": [city for city, _, _ in CITIES],
                "memory_scopes": ["preferences", "home"]
                if product_code == "gerahome"
                else ["health"],
            },
        )
        if created:
            services.skill_publish(skill=skill)
            _providers_for(skill, Decimal(price))
    return [
        f"{'products':20} {', '.join(p.name for p in products.values())}",
        f"{'skills':20} {Skill.objects.count()} published, {Provider.objects.count()} providers",
    ]


def _providers_for(skill: Skill, base: Decimal) -> None:
    for index, (city, country, zone) in enumerate(CITIES):
        for rank, (windows, markup, rating) in enumerate(
            [
                (MORNINGS, Decimal("1.20"), Decimal("4.70")),
                (AFTERNOONS, Decimal("1.60"), Decimal("4.20")),
            ]
        ):
            provider = Provider.objects.create(
                name=f"{city} {skill.title.split()[0]} {'AB'[rank]}",
                country=country,
                city=city,
                timezone=zone,
                rating=rating - Decimal(index) / 20,
                price=(base * markup).quantize(Decimal("0.01")),
                availability=windows,
            )
            provider.skills.add(skill)
            services.provider_rotate_secret(provider=provider)
