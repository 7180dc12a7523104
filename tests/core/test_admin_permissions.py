"""Operator actions need their model permission, not just a staff login: Django runs any
action a changelist offers, and unfold's URL actions check only that the user is staff."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from apps.catalog import services as catalog_services
from apps.catalog.demo import seed as seed_catalog
from apps.catalog.models import Provider, Skill
from apps.core import audit
from apps.core.models import AuditEvent
from apps.identity.models import User
from apps.memory import services as memory_services
from apps.memory.models import MemoryScope
from apps.payments import fx
from apps.payments import lifecycle as payment_lifecycle
from apps.payments.models import Payment, Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from apps.trust import refunds
from apps.trust import services as trust_services
from apps.trust.models import Dispute, SigningKey
from tests.factories import make_grant, make_payment, make_receipt, product, refund_in_full
from tests.helpers import staff_with

pytestmark = pytest.mark.django_db

UNFOLD_ACTION_LISTS = ["actions_list", "actions_detail", "actions_row", "actions_submit_line"]


@pytest.fixture(autouse=True)
def rails_catalogue_and_refunds(db, monkeypatch):
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed_catalog()
    # Resolving a dispute as refunded asks the payments app; record instead.
    monkeypatch.setattr(refunds, "_handler", lambda **asked: refund_in_full("re_recorded"))


# ---------------------------------------------------------------------------
# Changelist actions
# ---------------------------------------------------------------------------


def a_disabled_rail() -> Rail:
    Rail.objects.filter(code="mpesa").update(enabled=False)
    return Rail.objects.get(code="mpesa")


def a_skill(status: str) -> Skill:
    skill = Skill.objects.create(
        product=product("gerahome"),
        capability=f"home.{status}",
        title="Test",
        description="d",
        input_schema={"type": "object"},
        price_from=10,
        countries=["GB"],
        cities=["London"],
    )
    return catalog_services.skill_publish(skill=skill) if status == "published" else skill


def a_captured_payment(owner: User) -> Payment:
    payment = make_payment(owner)
    payment_lifecycle.payment_authorize(payment_id=payment.pk)
    return payment_lifecycle.payment_capture(payment_id=payment.pk)


def an_open_dispute(owner: User) -> Dispute:
    return trust_services.dispute_open(
        receipt=make_receipt(owner), opened_by="buyer", reason="not_delivered"
    )


def a_consent(owner: User):
    return memory_services.consent_set(
        user=owner,
        product=product("geraclinic"),
        scope=MemoryScope.objects.get(code="health"),
        allow=True,
    )


@dataclass(frozen=True)
class Case:
    changelist: str  # "app_model", as in the admin's URL names
    action: str
    view_perm: str
    action_perm: str
    subject: Callable[[User], Model]
    happened: Callable[[Model, Model], bool]  # (before, after) -> did the action act?


CASES = [
    Case(
        "payments_rail",
        "disable",
        "payments.view_rail",
        "payments.change_rail",
        lambda _: Rail.objects.get(code="mpesa"),
        lambda _, rail: not rail.enabled,
    ),
    Case(
        "payments_rail",
        "enable",
        "payments.view_rail",
        "payments.change_rail",
        lambda _: a_disabled_rail(),
        lambda _, rail: rail.enabled,
    ),
    Case(
        "payments_payment",
        "refund",
        "payments.view_payment",
        "payments.refund_payment",
        a_captured_payment,
        lambda _, payment: payment.status == Payment.Status.REFUNDED,
    ),
    Case(
        "catalog_skill",
        "publish",
        "catalog.view_skill",
        "catalog.change_skill",
        lambda _: a_skill("draft"),
        lambda _, skill: skill.status == Skill.Status.PUBLISHED,
    ),
    Case(
        "catalog_skill",
        "suspend",
        "catalog.view_skill",
        "catalog.change_skill",
        lambda _: a_skill("published"),
        lambda _, skill: skill.status == Skill.Status.SUSPENDED,
    ),
    Case(
        "catalog_provider",
        "rotate_secret",
        "catalog.view_provider",
        "catalog.rotate_provider_secret",
        lambda _: Provider.objects.first(),
        lambda before, after: after.shared_secret_sealed != before.shared_secret_sealed,
    ),
    Case(
        "trust_dispute",
        "start_review",
        "trust.view_dispute",
        "trust.resolve_dispute",
        an_open_dispute,
        lambda _, dispute: dispute.status == Dispute.Status.UNDER_REVIEW,
    ),
    Case(
        "trust_dispute",
        "resolve_upheld",
        "trust.view_dispute",
        "trust.resolve_dispute",
        an_open_dispute,
        lambda _, dispute: dispute.status == Dispute.Status.RESOLVED_UPHELD,
    ),
    Case(
        "trust_dispute",
        "resolve_refunded",
        "trust.view_dispute",
        "trust.resolve_dispute",
        an_open_dispute,
        lambda _, dispute: dispute.status == Dispute.Status.RESOLVED_REFUNDED,
    ),
    Case(
        "trust_dispute",
        "withdraw",
        "trust.view_dispute",
        "trust.resolve_dispute",
        an_open_dispute,
        lambda _, dispute: dispute.status == Dispute.Status.WITHDRAWN,
    ),
    Case(
        "identity_agentgrant",
        "revoke",
        "identity.view_agentgrant",
        "identity.change_agentgrant",
        lambda owner: make_grant(owner)[0],
        lambda _, grant: grant.is_revoked,
    ),
    Case(
        "memory_consentgrant",
        "revoke_on_user_request",
        "memory.view_consentgrant",
        "memory.change_consentgrant",
        a_consent,
        lambda _, consent: not consent.can_read,
    ),
]


def run_action(client: Client, case: Case, subject: Model):
    # A reason, for the actions that ask one (ignored by the others).
    chosen = {"action": case.action, ACTION_CHECKBOX_NAME: [str(subject.pk)], "reason": "test"}
    return client.post(reverse(f"admin:{case.changelist}_changelist"), chosen, follow=True)


def offered_actions(client: Client, case: Case) -> set[str]:
    response = client.get(reverse(f"admin:{case.changelist}_changelist"))
    assert response.status_code == 200
    action_form = response.context["action_form"]
    return {name for name, _ in action_form.fields["action"].choices} if action_form else set()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.changelist}.{case.action}")
def test_staff_who_may_only_view_is_neither_offered_nor_able_to_run_the_action(case, user):
    subject = case.subject(user)
    viewer = staff_with(case.view_perm)

    offered = offered_actions(viewer, case)
    response = run_action(viewer, case, subject)

    assert case.action not in offered
    assert not case.happened(subject, type(subject).objects.get(pk=subject.pk))
    assert "gps_" not in response.content.decode()  # no provider secret shown


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.changelist}.{case.action}")
def test_staff_with_the_actions_permission_runs_it(case, user):
    subject = case.subject(user)
    operator = staff_with(case.view_perm, case.action_perm)

    offered = offered_actions(operator, case)
    run_action(operator, case, subject)

    assert case.action in offered
    assert case.happened(subject, type(subject).objects.get(pk=subject.pk))


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.changelist}.{case.action}")
def test_every_action_is_one_audit_event_about_its_object_with_the_reason_given(case, user):
    subject = case.subject(user)
    operator = staff_with(case.view_perm, case.action_perm)

    run_action(operator, case, subject)

    [event] = AuditEvent.objects.all()
    assert (event.object_type, event.object_id) == (subject._meta.label_lower, str(subject.pk))
    assert event.action not in audit.REASON_REQUIRED or event.reason == "test"


# ---------------------------------------------------------------------------
# unfold URL actions
# ---------------------------------------------------------------------------


def test_routing_simulation_needs_the_view_permission():
    simulate = reverse("admin:payments_routingrule_simulate") + "?country=KE&amount=50"

    refused = staff_with().get(simulate)
    allowed = staff_with("payments.view_routingrule").get(simulate, follow=True)

    assert refused.status_code == 403
    assert allowed.status_code == 200
    assert "KE" in allowed.content.decode()


def test_rotating_the_signing_key_needs_its_permission(user):
    make_receipt(user)
    active = SigningKey.objects.get(status=SigningKey.Status.ACTIVE)
    rotate = reverse("admin:trust_signingkey_rotate")
    viewer = staff_with("trust.view_signingkey")

    changelist = viewer.get(reverse("admin:trust_signingkey_changelist"))
    asked = viewer.get(rotate)
    posted = viewer.post(rotate, {"reason": "yearly rotation"})

    assert rotate not in changelist.content.decode()
    assert (asked.status_code, posted.status_code) == (403, 403)
    assert SigningKey.objects.get(status=SigningKey.Status.ACTIVE) == active

    rotator = staff_with("trust.view_signingkey", "trust.rotate_signingkey")

    assert rotate in rotator.get(reverse("admin:trust_signingkey_changelist")).content.decode()
    assert rotator.post(rotate, {"reason": "yearly rotation"}).status_code == 302
    assert SigningKey.objects.get(status=SigningKey.Status.ACTIVE) != active


# ---------------------------------------------------------------------------
# Safety net
# ---------------------------------------------------------------------------


def test_every_admin_action_declares_the_permission_it_needs():
    undeclared = [
        f"{type(model_admin).__name__}.{name}"
        for model_admin in admin.site._registry.values()
        for name in declared_actions(model_admin)
        if not getattr(getattr(model_admin, name), "allowed_permissions", None)
    ]

    assert undeclared == []


def declared_actions(model_admin) -> list[str]:
    names = [name for name in model_admin.actions or [] if isinstance(name, str)]
    for attribute in UNFOLD_ACTION_LISTS:
        names += model_admin._extract_action_names(getattr(model_admin, attribute, None))
    return names
