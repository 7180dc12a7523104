"""The second sign-in step: an authenticator app's code passes once, whatever the cache
holds, and wrong codes are limited per account and address, under a ceiling per account."""

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
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


def wrong_code() -> str:
    return f"{(int(totp_code()) + 1) % 1_000_000:06d}"


def told(response) -> str:
    return response.content.decode()


ATTACKER, OWNER = "198.51.100.7", "203.0.113.5"
TOO_MANY = "Too many failed login attempts"


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


def test_wrong_codes_from_one_address_stop_that_address(user, fresh_totp_step):
    give_totp(user)
    attacker = signed_in_with_password(user, ATTACKER)
    for _ in range(5):
        assert "Incorrect code" in told(enter_code(attacker, wrong_code()))

    refused = enter_code(attacker, totp_code())

    assert TOO_MANY in told(refused)
    assert not signed_in(attacker)


def test_wrong_codes_from_another_address_do_not_stop_the_owner(user, fresh_totp_step):
    give_totp(user)
    attacker = signed_in_with_password(user, ATTACKER)
    for _ in range(6):
        enter_code(attacker, wrong_code())
    owner = signed_in_with_password(user, OWNER)

    response = enter_code(owner, totp_code())

    assert response["Location"] == reverse("identity:me")
    assert signed_in(owner)


def test_one_address_alone_never_reaches_the_account_ceiling(user, time_machine):
    """Two hours of wrong codes from one address, as fast as it is let: 15 an hour."""
    give_totp(user)
    time_machine.move_to(time.time(), tick=False)
    guesses = 0
    for _ in range(24):
        attacker = signed_in_with_password(user, ATTACKER)
        while "Incorrect code" in told(enter_code(attacker, wrong_code())):
            guesses += 1
        time_machine.shift(5 * 60)
    owner = signed_in_with_password(user, OWNER)

    response = enter_code(owner, totp_code())

    assert guesses == 30
    assert response["Location"] == reverse("identity:me")


def test_the_account_ceiling_stops_a_guesser_spread_over_many_addresses(user, fresh_totp_step):
    give_totp(user)
    told_incorrect = 0
    for address in range(1, 13):
        guesser = signed_in_with_password(user, f"192.0.2.{address}")
        for _ in range(5):
            told_incorrect += "Incorrect code" in told(enter_code(guesser, wrong_code()))
    one_more = signed_in_with_password(user, "192.0.2.13")

    refused = enter_code(one_more, totp_code())

    assert told_incorrect == 60  # 5 from each of 12 addresses were checked
    assert TOO_MANY in told(refused)  # the 61st is not, whoever sends it
    assert not signed_in(one_more)


def test_the_owner_refused_by_the_account_ceiling_is_let_in_once_it_clears(user, time_machine):
    """Twelve addresses fill the ceiling; the owner's right codes, refused by it fifteen times
    in the hour, are not counted against the owner's own address."""
    give_totp(user)
    start = time.time() // mfa_settings.TOTP_PERIOD * mfa_settings.TOTP_PERIOD
    time_machine.move_to(start, tick=False)
    for address in range(1, 13):
        guesser = signed_in_with_password(user, f"192.0.2.{address}")
        for _ in range(5):
            enter_code(guesser, wrong_code())
    for minute in (45, 50, 55):  # five at a time: as many as five minutes let one address
        time_machine.move_to(start + minute * 60, tick=False)
        owner = signed_in_with_password(user, OWNER)
        for _ in range(5):
            assert TOO_MANY in told(enter_code(owner, totp_code()))
    time_machine.move_to(start + 61 * 60, tick=False)
    owner = signed_in_with_password(user, OWNER)

    response = enter_code(owner, totp_code())

    assert response["Location"] == reverse("identity:me")
    assert signed_in(owner)


def test_the_code_confirming_a_new_app_does_not_sign_in_after_it(
    user, django_capture_on_commit_callbacks, fresh_totp_step
):
    owner = Client()
    owner.force_login(user)
    owner.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    owner.get(reverse("mfa_activate_totp"))
    code = totp_code(owner.session[SECRET_SESSION_KEY])
    with django_capture_on_commit_callbacks(execute=True):
        activated = owner.post(reverse("mfa_activate_totp"), {"code": code})
    assert activated.status_code == 302
    onlooker = signed_in_with_password(user, ATTACKER)

    refused = enter_code(onlooker, code)

    assert "Incorrect code" in told(refused)
    assert not signed_in(onlooker)
