"""Signing in to the web pages with Redis really stopped: allauth's rate limits admit
unchecked (logged, and counted on /healthz), and the TOTP replay guard, which is not a
rate limit, holds in the database."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.core import cache as fail_open_cache
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


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
    # The login form's limit per address, and the failed sign-ins' per address and account.
    assert health.json()["sign_in_rate_limit"]["admitted_unchecked"] == before + 3
