"""The operator audit log: one chained event per action, signed heads, append-only in the
database, and an offline check that catches an insider editing it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from apps.core import audit
from apps.core.audit_chain import GENESIS, chain_hash
from apps.core.models import AuditChain, AuditEvent
from apps.payments.models import Payment
from apps.trust import jose
from apps.trust import selectors as trust_selectors
from apps.trust import services as trust_services
from apps.trust.audit import audit_export
from apps.trust.models import AuditCheckpoint
from apps.trust.verify import verify_audit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def operator_request(operator, *, used_mfa: bool = False):
    request = RequestFactory().post("/admin/", REMOTE_ADDR="203.0.113.7")
    request.user = operator
    request.session = {  # as allauth records a sign-in
        "account_authentication_methods_user": str(operator.pk),
        "account_authentication_methods": [{"method": "password", "at": 1}]
        + ([{"method": "mfa", "type": "totp", "at": 2}] if used_mfa else []),
    }
    request.request_id = "req-0123456789"
    return request


def two_events(operator):
    first = audit.record(
        request=operator_request(operator, used_mfa=True),
        action="payments.refund",
        obj=operator,
        changes={"status": ("captured", "refunded")},
        reason="the payer asked",
    )
    second = audit.record(action="catalog.skill_publish", obj=operator)
    return first, second


def test_events_chain_one_after_another_and_each_head_is_signed(operator):
    first, second = two_events(operator)

    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash == GENESIS
    assert first.hash == chain_hash(GENESIS, audit.event_document(first))
    assert second.previous_hash == first.hash
    assert AuditChain.objects.get().head == second.hash
    heads = list(AuditCheckpoint.objects.order_by("length").values_list("length", "head"))
    assert heads == [(1, first.hash), (2, second.hash)]


def test_an_event_records_who_from_where_what_changed_and_why(operator):
    first, second = two_events(operator)

    assert (first.actor, first.actor_email, first.actor_used_mfa) == (
        operator,
        operator.email,
        True,
    )
    assert (first.address, first.request_id) == ("203.0.113.7", "req-0123456789")
    assert first.changes == {"status": ["captured", "refunded"]}
    assert (first.object_type, first.object_id) == ("identity.user", str(operator.pk))
    assert (second.actor, second.actor_email, second.reason) == (None, "", "")


def test_money_and_trust_actions_need_a_reason_and_without_one_nothing_is_written(operator):
    with pytest.raises(audit.ReasonRequired):
        audit.record(request=operator_request(operator), action="payments.refund", obj=operator)

    assert not AuditEvent.objects.exists()
    assert not AuditCheckpoint.objects.exists()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE core_auditevent SET reason = 'nothing happened'", "DELETE FROM core_auditevent"],
)
def test_the_database_refuses_to_edit_or_delete_an_event(operator, statement):
    two_events(operator)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(statement)


def offline_verify(tmp_path, export: dict, *kept: str) -> subprocess.CompletedProcess:
    export_file = tmp_path / "audit.json"
    export_file.write_text(json.dumps(export))
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(trust_selectors.jwks()))  # the published keys, pinned
    args = [sys.executable, "-m", "apps.trust.verify", "--audit", str(export_file)]
    args += ["--jwks", str(jwks_file)]
    for number, note in enumerate(kept):
        kept_file = tmp_path / f"kept-{number}.note"
        kept_file.write_text(note)
        args += ["--checkpoint", str(kept_file)]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603


def edit_behind_the_trigger(statement: str, *params) -> None:
    """What an insider with database access could do."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers off
        cursor.execute(statement, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_the_offline_check_accepts_the_log_as_written(operator, tmp_path):
    two_events(operator)

    checked = offline_verify(tmp_path, audit_export())

    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("valid: 2 audit events of geraos.example/receipts/audit")


def test_an_event_about_a_whole_model_names_it_without_an_id_and_verifies_offline(
    operator, tmp_path
):
    two_events(operator)
    export = audit.record(
        request=operator_request(operator),
        action="payments.payment.export",
        obj=Payment,
        changes={"rows": (None, 3)},
    )

    checked = offline_verify(tmp_path, audit_export())

    assert (export.object_type, export.object_id, export.object_repr) == (
        "payments.payment",
        "",
        "payments",
    )
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("valid: 3 audit events")


def test_an_event_edited_in_the_database_is_caught_offline(operator, tmp_path):
    first, _ = two_events(operator)
    edit_behind_the_trigger("UPDATE core_auditevent SET reason = %s WHERE id = %s", "", first.pk)

    checked = offline_verify(tmp_path, audit_export())

    assert (checked.returncode, checked.stdout.strip()) == (
        1,
        "invalid: event 1 was altered after it was written",
    )


def test_a_rewritten_chain_is_caught_by_the_signed_head(operator):
    first, second = two_events(operator)
    export = audit_export()
    # The insider rewrites event 1 and recomputes every hash after it: the chain holds,
    # but trust signed the old head.
    events = export["events"]
    events[0]["reason"] = ""
    events[0]["hash"] = chain_hash(GENESIS, {k: events[0][k] for k in audit.event_document(first)})
    events[1]["previous_hash"] = events[0]["hash"]
    events[1]["hash"] = chain_hash(
        events[0]["hash"], {k: events[1][k] for k in audit.event_document(second)}
    )

    with pytest.raises(jose.VerificationError, match="rewritten before event 2"):
        verify_audit(export, trust_selectors.jwks())


def test_events_removed_from_the_end_are_caught_by_a_head_kept_from_before(operator):
    two_events(operator)
    kept = AuditCheckpoint.objects.get(length=2).checkpoint
    export = audit_export()
    export["events"] = export["events"][:1]
    export["checkpoint"] = AuditCheckpoint.objects.get(length=1).checkpoint

    assert verify_audit(export, trust_selectors.jwks()) == 1  # consistent on its own...
    with pytest.raises(jose.VerificationError, match="events after 1 were removed"):
        verify_audit(export, trust_selectors.jwks(), (kept,))  # ...but not what an auditor kept


def test_an_empty_log_verifies_unless_an_auditor_kept_a_head_of_it(operator):
    two_events(operator)
    kept = AuditCheckpoint.objects.get(length=2).checkpoint
    emptied = {**audit_export(), "events": []}
    del emptied["checkpoint"]

    assert verify_audit(emptied, trust_selectors.jwks()) == 0
    with pytest.raises(jose.VerificationError, match="events after 0 were removed"):
        verify_audit(emptied, trust_selectors.jwks(), (kept,))


def test_events_without_a_signed_head_are_refused(operator):
    two_events(operator)
    export = audit_export()
    del export["checkpoint"]

    with pytest.raises(jose.VerificationError, match="no signed head"):
        verify_audit(export, trust_selectors.jwks())


def test_a_head_signed_by_an_unpublished_key_is_refused(operator):
    two_events(operator)
    export = audit_export()

    with pytest.raises(jose.VerificationError, match="not signed by a published key"):
        verify_audit(export, {"keys": []})


def test_the_audit_log_is_read_only_in_the_admin_even_for_a_superuser(operator, operator_client):
    first, _ = two_events(operator)

    listed = operator_client.get("/admin/core/auditevent/")
    shown = operator_client.get(f"/admin/core/auditevent/{first.pk}/change/")

    assert listed.status_code == 200
    assert "payments.refund" in listed.content.decode()
    assert shown.status_code == 200
    assert b'name="_save"' not in shown.content
    assert operator_client.post(f"/admin/core/auditevent/{first.pk}/delete/").status_code == 403
    assert operator_client.get("/admin/core/auditevent/add/").status_code == 403


def test_every_response_carries_a_request_id_and_keeps_a_sane_one_it_was_given():
    given = Client().get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a9c21")
    made = Client().get("/healthz", HTTP_X_REQUEST_ID="no spaces allowed here")

    assert given["X-Request-ID"] == "edge-7f3a9c21"
    assert len(made["X-Request-ID"]) == 32


def test_an_ipv4_mapped_client_address_survives_the_round_trip(operator):
    request = operator_request(operator)
    request.META["REMOTE_ADDR"] = "::ffff:203.0.113.7"
    audit.record(request=request, action="catalog.skill_publish", obj=operator)

    assert verify_audit(audit_export(), trust_selectors.jwks()) == 1


def test_events_after_the_exported_signed_head_are_not_vouched_for(operator):
    audit.record(action="catalog.skill_publish", obj=operator)
    last = audit.record(action="catalog.skill_suspend", obj=operator, reason="the truth")
    forged = {**audit.event_document(last), "reason": "a lie"}
    edit_behind_the_trigger(
        "UPDATE core_auditevent SET reason = %s, hash = %s WHERE id = %s",
        "a lie",
        chain_hash(last.previous_hash, forged),
        last.pk,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM trust_auditcheckpoint WHERE length = 2")
        cursor.execute("SET session_replication_role = DEFAULT")

    with pytest.raises(jose.VerificationError, match="not signed"):
        verify_audit(audit_export(), trust_selectors.jwks())


def test_a_head_kept_from_before_a_key_rotation_still_verifies(operator):
    audit.record(action="catalog.skill_publish", obj=operator)
    kept = AuditCheckpoint.objects.get(length=1).checkpoint
    trust_services.signing_key_rotate()
    audit.record(action="catalog.skill_suspend", obj=operator)

    assert verify_audit(audit_export(), trust_selectors.jwks(), (kept,)) == 2
