"""Trust's operator screens: the audit log leaves the admin as an export anyone can check
offline, each download an audit event itself; rotating the signing key takes a reason."""

import json

import pytest
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
    download = reader.get(reverse(EXPORT))

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

    download = json.loads(operator_client.get(reverse(EXPORT)).content)

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
