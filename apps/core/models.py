from django.db import models


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
