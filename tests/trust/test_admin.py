"""Trust's operator screens: the audit log leaves the admin as an export anyone can check
offline, each download an audit event itself; rotating the signing key takes a reason."""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from apps.core import audit
from apps.trust import selectors, services
from apps.trust.models import SigningKey
from apps.trust.verify import verify_audit
from tests.helpers import audit_trail, staff_with

pytestmark = pytest.mark.django_db

EXPORT = "admin:trust_auditcheckpoint_export"


def test_who_reads_the_audit_log_downloads_it_and_the_download_verifies_offline(user):
    audit.record(action="catalog.skill_publish", obj=user)
    audit.record(action="payments.refund", obj=user, reason="the payer asked")
    reader = staff_with("core.view_auditevent", "trust.view_auditcheckpoint")

    listed = reader.get(reverse("admin:trust_auditcheckpoint_changelist"))
    download = reader.post(reverse(EXPORT))

    assert reverse(EXPORT) in listed.content.decode()
    assert download["Content-Disposition"].startswith('attachment; filename="audit-')
    assert (
        verify_audit(json.loads(download.content), selectors.jwks()) == 3
    )  # the download's own event too


def test_who_sees_only_the_signed_heads_does_not_download_the_events():
    heads_only = staff_with("trust.view_auditcheckpoint")

    listed = heads_only.get(reverse("admin:trust_auditcheckpoint_changelist"))

    assert reverse(EXPORT) not in listed.content.decode()
    assert heads_only.get(reverse(EXPORT)).status_code == 403


def test_downloading_the_audit_log_is_an_audit_event_that_the_download_holds(
    operator_client, operator, user
):
    audit.record(action="catalog.skill_publish", obj=user)

    asked = operator_client.get(reverse(EXPORT))
    download = json.loads(operator_client.post(reverse(EXPORT)).content)

    assert "Download the audit log?" in asked.content.decode()  # a GET writes nothing
    assert audit_trail()[1:] == [("core.audit_export", "core.auditchain:1", {}, "", operator)]
    assert download["events"][-1]["action"] == "core.audit_export"
    assert verify_audit(download, selectors.jwks()) == 2


def test_rotating_the_signing_key_takes_a_reason_and_is_one_audit_event(operator_client, operator):
    retiring = services.signing_key_active()
    rotate = reverse("admin:trust_signingkey_rotate")

    asked = operator_client.get(rotate).content.decode()
    unexplained = operator_client.post(rotate, {"reason": "  "})
    still_active = SigningKey.objects.get(status=SigningKey.Status.ACTIVE)
    operator_client.post(rotate, {"reason": "a backup of the key was exposed"})

    assert 'name="reason"' in asked
    assert (unexplained.status_code, still_active) == (200, retiring)
    active = SigningKey.objects.get(status=SigningKey.Status.ACTIVE)
    assert audit_trail() == [
        (
            "trust.signing_key_rotate",
            f"trust.signingkey:{active.pk}",
            {"active_key": [retiring.kid, active.kid]},
            "a backup of the key was exposed",
            operator,
        )
    ]


def operator_request(operator):
    """What the admin hands a service: the operator, signed in with a second factor."""
    request = RequestFactory().post("/admin/", REMOTE_ADDR="203.0.113.7")
    request.user = operator
    request.session = {}
    request.request_id = "req-1"
    return request


@pytest.mark.django_db(transaction=True)
def test_two_rotations_at_once_each_record_the_key_they_retired(operator):
    first = services.signing_key_active()
    first_made, release, made = threading.Event(), threading.Event(), {}

    def rotate_and_hold(name: str, reason: str, hold: bool):
        try:
            with transaction.atomic():
                made[name] = services.signing_key_rotate(
                    request=operator_request(operator), reason=reason
                )
                if hold:
                    first_made.set()
                    release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=rotate_and_hold, args=("b", "one", True))
    holder.start()
    first_made.wait(10)
    waiter = threading.Thread(target=rotate_and_hold, args=("c", "two", False))
    waiter.start()
    waiter.join(0.5)  # it waits on the first rotation's lock
    release.set()
    holder.join()
    waiter.join()

    assert SigningKey.objects.filter(status=SigningKey.Status.ACTIVE).get() == made["c"]
    assert [changes for action, _, changes, _, _ in audit_trail()] == [
        {"active_key": [first.kid, made["b"].kid]},
        {"active_key": [made["b"].kid, made["c"].kid]},
    ]


@pytest.mark.django_db(transaction=True)
def test_an_export_read_while_an_event_is_appended_still_verifies(user, monkeypatch, tmp_path):
    audit.record(action="catalog.skill_publish", obj=user)
    read_event, acted = audit.event_document, []

    def read_while_another_operator_acts(event):
        if not acted:  # once, on the export's first read (the append reads events too)
            acted.append(event)
            appending = threading.Thread(target=append_elsewhere, args=(event,))
            appending.start()
            appending.join(10)
        return read_event(event)

    def append_elsewhere(event):
        audit.record(action="catalog.skill_publish", obj=event)
        connection.close()

    monkeypatch.setattr(audit, "event_document", read_while_another_operator_acts)
    out = tmp_path / "audit.json"
    call_command("export_audit_log", out=str(out))

    assert len(acted) == 1
    assert verify_audit(json.loads(out.read_text()), selectors.jwks()) == 1
