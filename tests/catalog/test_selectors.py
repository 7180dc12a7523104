"""Catalog reads: only published skills of active products, filtered by capability prefix,
country and city; active providers of given skills, with the skill each works under."""

import pytest

from apps.catalog import selectors, services
from apps.catalog.models import Product
from tests.catalog.conftest import inactive_product, make_provider, make_published, make_skill
from tests.factories import product

pytestmark = pytest.mark.django_db


def capabilities(skills) -> list[str]:
    return [skill.capability for skill in skills]


# --- products ---------------------------------------------------------------------------


def test_only_active_products_are_listed_and_found():
    gerahome = product("gerahome")
    gone = inactive_product()

    assert list(selectors.product_list_active()) == [gerahome]
    assert selectors.product_get_active(code="gerahome") == gerahome
    assert selectors.product_get_active(code=gone.code) is None
    assert selectors.product_get_active(code="no-such-product") is None


# --- skills -----------------------------------------------------------------------------


def test_only_published_skills_of_active_products_are_listed():
    make_published("home.plumbing")
    make_skill("home.cleaning")  # a draft
    services.skill_suspend(skill=make_published("home.electrician"))
    make_published("food.delivery", product=inactive_product())

    assert capabilities(selectors.skill_list_published()) == ["home.plumbing"]


def test_skills_are_listed_in_capability_order():
    for capability in ["home.plumbing", "health.telehealth_consult", "home.cleaning"]:
        make_published(capability)

    assert capabilities(selectors.skill_list_published()) == [
        "health.telehealth_consult",
        "home.cleaning",
        "home.plumbing",
    ]


@pytest.mark.parametrize(
    ("capability", "found"),
    [
        ("home.plumbing", ["home.plumbing"]),
        ("home.", ["home.cleaning", "home.plumbing"]),
        ("health", ["health.telehealth_consult"]),
        ("home.plumbing.emergency", []),
        ("plumbing", []),  # a prefix, not a substring
    ],
)
def test_capability_filters_by_prefix(capability, found):
    for published in ["home.plumbing", "home.cleaning", "health.telehealth_consult"]:
        make_published(published)

    assert capabilities(selectors.skill_list_published(capability=capability)) == found


@pytest.mark.parametrize(
    ("country", "found"),
    [("NG", ["home.lagos"]), ("ng", ["home.lagos"]), ("GB", ["home.london"]), ("FR", [])],
)
def test_country_filters_on_the_countries_served_in_any_case(country, found):
    make_published("home.lagos", countries=["NG"], cities=["Lagos"])
    make_published("home.london", countries=["GB"], cities=["London"])

    assert capabilities(selectors.skill_list_published(country=country)) == found


@pytest.mark.parametrize("city", ["São Paulo", "são paulo", "SÃO PAULO"])
def test_city_filters_on_the_cities_served_in_any_case(city):
    make_published("home.brazil", countries=["BR"], cities=["São Paulo", "Rio de Janeiro"])
    make_published("home.london", countries=["GB"], cities=["London"])

    assert capabilities(selectors.skill_list_published(city=city)) == ["home.brazil"]


def test_a_city_must_be_served_whole():
    make_published("home.brazil", countries=["BR"], cities=["São Paulo"])

    assert selectors.skill_list_published(city="Paulo") == []


def test_filters_combine():
    make_published("home.plumbing", countries=["NG", "GB"], cities=["Lagos", "London"])
    make_published("home.cleaning", countries=["NG"], cities=["Lagos"])
    make_published("health.consult", countries=["GB"], cities=["London"])

    found = selectors.skill_list_published(capability="home.", country="gb", city="london")

    assert capabilities(found) == ["home.plumbing"]


def test_listed_skills_carry_their_product():
    make_published("home.plumbing")

    (skill,) = selectors.skill_list_published()

    assert skill.product.code == "gerahome"


def test_a_skill_is_got_only_while_published_and_its_product_active():
    live = make_published("home.plumbing")
    draft = make_skill("home.cleaning")
    suspended = services.skill_suspend(skill=make_published("home.electrician"))
    orphaned = make_published("food.delivery", product=inactive_product())

    assert selectors.skill_get_published(skill_id=live.pk) == live
    assert selectors.skill_get_published(skill_id=draft.pk) is None
    assert selectors.skill_get_published(skill_id=suspended.pk) is None
    assert selectors.skill_get_published(skill_id=orphaned.pk) is None
    assert selectors.skill_get_published(skill_id=live.pk + 1000) is None


def test_a_product_switched_off_takes_its_published_skills_with_it():
    skill = make_published("home.plumbing")
    Product.objects.filter(code="gerahome").update(active=False)

    assert selectors.skill_list_published() == []
    assert selectors.skill_get_published(skill_id=skill.pk) is None


# --- providers --------------------------------------------------------------------------


def names(providers) -> list[str]:
    return sorted(provider.name for provider in providers)


def test_active_providers_of_the_skills_are_listed_with_the_skill_they_work_under():
    plumbing, cleaning = make_published("home.plumbing"), make_published("home.cleaning")
    make_provider(plumbing, name="Pipes")
    make_provider(cleaning, name="Mops")
    make_provider(plumbing, name="Retired", active=False)

    found = selectors.provider_list_for_skills([plumbing, cleaning])

    assert {(p.name, p.skill_id) for p in found} == {
        ("Pipes", plumbing.pk),
        ("Mops", cleaning.pk),
    }


def test_providers_of_other_skills_are_not_listed():
    plumbing, cleaning = make_published("home.plumbing"), make_published("home.cleaning")
    make_provider(cleaning, name="Mops")

    assert selectors.provider_list_for_skills([plumbing]) == []


def test_a_provider_of_several_skills_is_listed_under_each_skill_asked_for():
    plumbing, cleaning = make_published("home.plumbing"), make_published("home.cleaning")
    make_provider(plumbing, cleaning, name="Handy")

    both = selectors.provider_list_for_skills([plumbing, cleaning])
    one = selectors.provider_list_for_skills([plumbing])

    assert sorted(p.skill_id for p in both) == sorted([plumbing.pk, cleaning.pk])
    assert [(p.name, p.skill_id) for p in one] == [("Handy", plumbing.pk)]


@pytest.mark.parametrize("country", ["NG", "ng"])
def test_providers_are_narrowed_to_a_country_in_any_case(country):
    plumbing = make_published("home.plumbing", countries=["NG", "GB"])
    make_provider(plumbing, name="Lagos Pipes", country="NG", city="Lagos")
    make_provider(plumbing, name="Thames Pipes", country="GB", city="London")

    assert names(selectors.provider_list_for_skills([plumbing], country=country)) == ["Lagos Pipes"]
    assert names(selectors.provider_list_for_skills([plumbing])) == [
        "Lagos Pipes",
        "Thames Pipes",
    ]


def test_city_timezones_come_from_active_providers_that_set_one():
    plumbing = make_published("home.plumbing")
    make_provider(plumbing, city="Lagos", country="NG", timezone="Africa/Lagos")
    make_provider(plumbing, name="Second", city="Lagos", country="NG", timezone="Africa/Lagos")
    make_provider(plumbing, city="São Paulo", country="BR", timezone="America/Sao_Paulo")
    make_provider(plumbing, city="Nairobi", country="KE", timezone="")
    make_provider(plumbing, city="Yerevan", country="AM", timezone="Asia/Yerevan", active=False)

    assert selectors.city_timezones() == {
        "Lagos": "Africa/Lagos",
        "São Paulo": "America/Sao_Paulo",
    }
