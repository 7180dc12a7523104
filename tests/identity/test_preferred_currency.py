"""A user may prefer any ISO 4217 currency: the nine GeraOS keeps money in limit money
fields, not what a person sees prices in (a currency without a rate is passed over)."""

import pytest
from django.contrib.admin import site
from django.test import RequestFactory

from apps.identity.forms import ProfileForm
from apps.identity.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_profile_api_accepts_any_iso_currency_and_refuses_what_is_not_one(user_client, user):
    accepted = user_client.patch(
        "/api/v1/me", {"preferred_currency": "CHF"}, content_type="application/json"
    )
    refused = user_client.patch(
        "/api/v1/me", {"preferred_currency": "ZZZ"}, content_type="application/json"
    )

    assert accepted.status_code == 200, accepted.content
    assert refused.status_code == 400
    user.refresh_from_db()
    assert user.preferred_currency == "CHF"


def test_the_profile_page_keeps_a_user_preferring_francs_editable():
    user = UserFactory(country="CH", preferred_currency="CHF")

    form = ProfileForm(
        {"name": "Renamed", "country": "CH", "preferred_currency": "CHF"}, instance=user
    )

    assert form.is_valid(), form.errors


def test_the_user_admin_form_offers_the_users_stored_currency():
    user = UserFactory(country="ZA", preferred_currency="ZAR")
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)

    form = site._registry[User].get_form(request, user, change=True)(instance=user)

    assert "ZAR" in {code for code, _ in form.fields["preferred_currency"].choices}
