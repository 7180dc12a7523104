"""Accounts through allauth: signup, mandatory email verification, login, MFA."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core import mail
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from apps.identity.models import User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import totp_code

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def sign_up(client, email: str):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def log_in(client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_signup_requires_email_verification_before_login(client):
    response = sign_up(client, "New.Person@Example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "new.person@example.com"
    assert user.password.startswith("argon2")
    assert not EmailAddress.objects.get(user=user).verified

    client.logout()
    blocked = log_in(client, "new.person@example.com", NEW_PASSWORD)
    assert blocked["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session

    (message,) = mail.outbox
    assert message.to == ["new.person@example.com"]
    confirm_path = re.search(r"https?://[^/]+(/accounts/confirm-email/[^/\s]+/)", message.body)[1]
    client.post(confirm_path)
    assert EmailAddress.objects.get(user=user).verified

    response = log_in(client, "NEW.PERSON@example.com", NEW_PASSWORD)
    assert response["Location"] == reverse("identity:me")
    page = client.get(reverse("identity:me"))
    assert page.status_code == 200
    assert b"new.person@example.com" in page.content


def test_signup_with_same_email_in_other_case_creates_nothing_and_tells_the_owner(client, user):
    # Enumeration protection: the page looks like success, the owner gets an email.
    response = sign_up(client, user.email.upper())

    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.count() == 1
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert "already" in message.body.lower()


def test_database_refuses_duplicate_email_in_other_case(user):
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email=user.email.upper(), password="x")])


def test_wrong_password_is_refused(client, user):
    response = log_in(client, user.email, "not-the-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def from_address(address: str) -> Client:
    """A browser at `address`, seen through the TLS proxy (X-Forwarded-For's last entry)."""
    return Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address)


def test_login_attempts_are_rate_limited(user):
    guesser = from_address("198.51.100.7")
    for _ in range(5):
        log_in(guesser, user.email, "not-the-password")

    response = log_in(guesser, user.email, PASSWORD)

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in guesser.session


def test_failed_logins_from_elsewhere_do_not_lock_the_owner_out(user, other_user):
    attacker = from_address("198.51.100.7")
    for victim in (user, other_user):  # enough to reach the attacker's per-address limit too
        for _ in range(6):
            log_in(attacker, victim.email, "not-the-password")
    owner = from_address("203.0.113.5")

    response = log_in(owner, user.email, PASSWORD)

    assert response["Location"] == reverse("identity:me")
    assert "_auth_user_id" in owner.session


def test_totp_enrolment_then_login_needs_the_code(
    client, django_capture_on_commit_callbacks, time_machine
):
    user = UserFactory()
    log_in(client, user.email, PASSWORD)
    # Turning on MFA is sensitive: allauth asks for the password again first.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()

    client.post(reverse("account_logout"))
    response = log_in(client, user.email, PASSWORD)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    time_machine.move_to(time.time() + mfa_settings.TOTP_PERIOD)  # the confirming code is used
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("identity:me")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_password_reset_sends_a_link(client, user):
    client.post(reverse("account_reset_password"), {"email": user.email})

    (message,) = mail.outbox
    assert message.to == [user.email]
    assert "/accounts/password/reset/key/" in message.body
