import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField
from djmoney.models.fields import MoneyField

from apps.core.models import BaseModel, validate_currency_code
from apps.core.status import StatusVocabulary, Tone


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Email is the login: compare and store it case-insensitively throughout.
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str) -> "User":
        return self.get(email__iexact=email)

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """One Gera account across every product. Email is the login; there is no username."""

    email = models.EmailField("email address", max_length=254, unique=True)
    name = models.CharField(max_length=150, blank=True)
    country = CountryField(blank=True, help_text="ISO 3166-1 alpha-2; drives payment routing.")
    preferred_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_currency_code],
        help_text="ISO 4217 code the user sees prices in; empty means the country's.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Operators: may sign in to the operator admin."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="identity_user_email_ci_unique",
                violation_error_message="A user with this email address already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]


# ---------------------------------------------------------------------------
# Plans and entitlements
# ---------------------------------------------------------------------------


class Feature(models.TextChoices):
    """What a plan can grant. Quotas count per calendar month or in total (capacity)."""

    DISPATCHES = "dispatches", "Dispatches per month"
    MEMORY_ITEMS = "memory_items", "Memory items stored"
    AGENT_GRANTS = "agent_grants", "Active agent grants"
    CROSS_PRODUCT_MEMORY = "cross_product_memory", "Cross-product memory sharing"
    PREMIUM_SKILLS = "premium_skills", "Premium-tier skills"


MONTHLY_FEATURES = frozenset({Feature.DISPATCHES})
CAPACITY_FEATURES = frozenset({Feature.MEMORY_ITEMS, Feature.AGENT_GRANTS})


class Plan(BaseModel):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    price = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    is_default = models.BooleanField(
        default=False, help_text="The plan of every account without an active subscription."
    )
    stripe_price_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["price"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="identity_plan_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanEntitlement(models.Model):
    """A feature a plan includes; `quota` empty means unlimited (or a plain on/off)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="entitlements")
    feature = models.CharField(max_length=32, choices=Feature.choices)
    quota = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "feature"], name="identity_plan_feature_unique")
        ]

    def __str__(self) -> str:
        limit = "unlimited" if self.quota is None else self.quota
        return f"{self.plan.code}: {self.feature} ({limit})"


class Subscription(BaseModel):
    class Status(models.TextChoices):
        # Only active and past due give the plan (selectors.PLAN_GIVING_STATUSES).
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        UNPAID = "unpaid", "Unpaid"
        PAUSED = "paused", "Paused"
        CANCELED = "canceled", "Canceled"

    statuses = StatusVocabulary(
        Status,
        {
            Status.ACTIVE: Tone.SUCCESS,
            Status.PAST_DUE: Tone.WARNING,
            Status.UNPAID: Tone.DANGER,
            Status.PAUSED: Tone.NEUTRAL,
            Status.CANCELED: Tone.NEUTRAL,
        },
    )

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    current_period_end = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    # Creation time of the newest Stripe event applied; older events never regress state.
    stripe_state_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} on {self.plan} ({self.get_status_display()})"


class EntitlementUsage(models.Model):
    """How much of a quota a user consumed in a period (capacity quotas use one period)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="entitlement_usage")
    feature = models.CharField(max_length=32, choices=Feature.choices)
    period_start = models.DateField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "feature", "period_start"], name="identity_usage_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.used} {self.feature} from {self.period_start}"


class StripeEvent(models.Model):
    """Every Stripe webhook event applied, by id: a replay is recognised and skipped."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=128)
    created = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


# ---------------------------------------------------------------------------
# Agent grants: a user lets an agent act for them, within scopes and spend limits
# ---------------------------------------------------------------------------


class AgentGrant(BaseModel):
    class State(models.TextChoices):
        """Not stored: read from when it expires and whether it was revoked."""

        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    states = StatusVocabulary(
        State, {State.ACTIVE: Tone.SUCCESS, State.EXPIRED: Tone.WARNING, State.REVOKED: Tone.DANGER}
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agent_grants")
    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=100, help_text="The agent's own identifier.")
    scopes = models.JSONField(default=list)
    allowed_capabilities = models.JSONField(
        default=list, blank=True, help_text="Skill capability codes; empty allows all."
    )
    per_action_limit = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    daily_limit = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    # A grant acts either through its gera_ token or through an OAuth client's tokens;
    # unique, so an absent token is NULL rather than "".
    token_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    oauth_client = models.ForeignKey(
        "allauth_idp_oidc.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agent_grants",
        help_text="The OAuth client the user approved on the consent page.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_hash__isnull=False, oauth_client__isnull=True)
                | models.Q(token_hash__isnull=True, oauth_client__isnull=False),
                name="identity_grant_token_or_client",
            ),
            # Approving a client again replaces the grant the user gave it before.
            models.UniqueConstraint(
                fields=["user", "oauth_client"],
                condition=models.Q(revoked_at__isnull=True, oauth_client__isnull=False),
                name="identity_grant_one_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def state(self) -> State:
        if self.is_revoked:
            return self.State.REVOKED
        return self.State.EXPIRED if self.is_expired else self.State.ACTIVE


class AgentSpend(models.Model):
    """Money an agent committed under a grant: the ledger its spend limits are checked on."""

    grant = models.ForeignKey(AgentGrant, on_delete=models.PROTECT, related_name="spends")
    amount = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    reference = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="The action failed and no money moved: not counted."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant", "reference"], name="identity_spend_ref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.grant.name} ({self.reference})"


class TOTPUse(models.Model):
    """The last time step an authenticator app's code passed the second step with. A code
    of that step or an earlier one is refused (RFC 6238, 5.2), so a code read over a
    shoulder or from a phishing page signs in once. A row, not a cache entry: Redis being
    away, or losing its data, never lets a used code in again."""

    authenticator = models.OneToOneField(
        "mfa.Authenticator", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_step = models.BigIntegerField()

    def __str__(self) -> str:
        return f"authenticator {self.authenticator_id}: step {self.last_step}"
