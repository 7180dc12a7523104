from django.db.models import F, QuerySet

from apps.catalog.models import Product, Provider, Skill
from apps.identity.capabilities import Capability


def product_list_active() -> QuerySet[Product]:
    return Product.objects.filter(active=True)


def product_get_active(*, code: str) -> Product | None:
    return Product.objects.filter(code=code, active=True).first()


def skill_list_published(*, capability: str = "", country: str = "", city: str = "") -> list[Skill]:
    """Published skills of active products, filtered in Python for the JSON list fields
    (the catalogue is small; this keeps SQLite and PostgreSQL alike)."""
    skills = Skill.objects.filter(status=Skill.Status.PUBLISHED, product__active=True)
    if capability:
        skills = skills.filter(capability__startswith=capability)
    result = list(skills.select_related("product").order_by("capability"))
    if country:
        result = [s for s in result if country.upper() in s.countries]
    if city:
        result = [s for s in result if city.casefold() in {c.casefold() for c in s.cities}]
    return result


def skill_get_published(*, skill_id: int) -> Skill | None:
    return (
        Skill.objects.select_related("product")
        .filter(pk=skill_id, status=Skill.Status.PUBLISHED, product__active=True)
        .first()
    )


def city_timezones() -> dict[str, str]:
    """City -> the IANA zone its active providers keep, for the cities where one is set."""
    rows = (
        Provider.objects.filter(active=True)
        .exclude(timezone="")
        .values_list("city", "timezone")
        .distinct()
    )
    return dict(rows)


def provider_list_for_skills(skills: list[Skill], *, country: str = "") -> list[Provider]:
    """Active providers of any of `skills` (in `country`, if given), each annotated with
    `skill_id`: the one of those skills it would do the work under."""
    providers = Provider.objects.filter(skills__in=skills, active=True)
    if country:
        providers = providers.filter(country__iexact=country)
    return list(providers.annotate(skill_id=F("skills__id")))


def capabilities_named(codes: list[str]) -> dict[str, Capability]:
    """The published capabilities among `codes`, as identity's consent page names them
    (registered with identity in CatalogConfig.ready). A capability several products
    publish needs an entitlement only if every one of them does."""
    named: dict[str, Capability] = {}
    published = Skill.objects.filter(
        status=Skill.Status.PUBLISHED, product__active=True, capability__in=codes
    )
    for skill in published.order_by("capability", "pk"):
        known = named.get(skill.capability)
        if known is None or (known.required_feature and not skill.required_entitlement):
            named[skill.capability] = Capability(
                code=skill.capability,
                title=skill.title,
                required_feature=skill.required_entitlement,
            )
    return named
