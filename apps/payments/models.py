import uuid

from django.conf import settings
from django.db import models
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from apps.core.models import BaseModel
from apps.core.sealing import SealedProperty
from apps.core.status import StatusVocabulary, Tone


class Rail(BaseModel):
    """A way to take money: Stripe cards, iDEAL, M-Pesa, UPI, PIX, Idram."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    enabled = models.BooleanField(default=True)
    countries = models.JSONField(default=list, blank=True, help_text="ISO codes; empty: any.")
    currencies = models.JSONField(default=list, help_text="ISO 4217 codes it charges in.")
    # Limits are in the home currency, so rails that charge in several currencies compare.
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Home currency.")
    max_amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Home currency.")
    fee_percent = models.DecimalField(max_digits=5, decimal_places=3, default=0)
    fee_fixed = MoneyField(max_digits=10, decimal_places=2, default_currency="GBP", default=0)
    settlement_currency = models.CharField(max_length=3, default="GBP")
    sandbox = models.BooleanField(default=True, help_text="Simulated rail, no real money.")
    whole_units = models.BooleanField(
        default=False, help_text="Charges whole currency units only (M-Pesa shillings)."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(BaseModel):
    """Which rail serves a country (and currency, and amount range, in the home currency)."""

    country = models.CharField(max_length=2, blank=True, help_text="Empty: any country.")
    currency = models.CharField(max_length=3, blank=True, help_text="Empty: any currency.")
    min_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower wins.")
    rail = models.ForeignKey(Rail, on_delete=models.PROTECT, related_name="rules")
    fallback_rail = models.ForeignKey(
        Rail, null=True, blank=True, on_delete=models.PROTECT, related_name="fallback_rules"
    )

    class Meta:
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return f"{self.country or 'any'} → {self.rail}"


class Quote(models.Model):
    """What the user will pay locally and what the business settles, signed together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quotes"
    )
    rail = models.ForeignKey(Rail, on_delete=models.PROTECT)
    requested = MoneyField(max_digits=14, decimal_places=2, default_currency="GBP")
    local_amount = MoneyField(max_digits=14, decimal_places=3, default_currency="GBP")
    settlement_amount = MoneyField(max_digits=14, decimal_places=2, default_currency="GBP")
    fees = MoneyField(max_digits=14, decimal_places=2, default_currency="GBP")
    rate = models.DecimalField(
        max_digits=24, decimal_places=10, help_text="Local units per 1 home unit."
    )
    rate_at = models.DateTimeField(help_text="When the rate was imported.")
    routing_reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    jws = models.TextField(help_text="The quote, signed with the trust layer's key.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.local_amount} via {self.rail}"

    @property
    def home_total(self) -> Money:
        """What the payer's action costs in the home currency, fees included: the amount an
        agent grant's spend limits count."""
        return self.settlement_amount + self.fees


class Payment(BaseModel):
    """Money taken from a user on a rail, against a quote. Status moves only in services,
    under a row lock; every move is a PaymentEvent. Evidence, like its events, refunds and
    rail notices: never deleted (PostgreSQL refuses)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        AUTHORIZED = "authorized", "Authorized"
        CAPTURED = "captured", "Captured"
        VOIDED = "voided", "Voided"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        FAILED = "failed", "Failed"

    statuses = StatusVocabulary(
        Status,
        {
            Status.PENDING: Tone.INFO,
            Status.REQUIRES_ACTION: Tone.WARNING,
            Status.AUTHORIZED: Tone.INFO,
            Status.CAPTURED: Tone.SUCCESS,
            Status.VOIDED: Tone.DANGER,
            Status.REFUNDED: Tone.NEUTRAL,
            Status.PARTIALLY_REFUNDED: Tone.NEUTRAL,
            Status.FAILED: Tone.DANGER,
        },
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    grant = models.ForeignKey(
        "identity.AgentGrant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        help_text="The agent grant that paid through the API, whose limits it counts against.",
    )
    holds_agent_spend = models.BooleanField(
        default=False,
        help_text=(
            "The payment reserved its agent's spend itself (paid through the API) and gives "
            "it back if no money moves. A dispatch's payment leaves that to its order."
        ),
    )
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="payment")
    rail = models.ForeignKey(Rail, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField(max_length=200, help_text="What the payment is for.")
    payer_account_sealed = models.TextField(
        blank=True,
        editable=False,
        help_text="The phone (M-Pesa) or VPA (UPI) to charge, sealed (GERAOS_SEALING_KEYS).",
    )
    payer_account = SealedProperty("payer_account_sealed", empty=str)
    local_amount = MoneyField(max_digits=14, decimal_places=3, default_currency="GBP")
    settled_amount = MoneyField(max_digits=14, decimal_places=2, default_currency="GBP")
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    captured_amount = MoneyField(max_digits=14, decimal_places=3, default_currency="GBP", default=0)
    refunded_amount = MoneyField(max_digits=14, decimal_places=3, default_currency="GBP", default=0)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    # The client's key (up to 255 characters) namespaced by who sent it.
    idempotency_key = models.CharField(max_length=320, unique=True)
    # Saved before the provider is called, so a retry after a timeout sends the same key.
    provider_idempotency_key = models.CharField(max_length=255, unique=True)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    authorize_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a rail that cannot be asked twice (an M-Pesa STK push prompts the "
        "payer again) was asked to authorize, committed before the request. Set and with no "
        "reference, the answer was lost: the rail is not asked again, and the callback, "
        "whose URL names the payment, says what happened.",
    )
    next_action = models.JSONField(null=True, blank=True)
    confirmation_id = models.CharField(max_length=255, blank=True)
    confirmation_verified = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["rail", "status"])]
        permissions = [
            ("refund_payment", "Can refund payments"),
            ("export_payment", "Can export payments"),
        ]

    def __str__(self) -> str:
        return f"{self.local_amount} via {self.rail} ({self.get_status_display()})"


class PaymentEvent(models.Model):
    """One status change (or provider observation) of a payment: append-only history."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=24, choices=Payment.Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Payment.Status.choices)
    cause = models.CharField(max_length=100)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()} ({self.cause})"


class Refund(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    statuses = StatusVocabulary(
        Status,
        {Status.PENDING: Tone.INFO, Status.SUCCEEDED: Tone.SUCCESS, Status.FAILED: Tone.DANGER},
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = MoneyField(max_digits=14, decimal_places=3, default_currency="GBP")
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    provider_idempotency_key = models.CharField(max_length=255, unique=True)
    provider_reference = models.CharField(max_length=255, blank=True)
    send_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Sent to the rail and not answered yet. Left standing long after (the "
        "sending process died) it is sent again, with the same key.",
    )
    send_interrupted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When sending it to the rail broke off unanswered (e.g. a network error): "
        "it is sent again, with the same key, before the payment is refunded further.",
    )
    requested_for = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="What asked for it (dispute:<id>), so that asking again finds it; empty for "
        "an operator's refund from Payments.",
    )
    refunded_total = MoneyField(
        max_digits=14,
        decimal_places=3,
        default_currency="GBP",
        null=True,
        blank=True,
        help_text="All the payment's refunds that had succeeded once this one did, itself "
        "included: what its receipt says was refunded so far.",
    )

    class Meta:
        permissions = [("export_refund", "Can export refunds")]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id} ({self.get_status_display()})"


class ProviderEvent(models.Model):
    """A webhook or callback already applied, by the rail's event id: replays are skipped."""

    rail = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    provider_reference = models.CharField(max_length=255, blank=True, db_index=True)
    # A notice that arrived before we stored its payment's reference waits here.
    pending_result = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rail notice"
        constraints = [
            models.UniqueConstraint(fields=["rail", "event_id"], name="payments_event_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rail} {self.event_id}"
