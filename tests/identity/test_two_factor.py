"""The second sign-in step: an authenticator app's code passes once, whatever the cache
holds."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from django.test import Client
from django.urls import reverse

from apps.identity.models import TOTPUse
from apps.identity.two_factor import totp_code_accept
from tests.factories import PASSWORD
from tests.helpers import TOTP_SECRET, give_totp, run_concurrently, totp_code

pytestmark = pytest.mark.django_db


def signed_in_with_password(user, address: str = "203.0.113.5") -> Client:
    """A browser at `address` (seen through the TLS proxy) past the password step."""
    browser = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address)
    response = browser.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    return browser


def enter_code(browser: Client, code: str):
    return browser.post(reverse("mfa_authenticate"), {"code": code})


def signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def code_of_step(step: int) -> str:
    return totp_code(TOTP_SECRET, at=step * mfa_settings.TOTP_PERIOD)


def test_a_code_signs_in_once(user, fresh_totp_step):
    give_totp(user)
    code = totp_code()
    first, replay = signed_in_with_password(user), signed_in_with_password(user)

    assert enter_code(first, code)["Location"] == reverse("identity:me")
    refused = enter_code(replay, code)

    assert "Incorrect code" in refused.content.decode()
    assert not signed_in(replay)


def test_a_code_of_an_earlier_step_is_refused_once_a_later_one_passed(
    user, settings, fresh_totp_step
):
    settings.MFA_TOTP_TOLERANCE = 1  # the step before and after are valid too
    authenticator = give_totp(user)
    now = int(time.time()) // mfa_settings.TOTP_PERIOD

    assert totp_code_accept(authenticator=authenticator, code=code_of_step(now + 1))
    assert not totp_code_accept(authenticator=authenticator, code=code_of_step(now))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("used_before", [False, True], ids=["first use", "used before"])
def test_of_one_code_entered_many_times_at_once_one_passes(user, used_before, fresh_totp_step):
    authenticator = give_totp(user)
    step = int(time.time()) // mfa_settings.TOTP_PERIOD
    if used_before:
        TOTPUse.objects.create(authenticator=authenticator, last_step=step - 1)

    passed = run_concurrently(
        lambda: totp_code_accept(authenticator=authenticator, code=code_of_step(step)), 8
    )

    assert sorted(passed) == [False] * 7 + [True]
    assert TOTPUse.objects.get(authenticator=authenticator).last_step == step
