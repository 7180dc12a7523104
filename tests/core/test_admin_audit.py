"""Every add, change and delete made through the admin's forms is one audit event, in the
admin's transaction, and an object's History is its events."""

import pytest
from django import forms
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core.admin import _form_changes
from apps.core.models import AuditEvent
from apps.payments.models import Rail, RoutingRule

pytestmark = pytest.mark.django_db


def rule_form(rail: Rail, **changes) -> dict:
    return {
        "country": "KE",
        "currency": "",
        "min_amount": "",
        "max_amount": "",
        "priority": "5",
        "rail": rail.pk,
        "fallback_rail": "",
        **changes,
    }


def test_adding_changing_and_deleting_through_the_forms_is_one_event_each(
    operator_client, operator, catalog
):
    mpesa = Rail.objects.get(code="mpesa")
    operator_client.post(reverse("admin:payments_routingrule_add"), rule_form(mpesa))
    rule = RoutingRule.objects.get(country="KE", priority=5)
    operator_client.post(
        reverse("admin:payments_routingrule_change", args=[rule.pk]),
        rule_form(mpesa, priority="7"),
    )
    operator_client.post(
        reverse("admin:payments_routingrule_delete", args=[rule.pk]), {"post": "yes"}
    )

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.action for event in events] == [
        "payments.routingrule.add",
        "payments.routingrule.change",
        "payments.routingrule.delete",
    ]
    assert {event.object_id for event in events} == {str(rule.pk)}
    assert events[1].changes == {"priority": [5, 7]}
    assert (events[1].actor, events[1].actor_used_mfa) == (operator, True)


def test_a_secret_field_is_recorded_as_changed_never_with_its_values():
    class ProviderForm(forms.Form):
        name = forms.CharField()
        signing_secret = forms.CharField()

    form = ProviderForm(
        {"name": "Ade Plumbing Ltd", "signing_secret": "whsec_new"},
        initial={"name": "Ade Plumbing", "signing_secret": "whsec_old"},
    )
    assert form.is_valid()

    assert _form_changes(form) == {
        "name": ("Ade Plumbing", "Ade Plumbing Ltd"),
        "signing_secret": ("(hidden)", "(changed)"),
    }


def test_an_objects_history_is_its_audit_events(operator_client, catalog):
    mpesa = Rail.objects.get(code="mpesa")
    operator_client.post(reverse("admin:payments_routingrule_add"), rule_form(mpesa))
    rule = RoutingRule.objects.get(country="KE", priority=5)

    history = operator_client.get(
        reverse("admin:payments_routingrule_history", args=[rule.pk]), follow=True
    )

    assert history.context["cl"].result_count == 1
    assert "payments.routingrule.add" in history.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_delete_outside_any_transaction_writes_its_events(operator_client, catalog):
    """Django's bulk delete logs its deletions with no transaction open: the audit log
    opens its own (the chain's head is locked while an event is appended)."""
    rule = RoutingRule.objects.first()

    deleted = operator_client.post(
        reverse("admin:payments_routingrule_changelist"),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [rule.pk], "post": "yes"},
    )

    assert deleted.status_code == 302
    assert [e.action for e in AuditEvent.objects.all()] == ["payments.routingrule.delete"]
