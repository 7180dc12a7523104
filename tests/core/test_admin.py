"""The operator admin: allauth guards its door; operators get the unfold dashboard."""

import pytest
from django.urls import reverse

from apps.identity.models import User
from tests.factories import PASSWORD, UserFactory
from tests.helpers import dashboard_numbers, give_totp, staff_with, totp_code

pytestmark = pytest.mark.django_db


def test_admin_sends_anonymous_visitors_to_allauth_login(client):
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login["Location"].startswith(reverse("account_login"))


def test_operator_signs_in_through_allauth_and_sees_dashboard(client):
    operator = UserFactory(is_staff=True, is_superuser=True)
    give_totp(operator)
    client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": operator.email, "password": PASSWORD},
    )
    client.post(reverse("mfa_authenticate"), {"code": totp_code()})

    assert client.get(reverse("admin:index")).status_code == 200
    kpis = dashboard_numbers(client)
    assert kpis["Accounts"] == 1
    assert kpis["Studio subscribers"] == 0


def test_non_operator_is_refused(user_client):
    response = user_client.get(reverse("admin:index"), follow=True)

    assert response.status_code == 403


def test_user_changelist_and_change_form_render(operator_client, user):
    changelist = operator_client.get(reverse("admin:identity_user_changelist") + "?q=" + user.email)
    change = operator_client.get(reverse("admin:identity_user_change", args=[user.pk]))

    assert changelist.status_code == 200
    assert user.email in changelist.content.decode()
    assert change.status_code == 200


def test_operator_creates_user_with_lowercased_email(operator_client):
    response = operator_client.post(
        reverse("admin:identity_user_add"),
        {"email": "New.Operator@Gera.Example", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.filter(email="new.operator@gera.example").exists()


def dashboard_sections(*perms: str) -> list[str]:
    client = staff_with(*perms)
    return [section["title"] for section in client.get("/admin/").context["kpi_sections"]]


def test_dashboard_shows_staff_only_the_numbers_of_apps_they_may_view():
    assert dashboard_sections() == []
    assert dashboard_sections("payments.view_payment") == [
        "Money (GBP)",
        "Payment rails",
        "Money to look at",
    ]
    assert dashboard_sections("identity.view_user", "dispatch.view_dispatchorder") == [
        "Dispatch",
        "Identity",
    ]
