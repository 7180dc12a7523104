"""The consent policy: which product may read or write which of a user's memory scopes.

- A product reads and writes what it wrote itself in normal scopes, unless the user
  switched that off for it.
- Sensitive scopes are never on by default: they need the user's explicit consent.
- Reading what *other* products wrote needs explicit consent and the plan's
  cross-product memory entitlement (Studio); without the entitlement a consented product
  still sees only its own items.
Consent rows are read on every call, so a change applies to the very next request.
"""

from dataclasses import dataclass

from django.db import models

from apps.catalog.models import Product
from apps.core.status import StatusVocabulary, Tone
from apps.identity import selectors as identity_selectors
from apps.identity.models import Feature
from apps.memory.errors import ConsentRequired
from apps.memory.models import ConsentGrant, MemoryScope


@dataclass(frozen=True)
class ReadAccess:
    """`writer_ids` is None when every product's items may be read."""

    writer_ids: frozenset[int] | None


def _consent(user, product: Product, scope: MemoryScope) -> ConsentGrant | None:
    return ConsentGrant.objects.filter(user=user, product=product, scope=scope).first()


def _refuse(product: Product, scope: MemoryScope, action: str) -> ConsentRequired:
    return ConsentRequired(
        f"{product.name} may not {action} {scope.name}: the user has not consented.",
        extra={"product": product.code, "scope": scope.code, "action": action},
    )


class ReadStanding(models.TextChoices):
    """How a product stands for reading a scope of a user's."""

    ON = "on", "On"  # consented: it reads every product's items (given the entitlement)
    OFF = "off", "Off"  # sensitive and never consented, or switched off by the user
    OWN = "own", "Own items only"  # the user said nothing: it reads what it wrote itself


READ_STANDINGS = StatusVocabulary(
    ReadStanding,
    {ReadStanding.ON: Tone.SUCCESS, ReadStanding.OFF: Tone.DANGER, ReadStanding.OWN: Tone.NEUTRAL},
)


def read_standing(consent: ConsentGrant | None, scope: MemoryScope) -> ReadStanding:
    if consent and consent.can_read:
        return ReadStanding.ON
    if scope.is_sensitive or (consent is not None and consent.revoked_at is not None):
        return ReadStanding.OFF
    return ReadStanding.OWN


def read_access(*, user, product: Product, scope: MemoryScope) -> ReadAccess:
    standing = read_standing(_consent(user, product, scope), scope)
    if standing == ReadStanding.OFF:
        raise _refuse(product, scope, "read")
    if standing == ReadStanding.ON and identity_selectors.has_feature(
        user=user, feature=Feature.CROSS_PRODUCT_MEMORY
    ):
        return ReadAccess(writer_ids=None)
    return ReadAccess(writer_ids=frozenset({product.pk}))


def check_write(*, user, product: Product, scope: MemoryScope) -> None:
    consent = _consent(user, product, scope)
    if consent and consent.can_write:
        return
    switched_off = consent is not None and consent.revoked_at is not None
    if scope.is_sensitive or switched_off:
        raise _refuse(product, scope, "write")
