from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.money import ISO_CURRENCY_CODES


def validate_currency_code(value: str) -> None:
    """Any ISO 4217 currency; the list lives in py-moneyed, not in migrations."""
    if value not in ISO_CURRENCY_CODES:
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code.",
            code="invalid_currency",
            params={"value": value},
        )


class BaseModel(models.Model):
    """Creation and last-change times, on every GeraOS table."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The outcome of one money-moving API request, kept so a retry gets the same answer.

    Unique per caller, path and key; `request_hash` is the SHA-256 of the body's RFC 8785
    form, so the same key with another body is recognised as a mistake.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    caller = models.CharField(max_length=100)
    path = models.CharField(max_length=300)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    # Sealed (core.sealing), as a response may hold a secret shown only once (the callback
    # secret of a new dispatch).
    response_body_sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "path", "key"], name="core_idempotency_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.path} {self.key} ({self.status})"


class AuditEvent(models.Model):
    """One operator action, written in the transaction that made the change, never edited.

    Events form a hash chain: `hash` covers the event's own document and the previous
    event's hash, so an edit anywhere breaks every hash after it, and trust signs the
    chain's head (apps.trust.audit) so rewriting the whole tail is caught too.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text="The operator; empty for the system itself.",
    )
    actor_email = models.CharField(max_length=254, blank=True)
    actor_used_mfa = models.BooleanField(
        default=False, help_text="The operator's session was signed in with a second factor."
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        permissions = [("export_auditevent", "Can export the audit log")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_repr}"


class AuditChain(models.Model):
    """The chain's head: one row, locked by each append so events are chained one by one."""

    length = models.PositiveBigIntegerField(default=0)
    head = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain of {self.length}"
