from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from djmoney.models.fields import MoneyField

from apps.catalog.schemas import input_schema_problem
from apps.core.models import BaseModel
from apps.core.status import StatusVocabulary, Tone


class Product(BaseModel):
    """A Gera product (GeraHome, GeraClinic, …): publishes skills, reads consented memory."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def validate_input_schema(schema) -> None:
    """Also on edits in the admin: a published skill's schema changes without publishing."""
    problem = input_schema_problem(schema)
    if problem is not None:
        raise ValidationError(problem)


class Skill(BaseModel):
    """A capability a product publishes (e.g. `home.plumbing`), which agents discover and
    dispatch does. Its input is a JSON Schema the agent fills in."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        SUSPENDED = "suspended", "Suspended"

    statuses = StatusVocabulary(
        Status,
        {Status.DRAFT: Tone.NEUTRAL, Status.PUBLISHED: Tone.SUCCESS, Status.SUSPENDED: Tone.DANGER},
    )

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skills")
    capability = models.CharField(max_length=80, db_index=True, help_text="e.g. home.plumbing")
    title = models.CharField(max_length=120)
    description = models.TextField()
    synonyms = models.JSONField(default=list, blank=True, help_text="Words agents and people use.")
    examples = models.JSONField(default=list, blank=True, help_text="Example requests.")
    input_schema = models.JSONField(
        default=dict, validators=[validate_input_schema], help_text="JSON Schema of the details."
    )
    price_from = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    countries = models.JSONField(default=list, help_text="ISO country codes served.")
    cities = models.JSONField(default=list, help_text="Cities served.")
    memory_scopes = models.JSONField(default=list, blank=True, help_text="Memory scopes it reads.")
    required_entitlement = models.CharField(
        max_length=32, blank=True, help_text="An identity Feature, e.g. premium_skills."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["capability"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "capability"], name="catalog_skill_capability_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.capability} ({self.product.name})"


def validate_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"{name} is not an IANA timezone.") from error


class Provider(BaseModel):
    """Who actually does the work for a skill, somewhere, at a price, in some hours."""

    skills = models.ManyToManyField(Skill, related_name="providers")
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2)
    city = models.CharField(max_length=80, db_index=True)
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="The city's IANA zone, e.g. America/Sao_Paulo; empty: the country's first.",
    )
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    price = MoneyField(max_digits=12, decimal_places=2, default_currency="GBP")
    availability = models.JSONField(
        default=list,
        help_text='Weekly windows: [{"days": [0,1,2,3,4], "start": "08:00", "end": "12:00"}]',
    )

    class SandboxBehaviour(models.TextChoices):
        ACCEPT = "accept", "Accepts every booking"
        DECLINE = "decline", "Declines every booking"
        UNAVAILABLE = "unavailable", "Is down (answers 503)"

    endpoint_url = models.URLField(
        blank=True, help_text="Fulfilment endpoint (https); empty: GeraOS's built-in sandbox."
    )
    sandbox_behaviour = models.CharField(
        max_length=16,
        choices=SandboxBehaviour.choices,
        default=SandboxBehaviour.ACCEPT,
        help_text="How the built-in sandbox answers when there is no endpoint.",
    )
    # HMAC key for signed fulfilment requests and the provider's signed answers; sealed.
    shared_secret_sealed = models.TextField(blank=True, editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["city", "name"]
        permissions = [("rotate_provider_secret", "Can rotate and see a provider's signing secret")]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"

    @property
    def is_sandbox(self) -> bool:
        return not self.endpoint_url
