"""Trust signs the operator audit log's head (apps.core.audit) each time it grows, and
exports the log with its newest signed head for offline checking
(`python -m apps.trust.verify --audit EXPORT.json`)."""

import json

from django.conf import settings

from apps.core import audit
from apps.core.models import AuditChain, AuditEvent
from apps.trust import jose, keys, selectors
from apps.trust.models import AuditCheckpoint
from apps.trust.services import signing_key_active

EXPORT_FORMAT = "geraos-audit-export/1"


def audit_origin() -> str:
    return f"{settings.GERAOS_LOG_ORIGIN}{jose.AUDIT_ORIGIN_SUFFIX}"


def sign_audit_head(*, length: int, head: str, **_signal) -> AuditCheckpoint:
    """Receives core's `audit_appended` in the appending transaction, under its lock."""
    key = signing_key_active()
    private = keys.open_private_key(key.private_key_sealed, kid=key.kid)
    origin = audit_origin()
    body = jose.checkpoint_body(origin, length, bytes.fromhex(head))
    note = jose.checkpoint_sign(body, name=origin, key=private, public_key=bytes(key.public_key))
    return AuditCheckpoint.objects.create(length=length, head=head, kid=key.kid, checkpoint=note)


def audit_export() -> dict:
    """Every event in order with its hashes, the newest signed head and the public keys."""
    events = [
        {**audit.event_document(event), "previous_hash": event.previous_hash, "hash": event.hash}
        for event in AuditEvent.objects.order_by("sequence")
    ]
    # The newest head among those signed up to the last event read: a later event may have
    # been committed meanwhile, and its head would vouch for events the export lacks.
    checkpoint = AuditCheckpoint.objects.filter(length__lte=len(events)).order_by("-length").first()
    export = {
        "format": EXPORT_FORMAT,
        "origin": audit_origin(),
        "events": events,
        "jwks": selectors.jwks(),  # every key that ever signed: heads kept from long ago too
    }
    if checkpoint is not None:
        export["checkpoint"] = checkpoint.checkpoint
    return export


def audit_export_json(*, request=None) -> str:
    """The export as a file holds it (the admin's download and `export_audit_log`). An
    operator's download is an audit event itself, appended (and committed) first so the
    export holds it; reading needs no lock, as the export's head is the one signed with
    its last event."""
    chain, _ = AuditChain.objects.get_or_create(pk=1)
    audit.record_if_operator(request=request, action="core.audit_export", obj=chain)
    return json.dumps(audit_export(), indent=2, ensure_ascii=False)
