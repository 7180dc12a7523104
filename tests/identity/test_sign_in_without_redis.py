"""Signing in to the web pages with Redis really stopped: the limits on guessing a password
or a code keep counting, in PostgreSQL; allauth's other limits admit unchecked (logged, and
counted on /healthz); and the TOTP replay guard, which is not a rate limit, holds in the
database."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.core import cache as fail_open_cache
from tests.factories import PASSWORD, UserFactory
from tests.helpers import give_totp, totp_code

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


def log_in(client: Client, email: str, password: str = PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password, **extra})


def test_with_redis_stopped_a_password_signs_in_and_the_unchecked_limits_are_counted(
    client, user, redis_stopped, caplog
):
    before = fail_open_cache.admitted_unchecked()

    response = log_in(client, user.email)

    assert response["Location"] == reverse("identity:me")
    assert client.get(reverse("identity:me")).status_code == 200
    assert "rate_limit.fail_open" in caplog.text
    health = Client().get("/healthz")
    assert health.status_code == 503
    # The login form's limit per address; the failed sign-ins' are kept in PostgreSQL.
    assert health.json()["sign_in_rate_limit"]["admitted_unchecked"] == before + 1


def test_with_redis_stopped_staff_sign_in_to_the_admin_with_password_and_code(
    client, redis_stopped, fresh_totp_step
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    give_totp(staff)
    (*_, (sign_in_page, _)) = client.get("/admin/", follow=True).redirect_chain
    assert sign_in_page.startswith(reverse("account_login"))
    before = fail_open_cache.admitted_unchecked()

    password = log_in(client, staff.email, next="/admin/")
    code = client.post(reverse("mfa_authenticate"), {"code": totp_code()})

    assert password["Location"] == reverse("mfa_authenticate")
    assert code["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Only the login form's limit went unchecked: the password's and the code's (identity.
    # two_factor's) limits were kept in PostgreSQL.
    assert fail_open_cache.admitted_unchecked() == before + 1


def test_with_redis_stopped_wrong_passwords_from_one_address_stop_after_five(
    client, user, redis_stopped
):
    for _ in range(5):
        assert log_in(client, user.email, "not-the-password").status_code == 200  # refused

    refused = log_in(client, user.email)

    assert TOO_MANY in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_redis_stopped_wrong_codes_from_one_address_stop_after_five(
    client, user, redis_stopped, fresh_totp_step
):
    give_totp(user)
    assert log_in(client, user.email)["Location"] == reverse("mfa_authenticate")
    wrong = f"{(int(totp_code()) + 1) % 1_000_000:06d}"
    for _ in range(5):
        told = client.post(reverse("mfa_authenticate"), {"code": wrong}).content.decode()
        assert "Incorrect code" in told

    refused = client.post(reverse("mfa_authenticate"), {"code": totp_code()})

    assert TOO_MANY in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_totp_code_used_before_redis_stopped_does_not_sign_in_again_while_it_is_down(
    user, stop_redis, fresh_totp_step
):
    give_totp(user)
    code = totp_code()
    first = Client()
    log_in(first, user.email)
    assert first.post(reverse("mfa_authenticate"), {"code": code})["Location"] == reverse(
        "identity:me"
    )
    stop_redis()
    replay = Client()

    assert log_in(replay, user.email)["Location"] == reverse("mfa_authenticate")
    response = replay.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in replay.session
