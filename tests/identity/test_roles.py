"""Operators' roles: the groups a migration ships hold the permissions the README lists,
and a staff member in one role reaches exactly that role's admin pages and actions."""

import re
import uuid
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import models, transaction
from django.test import Client
from django.urls import reverse

from apps.catalog.demo import seed as seed_catalog
from tests.admin_rows import ROWS, rails_and_rates
from tests.factories import UserFactory
from tests.helpers import give_totp, sign_in_with_mfa

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"

# What each role reaches, per admin screen: "view" (list, page and history), "add",
# "change", "delete", an action's name, or the name of another URL of the screen.
ALLOWED = {
    "Support": {
        "identity.user": {"view"},
        "account.emailaddress": {"view"},
        "identity.subscription": {"view"},
        "identity.agentgrant": {"view"},
        "dispatch.dispatchorder": {"view", "retry_step"},
        "payments.payment": {"view"},
        "trust.dispute": {"view"},
        "memory.consentgrant": {"view", "change", "revoke_on_user_request"},
    },
    "Finance": {
        "payments.payment": {"view", "refund", "export"},
        "payments.refund": {"view", "change", "export"},
        "payments.quote": {"view"},
        "exchange.rate": {"view"},
        "payments.rail": {"view", "change", "enable", "disable"},
        "payments.routingrule": {"view", "add", "change", "delete", "delete_selected", "simulate"},
        "payments.providerevent": {"view"},
    },
    "Trust & Safety": {
        "trust.dispute": {
            "view",
            "add",
            "start_review",
            "resolve_upheld",
            "resolve_refunded",
            "withdraw",
            "refund_this",
            "uphold_this",
            "withdraw_this",
            "export",
        },
        "trust.receipt": {"view", "verify", "export"},
        "trust.treehead": {"view"},
        "trust.signingkey": {"view", "rotate"},
        "identity.agentgrant": {"view", "change", "revoke"},
    },
    "Catalogue": {
        "catalog.product": {"view", "add", "change"},
        "catalog.skill": {"view", "add", "change", "publish", "suspend"},
        "catalog.provider": {"view", "add", "change", "rotate_secret"},
        "allauth_idp_oidc.client": {"view", "add", "change", "new_secret"},
    },
    "Compliance": {
        "core.auditevent": {"view", "export"},
        "trust.auditcheckpoint": {"view", "export"},
        "memory.consentgrant": {"view"},
        "memory.accesslogentry": {"view"},
        "trust.receipt": {"view", "verify", "export"},
        "trust.treehead": {"view"},
        "payments.payment": {"view", "export"},
        "payments.refund": {"view", "export"},
        "dispatch.dispatchorder": {"view", "export"},
        "trust.dispute": {"view", "export"},
    },
    "Administrator": {
        "identity.user": {"view", "add", "change", "auth_user_password_change"},
        "account.emailaddress": {"view", "add", "change"},
        "auth.group": {"view"},
        "mfa.authenticator": {"view", "delete", "delete_selected"},
        "allauth_idp_oidc.client": {"view", "add", "change", "new_secret"},
    },
}
PAGES_OF_VIEW = ("changelist", "change", "history")


def readme_roles() -> dict[str, set[str]]:
    """The README's table of each role's exact permissions."""
    text = README.read_text()
    table = text.split("<summary>Exact permissions of each role</summary>")[1]
    rows = re.findall(r"^\| ([^|]+) \| (`.+`) \|$", table.split("</details>")[0], re.MULTILINE)
    return {role: set(re.findall(r"`([a-z_]+\.[a-z_]+)`", names)) for role, names in rows}


def test_the_roles_in_the_database_are_the_readmes_table():
    groups = Group.objects.prefetch_related("permissions__content_type")

    in_database = {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in groups
    }

    assert in_database == readme_roles()
    assert set(in_database) == set(ALLOWED)


# ---------------------------------------------------------------------------
# Every admin page and action, as each role
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rows(django_db_setup, django_db_blocker) -> dict[type[models.Model], models.Model]:
    """A row of every model the admin shows (none a superuser's), made once for every
    role and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        rails_and_rates()
        seed_catalog()  # what the dispatch order is booked from
        for n, build in enumerate(ROWS.values(), start=1):
            build(n)
        yield {model: model.objects.order_by("pk").first() for model in admin.site._registry}
        transaction.set_rollback(True)


def staff_in(role: str) -> Client:
    member = UserFactory(is_staff=True)
    member.groups.add(Group.objects.get(name=role))
    return sign_in_with_mfa(Client(), member)


@pytest.mark.parametrize("role", ALLOWED)
def test_each_role_reaches_exactly_its_admin_pages_and_actions(role, rows):
    client = staff_in(role)

    reached = {
        model._meta.label_lower: verbs
        for model, model_admin in admin.site._registry.items()
        if (verbs := reached_on(client, model_admin, rows[model]))
    }

    assert reached == ALLOWED[role]
    app_pages = {
        app_label
        for app_label in {model._meta.app_label for model in admin.site._registry}
        if client.get(reverse("admin:app_list", args=[app_label])).status_code == 200
    }
    assert app_pages == {label.split(".")[0] for label in ALLOWED[role]}
    assert sidebar_links(client) == {changelist(label) for label in ALLOWED[role]}


def test_every_admin_screen_has_its_place_in_the_sidebar(operator_client):
    every_screen = {model._meta.label_lower for model in admin.site._registry}

    assert sidebar_links(operator_client) == {changelist(label) for label in every_screen}


def sidebar_links(client: Client) -> set[str]:
    sections = client.get(reverse("admin:index")).context["sidebar_navigation"]
    return {
        item["link"] for section in sections for item in section["items"] if item["has_permission"]
    }


def changelist(label: str) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_changelist")


def reached_on(client: Client, model_admin, row: models.Model) -> set[str]:
    """What `client` may do on one admin screen: each of its URLs, and each action."""
    opts = model_admin.model._meta
    responses = {
        pattern.name.removeprefix(f"{opts.app_label}_{opts.model_name}_"): client.get(
            reverse(
                f"admin:{pattern.name}", kwargs=dict.fromkeys(pattern.pattern.converters, row.pk)
            )
        )
        for pattern in model_admin.get_urls()
        if pattern.name  # the unnamed one redirects an old-style URL to the change page
    }
    let_in = {name for name, response in responses.items() if allowed(response)}
    verbs = let_in - set(PAGES_OF_VIEW)
    if let_in >= set(PAGES_OF_VIEW):
        verbs.add("view")
    elif let_in & set(PAGES_OF_VIEW):
        verbs.add(f"only {sorted(let_in & set(PAGES_OF_VIEW))} of a view")
    if "change" in let_in and responses["change"].context["has_change_permission"]:
        verbs.add("change")
    changelist = responses["changelist"]
    return verbs | actions_run(client, model_admin, changelist, row)


def allowed(response) -> bool:
    assert response.status_code in (200, 302, 403), (response.request, response.status_code)
    return response.status_code != 403


def actions_run(client: Client, model_admin, changelist, row: models.Model) -> set[str]:
    """The changelist's actions that run when posted (on a row that does not exist, so
    nothing changes), each checked against what the changelist offers."""
    offered = set()
    if changelist.status_code == 200 and changelist.context["action_form"]:
        offered = {name for name, _ in changelist.context["action_form"].fields["action"].choices}
    ran = {
        name
        for name in {"delete_selected", *model_admin.actions}
        if action_runs(client, changelist.request["PATH_INFO"], name, row)
    }
    return ran | {f"offered but refused: {name}" for name in offered - ran - {""}}


def action_runs(client: Client, url: str, action: str, row: models.Model) -> bool:
    nothing = str(uuid.uuid4()) if isinstance(row._meta.pk, models.UUIDField) else "0"
    client.cookies.pop("messages", None)  # only this answer's messages
    response = client.post(url, {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [nothing]})
    if response.status_code == 200:  # a page of the action's own, or the list once more
        return "cl" not in response.context
    return response.status_code != 403 and "No action selected." not in [
        str(message) for message in get_messages(response.wsgi_request)
    ]


# ---------------------------------------------------------------------------
# Administrators manage staff, not superusers
# ---------------------------------------------------------------------------


def test_an_administrator_cannot_make_anyone_a_superuser():
    administrator = staff_in("Administrator")
    staff = UserFactory(is_staff=True)

    form = administrator.get(reverse("admin:identity_user_change", args=[staff.pk]))

    assert form.context["has_change_permission"]
    assert "groups" in form.context["adminform"].form.fields
    assert "is_superuser" not in form.context["adminform"].form.fields


def test_an_administrator_cannot_take_over_a_superusers_account():
    administrator = staff_in("Administrator")
    superuser = UserFactory(is_staff=True, is_superuser=True)
    device = give_totp(superuser)
    address = EmailAddress.objects.get(user=superuser)

    account = administrator.get(reverse("admin:identity_user_change", args=[superuser.pk]))
    email = administrator.get(reverse("admin:account_emailaddress_change", args=[address.pk]))
    password = administrator.get(reverse("admin:auth_user_password_change", args=[superuser.pk]))
    removal = administrator.post(reverse("admin:mfa_authenticator_delete", args=[device.pk]))
    administrator.post(
        reverse("admin:mfa_authenticator_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [device.pk], "post": "yes"},
    )

    assert not account.context["has_change_permission"]
    assert not email.context["has_change_permission"]
    assert (password.status_code, removal.status_code) == (403, 403)
    assert Authenticator.objects.filter(pk=device.pk).exists()
