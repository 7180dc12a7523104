"""Trust reads: published keys, receipts visible to a caller, the log and its proofs."""

import base64
import datetime as dt
import operator
from functools import reduce

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.dashboard import since
from apps.core.errors import ApplicationError, ConflictError
from apps.trust import jose, keys, merkle
from apps.trust.models import (
    OPEN_DISPUTE_STATUSES,
    Dispute,
    LogNode,
    Receipt,
    SigningKey,
    TreeHead,
)


def jwks() -> dict:
    """Every key that ever signed, active and retired: old receipts must stay verifiable."""
    return {
        "keys": [
            keys.jwk_for(kid=key.kid, public_key=bytes(key.public_key))
            for key in SigningKey.objects.order_by("created_at")
        ]
    }


def jwk(*, kid: str) -> dict | None:
    key = SigningKey.objects.filter(kid=kid).first()
    return keys.jwk_for(kid=key.kid, public_key=bytes(key.public_key)) if key else None


def receipts_visible_to(*, user, agent_grant_id=None) -> QuerySet[Receipt]:
    """Operators allowed to view receipts see all; a user their own and those naming them;
    an agent its user's."""
    if user.has_perm("trust.view_receipt") and agent_grant_id is None:
        return Receipt.objects.all()
    return Receipt.objects.filter(Q(user=user) | Q(counterparties=user)).distinct()


def receipt_get(*, user, receipt_id, agent_grant_id=None) -> Receipt | None:
    return (
        receipts_visible_to(user=user, agent_grant_id=agent_grant_id).filter(pk=receipt_id).first()
    )


def receipt_refund_amendment(*, receipt: Receipt, refund_id: str) -> Receipt | None:
    """The amendment of `receipt` that records the refund `refund_id`, if one was issued."""
    return receipt.amendments.filter(payload__refund__id=refund_id).first()


def log_nodes(wanted) -> dict[tuple[int, int], bytes]:
    """The stored subtree hashes at `wanted` (level, index) pairs, in one query."""
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        by_level.setdefault(level, []).append(index)
    if not by_level:
        return {}
    where = reduce(
        operator.or_, (Q(level=level, index__in=indexes) for level, indexes in by_level.items())
    )
    rows = LogNode.objects.filter(where).values_list("level", "index", "hash")
    return {(level, index): bytes(digest) for level, index, digest in rows}


def log_frontier(*, size: int) -> dict[tuple[int, int], bytes]:
    """The complete subtrees the log of `size` leaves ends with: what appending reads."""
    return log_nodes(merkle.frontier(size))


def _from_stored_nodes(proof, *sizes: int) -> list[bytes]:
    """A merkle proof function's answer over the stored nodes, read in one query: which
    nodes a proof reads depends on the sizes alone, so a dry run names them."""
    wanted: set[tuple[int, int]] = set()

    def note(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(32)

    proof(note, *sizes)
    return proof(merkle.getter(log_nodes(wanted)), *sizes)


def tree_head_latest() -> TreeHead | None:
    return TreeHead.objects.order_by("-size").first()


def tree_head_at(*, size: int) -> TreeHead | None:
    return TreeHead.objects.filter(size=size).first()


class ProofError(ApplicationError):
    code = "invalid_proof_request"


def inclusion_proof(*, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size or tree_head_at(size=size) is None:
        raise ProofError("Need 0 <= index < size, for a size the log has had.")
    return _from_stored_nodes(merkle.inclusion_proof, index, size)


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    if not 0 < first <= second or tree_head_at(size=second) is None:
        raise ProofError("Need 0 < first <= second, for sizes the log has had.")
    return _from_stored_nodes(merkle.consistency_proof, first, second)


def receipt_proof(*, receipt: Receipt) -> tuple[TreeHead, list[bytes]] | None:
    """The receipt's inclusion proof against the latest tree head; None while the receipt
    is sequenced but not yet integrated (no checkpoint covers it yet)."""
    head = tree_head_latest()
    if head is None or head.size <= receipt.log_index:
        return None
    return head, _from_stored_nodes(merkle.inclusion_proof, receipt.log_index, head.size)


def receipt_integrate_by(*, receipt: Receipt) -> dt.datetime:
    """When the receipt is in a checkpoint at the latest (the log's promise)."""
    return receipt.issued_at + dt.timedelta(seconds=settings.GERAOS_LOG_MAX_INTEGRATION_DELAY)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")  # as receipts and the API write times


class NotYetProvable(ConflictError):
    code = "receipt_not_yet_provable"


def receipt_bundle(*, receipt: Receipt, origin: str) -> dict:
    """Everything a third party needs to verify the receipt offline (see verify.py)."""
    proven = receipt_proof(receipt=receipt)
    if proven is None:
        integrate_by = _iso(receipt_integrate_by(receipt=receipt))
        raise NotYetProvable(
            f"Receipt {receipt.pk} is entry {receipt.log_index} of the log but not yet in a "
            f"signed checkpoint; its bundle is ready by {integrate_by}.",
            extra={"log_index": receipt.log_index, "integrate_by": integrate_by},
        )
    head, proof = proven
    return {
        "format": "geraos-receipt-bundle/1",
        "receipt": receipt.jws,
        "inclusion_proof": {
            "log_index": receipt.log_index,
            "tree_size": head.size,
            "hashes": [base64.b64encode(h).decode() for h in proof],
        },
        "log_origin": origin,
        "checkpoint": head.checkpoint,
        "checkpoint_kid": head.kid,
        "jwk": jwk(kid=receipt.kid),
        "checkpoint_jwk": jwk(kid=head.kid),
    }


def receipt_verify_online(*, token: str) -> tuple[bool, str, dict | None]:
    """Is this JWS a receipt signed by one of our keys and an entry of our log (in a signed
    checkpoint, or sequenced and on its way into one)?"""
    try:
        payload = jose.jws_verify(token, jwks=jwks(), typ=jose.RECEIPT_TYPE)
    except (jose.VerificationError, ValueError) as exc:
        return False, str(exc), None
    logged = Receipt.objects.filter(log_index=payload.get("log_index"), jws=token).first()
    if logged is None:
        return False, "signed by GeraOS, but not the receipt at that log index", payload
    entry = f"signed by {payload['kid']} and entry {logged.log_index} of the log"
    proven = receipt_proof(receipt=logged)
    if proven is None:
        integrate_by = _iso(receipt_integrate_by(receipt=logged))
        return True, f"{entry}, in a signed checkpoint by {integrate_by}", payload
    head, proof = proven
    leaf = merkle.leaf_hash(token.encode())
    if not merkle.verify_inclusion(leaf, logged.log_index, head.size, proof, bytes(head.root_hash)):
        return False, "receipt is not included in the log", payload
    return True, entry, payload


def dispute_get(*, user, dispute_id, agent_grant_id=None) -> Dispute | None:
    """A dispute on a receipt of the user's (operators allowed to view disputes: any; an
    operator's agent: only the operator's own, as with receipts)."""
    disputes = Dispute.objects.select_related("receipt")
    if not (user.has_perm("trust.view_dispute") and agent_grant_id is None):
        disputes = disputes.filter(receipt__user=user)
    return disputes.filter(pk=dispute_id).first()


def dispute_kpis(period) -> list[dict]:
    """Dashboard cards: disputes opened in the period against receipts issued in it (the
    dispute rate), and the open ones an operator must answer, overdue first."""
    opened = Dispute.objects.filter(period.contains("created_at"))
    issued = Receipt.objects.filter(  # the receipts a buyer could dispute
        period.contains("issued_at"),
        previous__isnull=True,
        resolution=Receipt.Resolution.COMPLETED,
    ).count()
    opened_count = opened.count()
    open_now = Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES)
    return [
        {
            "title": f"Opened, {period.label}",
            "value": opened_count,
            "trend": f"{opened_count / issued:.1%} of receipts issued" if issued else "",
            "link": f"/admin/trust/dispute/?{since(period)}",
        },
        {
            "title": "Open now",
            "value": open_now.count(),
            "trend": f"{open_now.filter(respond_by__lt=timezone.now()).count()} overdue",
            "link": f"/admin/trust/dispute/?status__in={','.join(OPEN_DISPUTE_STATUSES)}",
        },
    ]
