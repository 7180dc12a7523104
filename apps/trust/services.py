"""Trust writes: signing keys, receipts, disputes.

`issue_receipt` is the only way a receipt comes to exist. It takes the log's next index
(from a counter that cannot skip or reuse one), signs the receipt with it and stores it;
`apps.trust.integration` later puts it into the tree under a signed checkpoint.
"""

import datetime as dt
import functools
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from decimal import Decimal

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from djmoney.money import Money

from apps.core import audit
from apps.core.enqueue import enqueue_on_commit
from apps.core.errors import ApplicationError, ConflictError
from apps.core.money import money_document
from apps.trust import jose, keys, refunds, selectors
from apps.trust.models import OPEN_DISPUTE_STATUSES, Dispute, LogSequence, Receipt, SigningKey
from apps.trust.refunds import RefundMade
from apps.trust.signals import dispute_changed

REFUNDED, PARTIALLY_REFUNDED = Receipt.Resolution.REFUNDED, Receipt.Resolution.PARTIALLY_REFUNDED

# ---------------------------------------------------------------------------
# Signing keys
# ---------------------------------------------------------------------------


@transaction.atomic
def signing_key_rotate(*, request=None, reason: str = "") -> SigningKey:
    """Retire the active key (it stays published) and make a new one active. An operator's
    rotation (with the admin's request) is recorded in the audit log, with its reason."""
    now = timezone.now()
    active = SigningKey.objects.filter(status=SigningKey.Status.ACTIVE)
    list(active.select_for_update())  # a rotation underway finishes first
    # Statements after the wait see the key that rotation made (the wait's own read
    # cannot), so what was retired is read back once this update has retired it.
    active.update(status=SigningKey.Status.RETIRED, retired_at=now)
    retiring_kid = (
        SigningKey.objects.filter(status=SigningKey.Status.RETIRED, retired_at=now)
        .values_list("kid", flat=True)
        .first()
    )
    private, public = keys.new_keypair()
    kid = f"gera-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    key = SigningKey.objects.create(
        kid=kid, public_key=public, private_key_sealed=keys.seal_private_key(private, kid=kid)
    )
    audit.record_if_operator(
        request=request,
        action="trust.signing_key_rotate",
        obj=key,
        changes={"active_key": (retiring_kid, kid)},
        reason=reason,
    )
    return key


def signing_key_active() -> SigningKey:
    """The active key; the first call on a fresh installation generates one."""
    key = SigningKey.objects.filter(status=SigningKey.Status.ACTIVE).first()
    if key:
        return key
    try:
        return signing_key_rotate()
    except IntegrityError:  # a concurrent first call generated it a moment earlier
        return SigningKey.objects.get(status=SigningKey.Status.ACTIVE)


def sign_document(*, payload: dict, typ: str) -> str:
    """Sign a JSON document of a kind other than receipts (a payment quote) as a JWS with
    the active key, so it verifies against the same JWKS, its `typ` saying what it is."""
    if typ not in jose.DOCUMENT_TYPES or typ == jose.RECEIPT_TYPE:
        raise ValueError(
            f"{typ!r} is not a document sign_document signs: receipts are entries "
            "of the log, signed by issue_receipt only"
        )
    key = signing_key_active()
    private = keys.open_private_key(key.private_key_sealed, kid=key.kid)
    return jose.jws_sign(
        rfc8785.dumps({**payload, "kid": key.kid}), kid=key.kid, key=private, typ=typ
    )


# ---------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------


def user_pseudonym(user_id: int) -> str:
    """A stable pseudonym: third parties can match receipts of one subject, not name them."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"receipt-subject:{user_id}".encode(), hashlib.sha256
    )
    return f"sub_{digest.hexdigest()[:24]}"


def issue_receipt(
    *,
    user,
    source: dict,
    amount_local,
    amount_settled,
    fx_rate: Decimal,
    rail: str,
    payment_ref: str,
    resolution: str,
    agent_grant_id: uuid.UUID | None = None,
    agent: str | None = None,
    previous: Receipt | None = None,
    counterparties=(),
    refund: RefundMade | None = None,
) -> Receipt:
    """Sign a receipt as the log's next entry and store it: the receipt is sequenced. Its
    commit queues its integration into a signed checkpoint, after which it has an inclusion
    proof (docs/DESIGN.md "Receipts"). An amendment that records a refund says which
    refund, how much, and the total refunded with it."""
    counterparties = list(counterparties)
    receipt_id = uuid.uuid4()
    document = {
        "id": str(receipt_id),
        "source": source,
        "subject": {"user": user_pseudonym(user.pk), "agent": agent},
        "amount": {
            "local": money_document(amount_local),
            "settled": money_document(amount_settled),
            "fx_rate": str(fx_rate),
        },
        "rail": rail,
        "payment_ref": payment_ref,
        "resolution": resolution,
        "previous": str(previous.pk) if previous else None,
    }
    if refund is not None:
        document["refund"] = refund.document()
    canonical = {name: rfc8785.dumps(value) for name, value in document.items()}
    with transaction.atomic():
        taken = _take_log_index()
        key = _opened_signing_key(taken.active_kid or signing_key_active().kid)
        issued_at = timezone.now()
        sequenced = {
            "kid": key.kid,
            "issued_at": issued_at.isoformat().replace("+00:00", "Z"),
            "log_index": taken.index,
        }
        payload = document | sequenced
        signed = _canonical_object(
            canonical | {name: rfc8785.dumps(value) for name, value in sequenced.items()}
        )
        token = jose.jws_sign(signed, kid=key.kid, key=key.private, typ=jose.RECEIPT_TYPE)
        receipt = Receipt.objects.create(
            id=receipt_id,
            log_index=taken.index,
            kid=key.kid,
            issued_at=issued_at,
            resolution=resolution,
            payload=payload,
            jws=token,
            previous=previous,
            user=user,
            agent_grant_id=agent_grant_id,
        )
        if counterparties:
            receipt.counterparties.set(counterparties)
        if taken.queues_integration:
            enqueue_on_commit(_tasks().integrate_log)
    return receipt


def _canonical_object(members: dict[str, bytes]) -> bytes:
    """The RFC 8785 form of an object, from its members' values in theirs (the names, all
    ASCII, sort as UTF-16 code units do): so most of a receipt is canonicalized before
    its index is taken, and the counter is held for less."""
    joined = b",".join(
        rfc8785.dumps(name) + b":" + value for name, value in sorted(members.items())
    )
    return b"{" + joined + b"}"


@dataclass(frozen=True)
class TakenIndex:
    index: int
    queues_integration: bool  # no integration is queued and not yet started
    active_kid: str | None


# One statement, one round trip, while the counter's row is locked by it until the
# issuing transaction ends (so a rollback gives the index back): the index, whether this
# receipt is the first since the last integration started, and the key to sign with.
_TAKE_LOG_INDEX = """
UPDATE trust_logsequence
SET next_index = next_index + 1,
    integration_queued_by = COALESCE(integration_queued_by, next_index)
WHERE id = 1
RETURNING next_index - 1, integration_queued_by,
    (SELECT kid FROM trust_signingkey WHERE status = 'active')
"""


def _take_log_index() -> TakenIndex:
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_LOG_INDEX)
        taken = cursor.fetchone()
    if taken is None:  # a database emptied since its migrations made the row (tests)
        LogSequence.objects.get_or_create(pk=1)
        return _take_log_index()
    index, queued_by, active_kid = taken
    return TakenIndex(index=index, queues_integration=queued_by == index, active_kid=active_kid)


@dataclass(frozen=True)
class OpenedKey:
    kid: str
    private: Ed25519PrivateKey


@functools.lru_cache(maxsize=8)
def _opened_signing_key(kid: str) -> OpenedKey:
    """A key's private half, unsealed once per process: a kid names one key for good."""
    key = SigningKey.objects.get(kid=kid)
    return OpenedKey(kid=kid, private=keys.open_private_key(key.private_key_sealed, kid=kid))


def _tasks():
    from apps.trust import tasks  # the integration task runs code that imports this module

    return tasks


def receipt_amend(
    *, receipt: Receipt, resolution: str, payment_ref: str = "", refund: RefundMade | None = None
) -> Receipt:
    """A new receipt that amends `receipt` (refund, dispute outcome); the original stays."""
    original = receipt.payload
    return issue_receipt(
        user=receipt.user,
        source=original["source"],
        amount_local=_as_money(original["amount"]["local"]),
        amount_settled=_as_money(original["amount"]["settled"]),
        fx_rate=Decimal(original["amount"]["fx_rate"]),
        rail=original["rail"],
        payment_ref=payment_ref or original["payment_ref"],
        resolution=resolution,
        agent_grant_id=receipt.agent_grant_id,
        agent=original["subject"]["agent"],
        previous=receipt,
        counterparties=receipt.counterparties.all(),
        refund=refund,
    )


@transaction.atomic
def receipt_record_refund(*, receipt: Receipt, refund: RefundMade) -> tuple[Receipt, bool]:
    """The amendment recording `refund`, and whether this call issued it: one per refund,
    whichever path made it (a dispute's resolution, an operator's refund in Payments) and
    however often it is told."""
    receipt = _locked_receipt(receipt)
    recorded = selectors.receipt_refund_amendment(receipt=receipt, refund_id=refund.refund_id)
    if recorded is not None:
        return recorded, False
    amendment = receipt_amend(
        receipt=receipt,
        resolution=REFUNDED if refund.in_full else PARTIALLY_REFUNDED,
        payment_ref=refund.reference,
        refund=refund,
    )
    return amendment, True


def _as_money(value: dict) -> Money:
    return Money(value["amount"], value["currency"])


# ---------------------------------------------------------------------------
# Disputes
# ---------------------------------------------------------------------------

RESPONSE_WINDOW = dt.timedelta(days=14)
RESOLVE = "trust.dispute_resolve"
DISPUTE_OUTCOMES = {
    Dispute.Status.RESOLVED_REFUNDED: Receipt.Resolution.REFUNDED,
    Dispute.Status.RESOLVED_UPHELD: Receipt.Resolution.DISPUTE_UPHELD,
}
# After this a refund claim is taken to be abandoned by a resolve that died mid-call (a
# worker killed on timeout) and may be claimed again: payments answers a repeated refund
# of a refunded payment with the first refund's reference, so the retry pays nothing twice.
REFUND_CLAIM_TIMEOUT = dt.timedelta(minutes=15)


def _locked_dispute(dispute: Dispute) -> Dispute:
    return Dispute.objects.select_for_update().get(pk=dispute.pk)


def _locked_receipt(receipt: Receipt) -> Receipt:
    return Receipt.objects.select_for_update().get(pk=receipt.pk)


@transaction.atomic
def dispute_open(
    *,
    receipt: Receipt,
    opened_by: str,
    reason: str,
    evidence: str = "",
    user=None,
    evidence_file=None,
) -> Dispute:
    if receipt.previous_id is not None:
        raise ApplicationError(
            "Dispute the original receipt, not an amendment.", code="not_disputable"
        )
    receipt = _locked_receipt(receipt)  # two opens of one receipt check and create in turn
    if receipt.disputes.filter(status__in=OPEN_DISPUTE_STATUSES).exists():
        raise ConflictError("This receipt already has an open dispute.", code="dispute_open")
    if receipt.amendments.filter(resolution=Receipt.Resolution.REFUNDED).exists():
        raise ConflictError("This payment has already been refunded.", code="already_refunded")
    dispute = Dispute.objects.create(
        receipt=receipt,
        opened_by=opened_by,
        opened_by_user=user,
        reason=reason,
        evidence=evidence,
        evidence_file=evidence_file or "",
        respond_by=timezone.now() + RESPONSE_WINDOW,
    )
    _announce(dispute)
    return dispute


@transaction.atomic
def dispute_start_review(*, dispute: Dispute, request=None) -> Dispute:
    """`request` is the operator's when one acts (each service below): it is audited."""
    dispute = _locked_dispute(dispute)
    _require_status(dispute, Dispute.Status.OPEN)
    _set_status(dispute, Dispute.Status.UNDER_REVIEW, request=request, action="start_review")
    return dispute


@transaction.atomic
def dispute_withdraw(*, dispute: Dispute, reason: str = "", request=None) -> Dispute:
    dispute = _locked_dispute(dispute)
    _require_status(dispute, *OPEN_DISPUTE_STATUSES)
    _require_no_refund_underway(dispute)
    _set_status(
        dispute, Dispute.Status.WITHDRAWN, request=request, action="withdraw", reason=reason
    )
    _announce(dispute)
    return dispute


def dispute_resolve(
    *,
    dispute: Dispute,
    outcome: str,
    note: str = "",
    amount: Decimal | None = None,
    request=None,
) -> Dispute:
    """Close a dispute with a new signed receipt amending the original. A refund (of
    `amount`, by default all that is left) is asked of the payments service first, outside
    any transaction (it may call a provider), by the one resolve that claimed it."""
    if outcome not in DISPUTE_OUTCOMES:
        raise ApplicationError(f"Unknown outcome {outcome!r}.", code="invalid_outcome")
    if request is not None:
        note = audit.require_reason(RESOLVE, note)  # before any money moves
    refund = None
    if outcome == Dispute.Status.RESOLVED_REFUNDED:
        refund = _refund_once(dispute, reason=note or "dispute", amount=amount, request=request)
    with transaction.atomic():
        dispute = _locked_dispute(dispute)
        _require_status(dispute, *OPEN_DISPUTE_STATUSES)
        if refund is None:
            _require_no_refund_underway(dispute)
            amendment = receipt_amend(receipt=dispute.receipt, resolution=DISPUTE_OUTCOMES[outcome])
        else:
            amendment, _ = receipt_record_refund(receipt=dispute.receipt, refund=refund)
        dispute.resolution_receipt = amendment
        dispute.resolution_note = note
        _set_status(dispute, outcome, request=request, action="resolve", reason=note)
        _announce(dispute)
    return dispute


def _set_status(dispute: Dispute, status: str, *, request, action: str, reason: str = "") -> None:
    before, dispute.status = dispute.status, status
    dispute.save()
    audit.record_if_operator(
        request=request,
        action=f"trust.dispute_{action}",
        obj=dispute,
        changes={"status": (before, status)},
        reason=reason,
    )


def _refund_once(dispute: Dispute, *, reason: str, amount: Decimal | None, request) -> RefundMade:
    _claim_refund(dispute)
    try:
        return refunds.request_refund(
            receipt=dispute.receipt,
            reason=reason,
            amount=amount,
            request=request,
            requested_for=f"dispute:{dispute.pk}",
        )
    except Exception:
        Dispute.objects.filter(pk=dispute.pk).update(refund_claimed_at=None)
        raise


@transaction.atomic
def _claim_refund(dispute: Dispute) -> None:
    dispute = _locked_dispute(dispute)
    _require_status(dispute, *OPEN_DISPUTE_STATUSES)
    _require_no_refund_underway(dispute)
    dispute.refund_claimed_at = timezone.now()
    dispute.save(update_fields=["refund_claimed_at", "updated_at"])


def _require_no_refund_underway(dispute: Dispute) -> None:
    claimed_at = dispute.refund_claimed_at
    if claimed_at and claimed_at > timezone.now() - REFUND_CLAIM_TIMEOUT:
        raise ConflictError(
            "A refund for this dispute is being requested; try again in a moment.",
            code="refund_in_progress",
        )


def _announce(dispute: Dispute) -> None:
    receipt_id, dispute_id, status = dispute.receipt_id, dispute.pk, dispute.status
    transaction.on_commit(
        lambda: dispute_changed.send(
            sender=Dispute, receipt_id=receipt_id, dispute_id=dispute_id, status=status
        )
    )


def _require_status(dispute: Dispute, *allowed: str) -> None:
    if dispute.status not in allowed:
        raise ConflictError(
            f"The dispute is {dispute.get_status_display().lower()}; that is not possible now.",
            code="illegal_transition",
        )
