from django.conf import settings
from django.db import models

from apps.core.models import BaseModel
from apps.core.status import StatusVocabulary, Tone


class MemoryScope(BaseModel):
    """A kind of context (preferences, home, health…): the unit of consent."""

    class Sensitivity(models.TextChoices):
        NORMAL = "normal", "Normal"
        SENSITIVE = "sensitive", "Sensitive"

    sensitivities = StatusVocabulary(
        Sensitivity, {Sensitivity.NORMAL: Tone.NEUTRAL, Sensitivity.SENSITIVE: Tone.WARNING}
    )

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    sensitivity = models.CharField(
        max_length=16, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sensitive(self) -> bool:
        return self.sensitivity == self.Sensitivity.SENSITIVE


class MemoryItem(BaseModel):
    """One remembered thing, kept under a key. The key and the JSON value are AES-GCM sealed
    (`key_sealed`, `value_encrypted`), bound to the item; services and selectors set them
    opened as `key` and `value`. An item is found by its key's keyed hash, which keeps one
    item per key in its place."""

    class Kind(models.TextChoices):
        PREFERENCE = "preference", "Preference"
        PRIOR_ACTION = "prior_action", "Prior action"
        CONVERSATION_SUMMARY = "conversation_summary", "Conversation summary"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_items"
    )
    scope = models.ForeignKey(MemoryScope, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    key_sealed = models.TextField()
    key_hash = models.CharField(max_length=100, help_text="HMAC-SHA256 of the key.")
    value_encrypted = models.TextField()
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        related_name="memory_items",
        help_text="The product that wrote it.",
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scope__name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "product", "key_hash"], name="memory_item_key_unique"
            )
        ]
        indexes = [models.Index(fields=["user", "scope"])]

    def __str__(self) -> str:
        return f"{self.scope.code} item {self.pk}"

    # The key and the value are bound to the item itself, its id among them, so neither
    # opens on another of the user's items (nor on an item made again under that key).
    @property
    def key_context(self) -> str:
        return f"memory-key:{self.user_id}:{self.scope_id}:{self.product_id}:{self._id()}"

    @property
    def encryption_context(self) -> str:
        return f"memory:{self.user_id}:{self.scope_id}:{self.product_id}:{self._id()}:{self.key}"

    def _id(self) -> int:
        if self.pk is None:
            raise ValueError("A memory item is saved before its key and value are sealed.")
        return self.pk


class ConsentGrant(BaseModel):
    """What the user lets one product do with one scope. One row per cell of the grid.
    Evidence: revoked, never deleted (nor is anything it names)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memory_consents"
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT)
    scope = models.ForeignKey(MemoryScope, on_delete=models.PROTECT)
    can_read = models.BooleanField(default=False)
    can_write = models.BooleanField(default=False)
    granted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The operator who revoked it, for user requests.",
    )
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product", "scope"], name="memory_consent_cell_unique"
            )
        ]

    def __str__(self) -> str:
        rights = "+".join(r for r, on in (("read", self.can_read), ("write", self.can_write)) if on)
        return f"{self.user} → {self.product.code}/{self.scope.code}: {rights or 'none'}"


class AccessLogEntry(models.Model):
    """Who touched which memory, when, why, and whether it was allowed. Evidence: never
    deleted, erasure included (it holds no memory value), nor is anything it names."""

    class Action(models.TextChoices):
        READ = "read", "read"
        WRITE = "write", "wrote"
        ERASE = "erase", "erased"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memory_access_log"
    )
    product = models.ForeignKey("catalog.Product", null=True, on_delete=models.PROTECT)
    agent_grant = models.ForeignKey("identity.AgentGrant", null=True, on_delete=models.PROTECT)
    scope = models.ForeignKey(MemoryScope, null=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=16, choices=Action.choices)
    item_ids = models.JSONField(default=list)
    purpose = models.CharField(max_length=200, blank=True)
    allowed = models.BooleanField()
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "-at"])]
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        return (
            f"{self.product} {self.action} {self.scope} ({'allowed' if self.allowed else 'denied'})"
        )
