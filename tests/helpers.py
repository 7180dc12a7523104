"""Small readers and clients shared by tests of different apps."""

from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory


def dashboard_numbers(client) -> dict:
    """The operator dashboard's cards as {title: value}, across its sections."""
    sections = client.get("/admin/").context["kpi_sections"]
    return {card["title"]: card["value"] for section in sections for card in section["cards"]}


def staff_with(*perms: str) -> Client:
    """A signed-in staff user holding exactly `perms` ("app.codename")."""
    user = UserFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client
