"""Memory writes: items (encrypted), consent, the access log, export and erasure.
Every read by a product goes through `memory_read`, which applies the policy and logs."""

import datetime as dt
import json
import uuid
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.catalog.models import Product
from apps.core import audit, sealing
from apps.core.errors import ApplicationError, NotFoundError
from apps.identity import services as identity_services
from apps.identity.models import AgentGrant, Feature, User
from apps.memory import crypto, policy, selectors
from apps.memory.errors import ConsentRequired, ValueTooLarge
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem, MemoryScope

CONVERSATIONS_SCOPE = "conversations"
# Memory is context for agents, not storage: a value larger than this is refused.
MAX_VALUE_BYTES = 16 * 1024


def _log(*, user, product=None, grant=None, scope=None, action, items=(), purpose="", allowed):
    AccessLogEntry.objects.create(
        user=user,
        product=product,
        agent_grant=grant,
        scope=scope,
        action=action,
        item_ids=[item.pk for item in items],
        purpose=purpose[:200],
        allowed=allowed,
    )


@contextmanager
def _refusals_logged(entry: dict):
    """A refused read or write is logged (where the user sees it), then raised."""
    try:
        yield
    except ConsentRequired:
        _log(**entry, allowed=False)
        raise


# ---------------------------------------------------------------------------
# Products reading and writing
# ---------------------------------------------------------------------------


def memory_read(
    *,
    user: User,
    product: Product,
    scope: MemoryScope,
    grant: AgentGrant | None = None,
    purpose: str = "",
) -> list[MemoryItem]:
    """The items `product` may see in `scope`, decrypted (`item.value`); logged either way."""
    access, entry = _read_access(
        user=user, product=product, scope=scope, grant=grant, purpose=purpose
    )
    items = selectors.memory_items_readable(user=user, scope=scope, writer_ids=access.writer_ids)
    _log(**entry, items=items, allowed=True)
    return items


def memory_check_read(
    *,
    user: User,
    product: Product,
    scope_codes: list[str],
    grant: AgentGrant | None = None,
    purpose: str = "",
) -> None:
    """Refuse, logged, unless `product` may read every one of the scopes. Called before an
    action that will need them starts, so a refusal comes before any money moves."""
    for code in scope_codes:
        scope = selectors.memory_scope_get(code=code)
        if scope is None:
            raise ApplicationError(f"Unknown memory scope {code!r}.", code="unknown_scope")
        _read_access(user=user, product=product, scope=scope, grant=grant, purpose=purpose)


def _read_access(*, user, product, scope, grant, purpose) -> tuple[policy.ReadAccess, dict]:
    """The policy's answer to a read, and the log entry describing it; a refusal is
    logged, then raised."""
    entry = {
        "user": user,
        "product": product,
        "grant": grant,
        "scope": scope,
        "action": "read",
        "purpose": purpose,
    }
    with _refusals_logged(entry):
        return policy.read_access(user=user, product=product, scope=scope), entry


def memory_write(
    *,
    user: User,
    product: Product,
    scope: MemoryScope,
    kind: str,
    key: str,
    value,
    grant: AgentGrant | None = None,
    expires_at: dt.datetime | None = None,
    purpose: str = "",
) -> MemoryItem:
    """Create or replace the item `product` keeps under `key` in `scope`."""
    entry = {
        "user": user,
        "product": product,
        "grant": grant,
        "scope": scope,
        "action": "write",
        "purpose": purpose,
    }
    with _refusals_logged(entry):
        policy.check_write(user=user, product=product, scope=scope)
    _require_fitting(value)
    place = {"user": user, "scope": scope, "product": product}
    with transaction.atomic():
        item = _store_item(place=place, key=key, kind=kind, value=value, expires_at=expires_at)
        _log(**entry, items=[item], allowed=True)
    return item


def _store_item(*, place: dict, key: str, kind: str, value, expires_at) -> MemoryItem:
    """Replace the item kept under `key` in `place`, or create it; only a new item takes a
    place in the plan's quota."""
    contents = {"key": key, "kind": kind, "value": value, "expires_at": expires_at}
    found = selectors.memory_items_under_key(**place, key=key).select_for_update(of=("self",))
    item = found.first()
    if item is not None:
        return _save_item(item, **contents)
    try:
        with transaction.atomic():
            identity_services.require_entitlement(user=place["user"], feature=Feature.MEMORY_ITEMS)
            return _save_item(MemoryItem(**place), **contents)
    except IntegrityError:
        # A concurrent write created the same key first (its quota place stands, ours was
        # rolled back): replace its value, as a write just after it would.
        return _save_item(found.get(), **contents)


def _save_item(item: MemoryItem, *, key: str, kind: str, value, expires_at) -> MemoryItem:
    item.kind = kind
    item.expires_at = expires_at
    item.key_hash = crypto.key_hash(user_id=item.user_id, key=key)
    if item.pk is None:
        item.save()  # the seals are bound to the item's id, which inserting it gives
    _seal_key(item, key)
    _seal(item, value)
    item.save()
    return item


def memory_append_summary(
    *,
    user: User,
    product: Product,
    summary: str,
    grant: AgentGrant | None = None,
    purpose: str = "",
) -> MemoryItem:
    """Add a conversation summary; each one is its own item, keyed by when it was made
    (and a random suffix, so two made in the same microsecond stay two)."""
    scope = MemoryScope.objects.get(code=CONVERSATIONS_SCOPE)
    return memory_write(
        user=user,
        product=product,
        scope=scope,
        kind=MemoryItem.Kind.CONVERSATION_SUMMARY,
        key=f"summary-{timezone.now():%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:12]}",
        value={"summary": summary},
        grant=grant,
        purpose=purpose or "conversation summary",
    )


def _require_fitting(value) -> None:
    """On the way in only: re-encrypting a value stored before the cap must still work."""
    if len(json.dumps(value, separators=(",", ":")).encode()) > MAX_VALUE_BYTES:
        raise ValueTooLarge(f"A memory value may take at most {MAX_VALUE_BYTES} bytes as JSON.")


def _seal_key(item: MemoryItem, key: str) -> None:
    item.key_sealed = crypto.encrypt_value(key, context=item.key_context)
    item.key = key


def _seal(item: MemoryItem, value) -> None:
    item.value_encrypted = crypto.encrypt_value(value, context=item.encryption_context)
    item.value = value


# ---------------------------------------------------------------------------
# The user managing their own memory (pages)
# ---------------------------------------------------------------------------


@transaction.atomic
def memory_item_update_value(*, user: User, item: MemoryItem, value) -> MemoryItem:
    if item.user_id != user.pk:
        raise NotFoundError("No such memory item.")
    _require_fitting(value)
    _seal(item, value)
    item.save(update_fields=["value_encrypted", "updated_at"])
    return item


@transaction.atomic
def memory_item_delete(
    *, user: User, item: MemoryItem, purpose: str = "deleted at the user's request"
) -> None:
    """Delete one item (the user's right to erasure), recorded in the access log."""
    if item.user_id != user.pk:
        raise NotFoundError("No such memory item.")
    # Deleting an item already gone (a double submit) deletes nothing and gives back nothing.
    deleted, _ = MemoryItem.objects.filter(pk=item.pk, user=user).delete()
    identity_services.release_entitlement(user=user, feature=Feature.MEMORY_ITEMS, amount=deleted)
    if deleted:
        _log(
            user=user, scope=item.scope, action="erase", items=[item], purpose=purpose, allowed=True
        )


@transaction.atomic
def consent_set(*, user: User, product: Product, scope: MemoryScope, allow: bool) -> ConsentGrant:
    """The user switches a product's access to a scope on or off; takes effect on the next
    read."""
    consent, _ = ConsentGrant.objects.select_for_update().get_or_create(
        user=user, product=product, scope=scope
    )
    _consent_switch(consent, allow=allow)
    return consent


@transaction.atomic
def consent_revoke(*, consent: ConsentGrant, request, reason: str) -> ConsentGrant:
    """An operator revokes a consent at the user's request; takes effect on the next read.
    One already revoked keeps who revoked it, when and why."""
    consent = ConsentGrant.objects.select_for_update().get(pk=consent.pk)
    if not (consent.can_read or consent.can_write):
        return consent
    rights = {"can_read": consent.can_read, "can_write": consent.can_write}
    _consent_switch(consent, allow=False, by=request.user, reason=reason)
    audit.record(
        request=request,
        action="memory.consent_revoke",
        obj=consent,
        changes={right: (had, False) for right, had in rights.items()},
        reason=reason,
    )
    return consent


def _consent_switch(
    consent: ConsentGrant, *, allow: bool, by: User | None = None, reason: str = ""
) -> None:
    now = timezone.now()
    consent.can_read = consent.can_write = allow
    if allow:
        consent.granted_at, consent.revoked_at = now, None
        consent.revoked_by, consent.revoke_reason = None, ""
    else:
        consent.revoked_at, consent.revoked_by, consent.revoke_reason = now, by, reason[:200]
    consent.save()


def memory_export(*, user: User) -> dict:
    """Everything GeraOS remembers for the user, decrypted, plus who read it."""
    items = selectors.memory_items_for_user(user=user)
    return {
        "user": user.email,
        "exported_at": timezone.now().isoformat(),
        "items": [
            {
                "id": item.pk,
                "scope": item.scope.code,
                "kind": item.kind,
                "key": item.key,
                "value": item.value,
                "written_by": item.product.code,
                "created_at": item.created_at.isoformat(),
                "updated_at": item.updated_at.isoformat(),
                "expires_at": item.expires_at.isoformat() if item.expires_at else None,
            }
            for item in items
        ],
        "consents": [
            {
                "product": c.product.code,
                "scope": c.scope.code,
                "read": c.can_read,
                "write": c.can_write,
            }
            for c in ConsentGrant.objects.filter(user=user).select_related("product", "scope")
        ],
    }


@transaction.atomic
def memory_erase(*, user: User) -> int:
    """Delete every item and log the erasure. The access log stays: it holds no memory
    value, and it is the evidence of what products did. Returns how many items were
    deleted."""
    count, _ = MemoryItem.objects.filter(user=user).delete()
    identity_services.release_entitlement(user=user, feature=Feature.MEMORY_ITEMS, amount=count)
    _log(user=user, action="erase", purpose="erased at the user's request", allowed=True)
    return count


def _under_old_memory_keys() -> QuerySet[MemoryItem]:
    current = crypto.keyring().current_prefix
    return MemoryItem.objects.exclude(
        key_sealed__startswith=current, value_encrypted__startswith=current
    )


def memory_items_under_old_keys() -> int:
    """How many items' keys or values are not sealed with the primary key."""
    return _under_old_memory_keys().count()


def memory_reencrypt_all(*, batch_size: int = 500) -> int:
    """Move every key and value not sealed with the primary key onto it; returns how many
    items moved."""
    stale = _under_old_memory_keys()
    moved = 0
    while batch := list(stale.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            for item in MemoryItem.objects.select_for_update().filter(pk__in=batch):
                key = crypto.decrypt_value(item.key_sealed, context=item.key_context)
                item.key_sealed = crypto.encrypt_value(key, context=item.key_context)
                item.key = key
                _seal(
                    item,
                    crypto.decrypt_value(item.value_encrypted, context=item.encryption_context),
                )
                item.save(update_fields=["key_sealed", "value_encrypted"])
                moved += 1
    return moved


def _hashed_under_old_keys() -> QuerySet[MemoryItem]:
    return MemoryItem.objects.exclude(key_hash__startswith=sealing.current_lookup_prefix())


def memory_keys_hashed_under_old_keys() -> int:
    """How many items' key hashes are not made with the primary lookup key."""
    return _hashed_under_old_keys().count()


def memory_keys_rehash(*, batch_size: int = 500) -> int:
    """Move every key's hash not made with the primary lookup key onto it (a lookup key's
    rotation); returns how many moved."""
    stale = _hashed_under_old_keys()
    moved = 0
    while batch := list(stale.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            for item in MemoryItem.objects.select_for_update().filter(pk__in=batch):
                key = crypto.decrypt_value(item.key_sealed, context=item.key_context)
                item.key_hash = crypto.key_hash(user_id=item.user_id, key=key)
                item.save(update_fields=["key_hash"])
                moved += 1
    return moved


def memory_purge_expired() -> int:
    """Delete expired items, giving their capacity back to each owner's plan."""
    purged = 0
    expired = MemoryItem.objects.filter(expires_at__lte=timezone.now())
    for owner_id in expired.values_list("user_id", flat=True).distinct():
        with transaction.atomic():
            count, _ = expired.filter(user_id=owner_id).delete()
            identity_services.release_entitlement(
                user=User(pk=owner_id), feature=Feature.MEMORY_ITEMS, amount=count
            )
            purged += count
    return purged
