"""The operator audit log: one append-only, hash-chained event per operator action.

    audit.record(request=request, action="payments.refund", obj=payment,
                 changes={"status": ["captured", "refunded"]}, reason="asked by the payer")

Call it inside the transaction that makes the change, so the event exists exactly when
the change does. An action on a model's whole list rather than one row (an export)
passes the model class as `obj`: the event names the model and no object id. Appends lock
the chain's head row, so events are chained one at a time; `audit_appended` is sent with
the new head while that lock is held, and trust signs it.
"""

import datetime as dt

from allauth.account.authentication import get_authentication_records
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from djmoney.money import Money
from rest_framework.throttling import BaseThrottle

from apps.core.audit_chain import DOCUMENT_FIELDS, chain_hash
from apps.core.models import AuditChain, AuditEvent
from apps.core.money import money_document
from apps.core.signals import audit_appended

# Actions on money, trust and what users consented to that an operator must give a reason for.
REASON_REQUIRED = frozenset(
    {
        "payments.refund",
        "payments.rail_disable",
        "trust.dispute_resolve",
        "trust.dispute_withdraw",
        "trust.signing_key_rotate",
        "memory.consent_revoke",
        "identity.agent_grant_revoke",
    }
)


# How a secret's change is recorded: that it changed, never its values.
SECRET_CHANGE = ("(hidden)", "(changed)")


class ReasonRequired(ValueError):
    pass


def require_reason(action: str, reason: str) -> str:
    """The reason, stripped; refused when `action` needs one and it is blank. Services whose
    outside work cannot be undone (a refund sent to a rail) check it before that work."""
    reason = reason.strip()
    if action in REASON_REQUIRED and not reason:
        raise ReasonRequired(f"{action} needs a reason.")
    return reason


@transaction.atomic
def record(
    *,
    action: str,
    obj: Model | type[Model],
    request=None,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    reason = require_reason(action, reason)
    chain, _ = AuditChain.objects.get_or_create(pk=1)
    chain = AuditChain.objects.select_for_update().get(pk=1)
    event = AuditEvent(
        sequence=chain.length + 1,
        at=timezone.now(),
        action=action,
        **_subject(obj),
        changes={
            field: [_plain(before), _plain(after)]
            for field, (before, after) in (changes or {}).items()
        },
        reason=reason,
        previous_hash=chain.head,
        **_who(request),
    )
    event.hash = chain_hash(chain.head, event_document(event))
    event.save()
    chain.length, chain.head = event.sequence, event.hash
    chain.save(update_fields=["length", "head"])
    audit_appended.send(sender=AuditEvent, length=chain.length, head=chain.head)
    return event


def record_if_operator(
    *,
    action: str,
    obj: Model,
    request,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent | None:
    """For services that users and workers call too: only an operator's call (the admin
    passes its request) is an operator action and writes an event."""
    if request is None:
        return None
    return record(action=action, obj=obj, request=request, changes=changes, reason=reason)


def event_document(event: AuditEvent) -> dict:
    """What an event's hash covers (apps.core.audit_chain), as exported."""
    values = {
        "sequence": event.sequence,
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor": event.actor_email,
        "actor_used_mfa": event.actor_used_mfa,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "reason": event.reason,
        "address": event.address or "",
        "request_id": event.request_id,
    }
    return {name: values[name] for name in DOCUMENT_FIELDS}


def _subject(obj: Model | type[Model]) -> dict:
    """The object an event is about; a model class has no id, so no object's History
    lists an event about its whole table."""
    if isinstance(obj, type):
        object_id, object_repr = "", str(obj._meta.verbose_name_plural)
    else:
        object_id, object_repr = str(obj.pk), str(obj)
    return {
        "object_type": obj._meta.label_lower,
        "object_id": object_id,
        "object_repr": object_repr[:200],
    }


def _plain(value) -> str | int | bool | None:
    """A value the chain's canonical JSON holds as it is (no floats, no objects): money as
    amount and ISO code (not a locale's symbol), other objects as their text, collections (a
    form's many-to-many choice) as one sorted line."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        document = money_document(value)
        return f"{document['amount']} {document['currency']}"
    if isinstance(value, QuerySet | list | tuple | set | frozenset):
        return ", ".join(sorted(str(item) for item in value))
    return str(value)


def _who(request) -> dict:
    if request is None:
        return {"actor": None, "actor_email": "", "actor_used_mfa": False}
    user = request.user if request.user.is_authenticated else None
    return {
        "actor": user,
        "actor_email": user.email if user else "",
        "actor_used_mfa": session_used_mfa(request),
        "address": _client_address(request),
        "request_id": getattr(request, "request_id", ""),
    }


def session_used_mfa(request) -> bool:
    """Whether the signed-in user's session passed a second factor (allauth records each
    authentication step in the session)."""
    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, request.user)
    )


def _client_address(request) -> str | None:
    """The client's address as the API's rate limits see it (proxies per NUM_PROXIES),
    written as the database will give it back (the hash must survive the round trip)."""
    address = BaseThrottle().get_ident(request)
    try:
        return AuditEvent._meta.get_field("address").to_python(address)
    except ValidationError:
        return None
