import uuid

from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.core.sealing import SealedProperty
from apps.core.status import StatusVocabulary, Tone


class DispatchOrder(BaseModel):
    """One intent turned into an action: the chosen skill, provider and quote, the payment,
    the provider's confirmation and the receipt. Its status moves only through
    `dispatch.services` under a row lock; every move is a DispatchTransition."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZING = "authorizing", "Authorizing payment"
        AUTHORIZED = "authorized", "Payment authorized"
        FULFILLING = "fulfilling", "With the provider"
        FULFILLED = "fulfilled", "Booked"
        CAPTURING = "capturing", "Capturing payment"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        VOIDED = "voided", "Voided"
        DISPUTED = "disputed", "Disputed"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"
        RESOLVED_UPHELD = "resolved_upheld", "Resolved: upheld"

    statuses = StatusVocabulary(
        Status,
        {
            Status.PENDING: Tone.INFO,
            Status.AUTHORIZING: Tone.INFO,
            Status.AUTHORIZED: Tone.INFO,
            Status.FULFILLING: Tone.INFO,
            Status.FULFILLED: Tone.INFO,
            Status.CAPTURING: Tone.INFO,
            Status.COMPLETED: Tone.SUCCESS,
            Status.REJECTED: Tone.DANGER,
            Status.FAILED: Tone.DANGER,
            Status.VOIDED: Tone.DANGER,
            Status.DISPUTED: Tone.WARNING,
            Status.PARTIALLY_REFUNDED: Tone.NEUTRAL,
            Status.REFUNDED: Tone.NEUTRAL,
            Status.RESOLVED_UPHELD: Tone.NEUTRAL,
        },
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dispatch_orders"
    )
    grant = models.ForeignKey(
        "identity.AgentGrant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatch_orders",
        help_text="The agent grant it was dispatched under; empty when the user did it.",
    )
    # The client's key (up to 255 characters) namespaced by who sent it.
    idempotency_key = models.CharField(max_length=320, unique=True)
    intent = models.JSONField(help_text="The structured intent, as resolved.")
    details_sealed = models.TextField(
        blank=True,
        editable=False,
        help_text="What the skill's input schema asks for (an address, say), sealed.",
    )
    details = SealedProperty("details_sealed", empty=dict)
    skill = models.ForeignKey("catalog.Skill", on_delete=models.PROTECT, related_name="+")
    skill_version = models.PositiveIntegerField()
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, related_name="+")
    quote = models.OneToOneField(
        "payments.Quote", on_delete=models.PROTECT, related_name="dispatch_order"
    )
    payer_account_sealed = models.TextField(
        blank=True, editable=False, help_text="The payer's phone or VPA, sealed."
    )
    payer_account = SealedProperty("payer_account_sealed", empty=str)
    payment = models.OneToOneField(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatch_order",
    )
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    failure_code = models.CharField(max_length=64, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    confirmation = models.JSONField(
        null=True, blank=True, help_text="The provider's verified booking confirmation."
    )
    receipt = models.OneToOneField(
        "trust.Receipt", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    callback_url = models.URLField(blank=True)
    callback_secret_sealed = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="dispatch_stuck_idx")]
        permissions = [
            ("retry_dispatchorder", "Can retry the step a dispatch order waits on"),
            ("export_dispatchorder", "Can export dispatch orders"),
        ]

    def __str__(self) -> str:
        return f"dispatch {self.pk} ({self.get_status_display()})"


# Where the pipeline has finished: each of these gets a receipt.
FINISHED = frozenset(
    {
        DispatchOrder.Status.COMPLETED,
        DispatchOrder.Status.REJECTED,
        DispatchOrder.Status.FAILED,
        DispatchOrder.Status.VOIDED,
    }
)
# After completion, where refunds and disputes take it: the pipeline is done with it.
AT_REST = frozenset(
    {
        DispatchOrder.Status.DISPUTED,
        DispatchOrder.Status.PARTIALLY_REFUNDED,
        DispatchOrder.Status.REFUNDED,
        DispatchOrder.Status.RESOLVED_UPHELD,
    }
)
# Where a receipt's dispute moves the order: it took the money.
DISPUTABLE = AT_REST | {DispatchOrder.Status.COMPLETED}


class DispatchTransition(models.Model):
    """Who moved an order, from where to where, when and why."""

    order = models.ForeignKey(DispatchOrder, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=24, choices=DispatchOrder.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=DispatchOrder.Status.choices)
    actor = models.CharField(max_length=120, help_text="agent:<grant>, user:<id>, worker, …")
    reason = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or '∅'} → {self.get_to_status_display()}"


class CallbackDelivery(models.Model):
    """A signed status event for the agent's callback URL, and how its delivery went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Gave up"

    statuses = StatusVocabulary(
        Status,
        {Status.PENDING: Tone.INFO, Status.DELIVERED: Tone.SUCCESS, Status.GAVE_UP: Tone.DANGER},
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(DispatchOrder, on_delete=models.CASCADE, related_name="callbacks")
    event = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_response = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="Its last attempt, or when the sweep queued it again."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="callback_lost_idx")]

    def __str__(self) -> str:
        event = DispatchOrder.Status(self.event["status"]).label
        return f"callback {event} for {self.order_id} ({self.get_status_display()})"
