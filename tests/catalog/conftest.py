"""Skills and providers built as an operator would leave them in the admin."""

from decimal import Decimal

from apps.catalog import services
from apps.catalog.models import Product, Provider, Skill
from tests.factories import product

HOME_DETAILS = {
    "type": "object",
    "properties": {"problem": {"type": "string"}},
    "required": ["problem"],
}


def make_skill(capability: str = "home.plumbing", **fields) -> Skill:
    """A draft skill of GeraHome (or `product`) serving London, with a valid schema."""
    defaults = {
        "product": product("gerahome"),
        "title": "Plumber visit",
        "description": "A plumber comes round.",
        "input_schema": HOME_DETAILS,
        "price_from": Decimal("35.00"),
        "countries": ["GB"],
        "cities": ["London"],
    }
    return Skill.objects.create(capability=capability, **{**defaults, **fields})


def make_published(capability: str = "home.plumbing", **fields) -> Skill:
    return services.skill_publish(skill=make_skill(capability, **fields))


def make_provider(*skills: Skill, **fields) -> Provider:
    defaults = {
        "name": "Thames Pipes",
        "country": "GB",
        "city": "London",
        "timezone": "Europe/London",
        "price": Decimal("42.00"),
        "availability": [{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "12:00"}],
    }
    provider = Provider.objects.create(**{**defaults, **fields})
    provider.skills.add(*skills)
    return provider


def inactive_product(code: str = "gerafood") -> Product:
    return Product.objects.create(code=code, name=code.title(), active=False)
