"""Integrating the transparency log: sequenced receipts into the tree, one checkpoint a batch.

Issuing a receipt only sequences it (`services.issue_receipt`). An integrator hashes every
receipt the tree lacks into the stored complete subtrees and signs one checkpoint for all
of them, under the log row's lock, which issuers never take: one integrator at a time,
and the others step aside at once (`skip_locked`) rather than queue behind it. It resumes
from the size the tree has, so a crash at any point loses nothing: the batch it was
integrating rolls back and the next run integrates it again.
"""

import datetime as dt
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.trust import jose, keys, merkle, selectors
from apps.trust.models import LogNode, LogSequence, Receipt, TransparencyLog, TreeHead
from apps.trust.services import signing_key_active

# Leaves per checkpoint at most, so one transaction stays small: about 2 nodes a leaf.
BATCH_LIMIT = 5000
# How long one run keeps integrating while receipts keep coming (a later run continues).
RUN_SECONDS = 60.0


def integrate_pending(*, batch_interval: float = 0.0, run_seconds: float = RUN_SECONDS) -> int:
    """Integrate batch after batch until no receipt waits, a checkpoint at most every
    `batch_interval` seconds; the number of checkpoints signed. Returns at once if another
    integrator holds the log: it integrates what waits, as it looks again after each batch."""
    # From here, the next receipt issued queues a run of its own; those issued before
    # committed first (each held the row this waits for), so this run finds them. With
    # no run queued (beat's, mostly) the row, which every issuer takes, is left alone.
    LogSequence.objects.filter(pk=1, integration_queued_by__isnull=False).update(
        integration_queued_by=None
    )
    signed, deadline = 0, time.monotonic() + run_seconds
    while time.monotonic() < deadline and integrate(interval=batch_interval) is not None:
        signed += 1
    return signed


def integrate(*, limit: int = BATCH_LIMIT, interval: float = 0.0) -> TreeHead | None:
    """Put the sequenced receipts the tree lacks (up to `limit`) into it and sign one
    checkpoint of the new size, at least `interval` seconds after the one before. None if
    none wait or another integrator holds the log."""
    TransparencyLog.objects.get_or_create(pk=1)
    with transaction.atomic():
        log = TransparencyLog.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if log is None:
            return None
        _wait_out(interval, since=log.integrated_at)  # holding the log: any run paces
        leaves = _waiting_leaves(size=log.size, limit=limit)
        if not leaves:
            return None
        frontier = selectors.log_frontier(size=log.size)
        made = merkle.append(frontier, log.size, [merkle.leaf_hash(leaf) for leaf in leaves])
        LogNode.objects.bulk_create(
            LogNode(level=level, index=index, hash=digest)
            for (level, index), digest in made.items()
        )
        log.size += len(leaves)
        log.integrated_at = timezone.now()
        log.save(update_fields=["size", "integrated_at"])
        root = merkle.subtree_root(merkle.getter(frontier | made), 0, log.size)
        return _sign_tree_head(size=log.size, root=root)


def _wait_out(interval: float, *, since: dt.datetime | None) -> None:
    if since is not None:
        time.sleep(max(0.0, interval - (timezone.now() - since).total_seconds()))


def _waiting_leaves(*, size: int, limit: int) -> list[bytes]:
    """The JWS of the receipts from index `size` on, as long as they run on unbroken.
    Issuers commit in index order (each holds the counter until its commit), so no gap
    can show; stopping at one keeps the tree from ever passing a missing index."""
    receipts = (
        Receipt.objects.filter(log_index__gte=size)
        .order_by("log_index")
        .values_list("log_index", "jws")[:limit]
    )
    leaves = []
    for expected, (index, token) in enumerate(receipts, start=size):
        if index != expected:
            break
        leaves.append(token.encode())
    return leaves


def _sign_tree_head(*, size: int, root: bytes) -> TreeHead:
    key = signing_key_active()
    private = keys.open_private_key(key.private_key_sealed, kid=key.kid)
    origin = settings.GERAOS_LOG_ORIGIN
    note = jose.checkpoint_sign(
        jose.checkpoint_body(origin, size, root),
        name=origin,
        key=private,
        public_key=bytes(key.public_key),
    )
    return TreeHead.objects.create(size=size, root_hash=root, kid=key.kid, checkpoint=note)
