"""Memory reads. Items come back decrypted, as `item.value`."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.catalog.models import Product
from apps.catalog.selectors import product_list_active
from apps.memory import crypto, policy
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem, MemoryScope


def _decrypted(items: QuerySet[MemoryItem]) -> list[MemoryItem]:
    """The items with their keys and values opened, by scope then key."""
    result = list(items.select_related("scope", "product"))
    for item in result:
        item.key = crypto.decrypt_value(item.key_sealed, context=item.key_context)
        item.value = crypto.decrypt_value(item.value_encrypted, context=item.encryption_context)
    return sorted(result, key=lambda item: (item.scope.name, item.key))


def _live(items: QuerySet[MemoryItem]) -> QuerySet[MemoryItem]:
    return items.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def memory_items_readable(*, user, scope: MemoryScope, writer_ids) -> list[MemoryItem]:
    items = _live(MemoryItem.objects.filter(user=user, scope=scope))
    if writer_ids is not None:
        items = items.filter(product_id__in=writer_ids)
    return _decrypted(items)


def memory_items_for_user(*, user, scope: MemoryScope | None = None) -> list[MemoryItem]:
    items = MemoryItem.objects.filter(user=user)
    if scope is not None:
        items = items.filter(scope=scope)
    return _decrypted(items)


def memory_item_get(*, user, item_id: int) -> MemoryItem | None:
    """The user's own item, or None: another user's item is indistinguishable from none."""
    items = _decrypted(MemoryItem.objects.filter(user=user, pk=item_id))
    return items[0] if items else None


def memory_items_under_key(
    *, user, scope: MemoryScope, product: Product, key: str
) -> QuerySet[MemoryItem]:
    """The item (none or one) `product` keeps for `user` under `key` in `scope`, found by
    the key's keyed hash; still sealed."""
    hashes = crypto.key_hashes(user_id=user.pk, key=key)
    return MemoryItem.objects.filter(user=user, scope=scope, product=product, key_hash__in=hashes)


def memory_scope_get(*, code: str) -> MemoryScope | None:
    return MemoryScope.objects.filter(code=code).first()


def memory_scope_list() -> QuerySet[MemoryScope]:
    return MemoryScope.objects.all()


@dataclass(frozen=True)
class ConsentCell:
    product: Product
    scope: MemoryScope
    state: policy.ReadStanding


def consent_grid(*, user) -> tuple[list[Product], list[tuple[MemoryScope, list[ConsentCell]]]]:
    """Rows of scopes, columns of products, each cell the consent in force."""
    products = list(product_list_active())
    consents = {(c.product_id, c.scope_id): c for c in ConsentGrant.objects.filter(user=user)}
    rows = []
    for scope in memory_scope_list():
        cells = []
        for product in products:
            state = policy.read_standing(consents.get((product.pk, scope.pk)), scope)
            cells.append(ConsentCell(product=product, scope=scope, state=state))
        rows.append((scope, cells))
    return products, rows


def access_log(*, user, limit: int = 100) -> QuerySet[AccessLogEntry]:
    return (
        AccessLogEntry.objects.filter(user=user)
        .select_related("product", "scope", "agent_grant")
        .order_by("-at")[:limit]
    )


def access_log_sentence(entry: AccessLogEntry) -> str:
    """ "GeraClinic read Health on 3 May 10:04 — booking a consult"."""
    when = timezone.localtime(entry.at).strftime("%-d %b %H:%M")
    if entry.action == AccessLogEntry.Action.ERASE and entry.scope is None:
        return f"You erased all your memory on {when}"
    if entry.action == AccessLogEntry.Action.ERASE:
        return f"An item of {entry.scope.name} was deleted on {when} — {entry.purpose}"
    who = entry.product.name if entry.product else "A product"
    verb = entry.get_action_display() if entry.allowed else f"was refused ({entry.action})"
    scope = entry.scope.name if entry.scope else "memory"
    agent = f" (agent: {entry.agent_grant.name})" if entry.agent_grant else ""
    purpose = f" — {entry.purpose}" if entry.purpose else ""
    return f"{who} {verb} {scope} on {when}{agent}{purpose}"
