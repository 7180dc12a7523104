"""Staff reach the admin only with two-factor authentication: without an authenticator
they are sent to set one up; signed in without it, they are asked for a code."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.helpers import give_totp, totp_code

pytestmark = pytest.mark.django_db

PAYMENTS = "/admin/payments/payment/?status=captured"


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


def sign_in_with_password(client, user) -> None:
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def said(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, staff):
    sign_in_with_password(client, staff)

    response = client.get(PAYMENTS)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert "Operators need two-factor authentication" in said(response)
    assert client.get(reverse("identity:me")).status_code == 200  # only the admin asks


def test_staff_signed_in_without_their_authenticator_confirm_a_code_first(client, staff):
    give_totp(staff)
    client.force_login(staff)  # a session from before the authenticator, or without it

    asked = client.get(PAYMENTS)
    confirmed = client.post(asked["Location"], {"code": totp_code()})

    assert asked["Location"].startswith(reverse("mfa_reauthenticate"))
    assert "Enter a code from your authenticator app" in said(asked)
    assert confirmed["Location"] == PAYMENTS
    assert client.get(PAYMENTS).status_code == 200


def test_staff_signed_in_with_password_and_code_reach_the_admin(client, staff):
    give_totp(staff)
    sign_in_with_password(client, staff)
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})

    assert client.get(PAYMENTS).status_code == 200


def test_staff_without_a_second_factor_may_still_sign_out_of_the_admin(client, staff):
    sign_in_with_password(client, staff)

    response = client.post(reverse("admin:logout"))

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
