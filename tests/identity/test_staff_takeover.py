"""No path from one staff account to another's, or to staff powers, around the second
factor (found by a security review: each case failed before its fix)."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory, make_receipt
from tests.helpers import give_totp, sign_in_with_mfa

pytestmark = pytest.mark.django_db


def test_a_signed_in_staff_member_cannot_sign_in_as_another_at_the_admin_login():
    support = UserFactory(is_staff=True)
    client = Client()
    client.post(reverse("account_login"), {"login": support.email, "password": PASSWORD})
    superuser = UserFactory(is_staff=True, is_superuser=True)
    give_totp(superuser)

    response = client.post("/admin/login/", {"username": superuser.email, "password": PASSWORD})

    assert client.session["_auth_user_id"] == str(support.pk)
    assert response.status_code == 302


def test_an_administrator_cannot_give_a_superuser_a_login_address_of_theirs():
    administrator = UserFactory(is_staff=True)
    administrator.groups.add(Group.objects.get(name="Administrator"))
    client = sign_in_with_mfa(Client(), administrator)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    pawn = UserFactory()
    moved = EmailAddress.objects.create(user=pawn, email="pawn@evil.example", verified=True)

    client.post(
        reverse("admin:account_emailaddress_add"),
        {"user": superuser.pk, "email": "mallory@evil.example", "verified": "on"},
    )
    client.post(
        reverse("admin:account_emailaddress_change", args=[moved.pk]),
        {"user": superuser.pk, "email": moved.email, "verified": "on"},
    )

    planted = ["mallory@evil.example", "pawn@evil.example"]
    assert not EmailAddress.objects.filter(user=superuser, email__in=planted).exists()


def test_staff_powers_in_the_api_need_a_session_that_passed_the_second_factor(user):
    receipt = make_receipt(user)
    compliance = UserFactory(is_staff=True)
    compliance.groups.add(Group.objects.get(name="Compliance"))
    give_totp(compliance)
    password_only = Client()
    password_only.force_login(compliance)

    refused = password_only.get(f"/api/v1/receipts/{receipt.pk}/bundle")
    allowed = sign_in_with_mfa(Client(), compliance).get(f"/api/v1/receipts/{receipt.pk}/bundle")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "mfa_required"
    assert allowed.status_code == 200
