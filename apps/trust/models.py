import uuid

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.core.status import StatusVocabulary, Tone


class SigningKey(BaseModel):
    """An Ed25519 key. One is active and signs; retired keys stay published to verify."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    statuses = StatusVocabulary(Status, {Status.ACTIVE: Tone.SUCCESS, Status.RETIRED: Tone.NEUTRAL})

    kid = models.CharField(max_length=64, unique=True)
    public_key = models.BinaryField(max_length=32)
    # The private key, AES-GCM sealed with GERAOS_TRUST_KEY_SECRET: never plaintext here.
    private_key_sealed = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="trust_one_active_key"
            )
        ]
        permissions = [("rotate_signingkey", "Can rotate the signing key")]

    def __str__(self) -> str:
        return f"{self.kid} ({self.get_status_display()})"


class Receipt(models.Model):
    """A signed record of one dispatched action (or an amendment of one). Immutable: the
    database refuses UPDATE and DELETE on this table (migration 0002)."""

    class Resolution(models.TextChoices):
        """How the action ended; an amendment says how: a refund, or its dispute's outcome."""

        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        VOIDED = "voided", "Voided"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        DISPUTE_UPHELD = "dispute_upheld", "Dispute upheld"

    resolutions = StatusVocabulary(
        Resolution,
        {
            Resolution.COMPLETED: Tone.SUCCESS,
            Resolution.REJECTED: Tone.DANGER,
            Resolution.FAILED: Tone.DANGER,
            Resolution.VOIDED: Tone.DANGER,
            Resolution.REFUNDED: Tone.NEUTRAL,
            Resolution.PARTIALLY_REFUNDED: Tone.NEUTRAL,
            Resolution.DISPUTE_UPHELD: Tone.NEUTRAL,
        },
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    log_index = models.PositiveBigIntegerField(unique=True)
    kid = models.CharField(max_length=64)
    issued_at = models.DateTimeField(db_index=True)
    resolution = models.CharField(max_length=32, choices=Resolution.choices, db_index=True)
    payload = models.JSONField(help_text="The signed receipt (its JWS payload), as JSON.")
    jws = models.TextField(help_text="Compact JWS over the RFC 8785 form of the payload.")
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="receipts"
    )
    agent_grant_id = models.UUIDField(null=True, blank=True, db_index=True)
    counterparties = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="counterparty_receipts",
        help_text="Sellers or insurers named on the receipt, who may read it.",
    )

    class Meta:
        ordering = ["-log_index"]
        permissions = [("export_receipt", "Can export receipts")]

    def __str__(self) -> str:
        return f"receipt #{self.log_index} ({self.get_resolution_display()})"


class LogNode(models.Model):
    """The hash of a complete subtree of the transparency log: level L, index i covers
    leaves [i * 2**L, (i + 1) * 2**L). Level 0 nodes are the leaf hashes."""

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="trust_lognode_unique")
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LogSequence(models.Model):
    """The next log index to hand out. An issuer takes one by incrementing this row, which
    then stays locked until the issuing transaction ends: a rollback gives the index back,
    so indexes stay contiguous, and no two receipts get the same one."""

    next_index = models.PositiveBigIntegerField(default=0)
    integration_queued_by = models.PositiveBigIntegerField(
        null=True,
        help_text="The index of the receipt whose commit queued an integration that has not "
        "started yet (it will integrate the receipts issued meanwhile, so they queue none).",
    )

    def __str__(self) -> str:
        return f"{self.next_index} sequenced"


class TransparencyLog(models.Model):
    """How many leaves the stored tree holds (the latest checkpoint's size). Its row lock is
    the integrator's, so one integrator at a time extends the tree; issuers never take it."""

    size = models.PositiveBigIntegerField(default=0)
    integrated_at = models.DateTimeField(
        null=True, help_text="When the latest batch was integrated and its checkpoint signed."
    )

    def __str__(self) -> str:
        return f"log of {self.size}"


class TreeHead(models.Model):
    """A signed checkpoint (C2SP signed note) of the log at one size."""

    size = models.PositiveBigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    kid = models.CharField(max_length=64, help_text="The key that signed the checkpoint.")
    checkpoint = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"tree head at {self.size}"


class Dispute(BaseModel):
    """Evidence: withdrawn or resolved, never deleted (nor is anything it names)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UNDER_REVIEW = "under_review", "Under review"
        RESOLVED_REFUNDED = "resolved_refunded", "Resolved: refunded"
        RESOLVED_UPHELD = "resolved_upheld", "Resolved: upheld"
        WITHDRAWN = "withdrawn", "Withdrawn"

    statuses = StatusVocabulary(
        Status,
        {
            Status.OPEN: Tone.WARNING,
            Status.UNDER_REVIEW: Tone.INFO,
            Status.RESOLVED_REFUNDED: Tone.NEUTRAL,
            Status.RESOLVED_UPHELD: Tone.NEUTRAL,
            Status.WITHDRAWN: Tone.NEUTRAL,
        },
    )

    class Party(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SELLER = "seller", "Seller"
        INSURER = "insurer", "Insurer"
        OPERATOR = "operator", "Operator"

    class Reason(models.TextChoices):
        NOT_DELIVERED = "not_delivered", "Not delivered"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"
        DUPLICATE = "duplicate", "Charged twice"
        UNAUTHORIZED = "unauthorized", "Not authorised by me"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.CharField(max_length=16, choices=Party.choices)
    opened_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    evidence = models.TextField(blank=True)
    evidence_file = models.FileField(upload_to="dispute-evidence/", blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    respond_by = models.DateTimeField()
    resolution_receipt = models.OneToOneField(
        Receipt, null=True, blank=True, on_delete=models.PROTECT, related_name="resolves"
    )
    resolution_note = models.TextField(blank=True)
    refund_claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a resolve began asking payments for the refund; while recent, no "
        "other resolve or withdrawal of this dispute may start.",
    )

    class Meta:
        ordering = ["respond_by"]
        permissions = [
            ("resolve_dispute", "Can review and resolve disputes"),
            ("export_dispute", "Can export disputes"),
        ]

    def __str__(self) -> str:
        return f"dispute on #{self.receipt.log_index} ({self.get_status_display()})"


class AuditCheckpoint(models.Model):
    """The operator audit log's head (apps.core.audit) at one length, as a signed note
    in the checkpoint format, signed with the receipts' key: verifiable offline."""

    length = models.PositiveBigIntegerField(unique=True)
    head = models.CharField(max_length=64)
    kid = models.CharField(max_length=64, help_text="The key that signed the checkpoint.")
    checkpoint = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-length"]

    def __str__(self) -> str:
        return f"audit checkpoint at {self.length}"


# A dispute an operator still has to answer.
OPEN_DISPUTE_STATUSES = (Dispute.Status.OPEN, Dispute.Status.UNDER_REVIEW)
