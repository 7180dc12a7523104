"""Secrets and personal data at rest, sealed with AES-256-GCM. The context is bound as
associated data, so a sealed value copied onto another row does not open there.

- `seal` / `unseal`: the trust layer's secrets (signing keys, provider and callback
  secrets, stored API responses) under GERAOS_TRUST_KEY_SECRET.
- A keyring (`kid:base64key` pairs, comma-separated) seals under its first key and opens
  under any of them, so keys rotate: a value reads `v1.<kid>.<base64(nonce|ciphertext)>`.
  GERAOS_SEALING_KEYS seals two-factor secrets and personal fields (`seal_text`,
  `SealedProperty`); memory has its own ring (apps/memory/crypto.py).
- A sealed value that must be found again is found by its keyed hash, HMAC-SHA256 under
  GERAOS_LOOKUP_KEYS (`lookup_hash`, reading `<kid>:<hex>`).

Rotating a ring, so that a rolling restart never meets a key some process lacks: add the
new key after the others everywhere (`rotate_sealing_key --generate KID` prints one), then
move it first everywhere, then run `rotate_sealing_key` (which fails while anything is
left under an old key), then drop the old ones (README, Security, "Sealing keys").
"""

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

logger = logging.getLogger(__name__)

NONCE_BYTES = 12
VERSION = "v1"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
KEY_BYTES = 32
TRUST_KEY = "GERAOS_TRUST_KEY_SECRET"
SEALING_KEYS = "GERAOS_SEALING_KEYS"
LOOKUP_KEYS = "GERAOS_LOOKUP_KEYS"
MEMORY_KEYS = "GERAOS_MEMORY_KEYS"
KEYRINGS = (SEALING_KEYS, LOOKUP_KEYS, MEMORY_KEYS)


def _key() -> AESGCM:
    return AESGCM(_trust_key(settings.GERAOS_TRUST_KEY_SECRET))


@cache
def _trust_key(encoded: str) -> bytes:
    return _decode_key(TRUST_KEY, encoded)


def seal(plaintext: bytes, *, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + _key().encrypt(nonce, plaintext, context.encode())).decode()


def unseal(sealed: str, *, context: str) -> bytes:
    blob = base64.b64decode(sealed)
    return _key().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())


# ---------------------------------------------------------------------------
# Keyrings
# ---------------------------------------------------------------------------


class UndecryptableValue(Exception):
    """The value's key is not configured, or the value was tampered with or moved."""


@dataclass(frozen=True)
class Keyring:
    primary_kid: str
    keys: dict[str, bytes]

    @property
    def current_prefix(self) -> str:
        """How a value sealed with the primary key begins."""
        return f"{VERSION}.{self.primary_kid}."

    def seal(self, plaintext: bytes, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.primary_kid]).encrypt(nonce, plaintext, context.encode())
        return self.current_prefix + base64.b64encode(nonce + sealed).decode()

    def open(self, token: str, *, context: str) -> bytes:
        version, _, rest = token.partition(".")
        kid, _, payload = rest.partition(".")
        key = self.keys.get(kid)
        if version != VERSION or key is None:
            raise UndecryptableValue(f"No key {kid!r} for this value.")
        try:
            blob = base64.b64decode(payload, validate=True)
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise UndecryptableValue("The value does not decrypt in this place.") from exc

    def hash(self, value: str, *, purpose: str) -> str:
        return _keyed_hash(self.primary_kid, self.keys[self.primary_kid], value, purpose)

    def hashes(self, value: str, *, purpose: str) -> list[str]:
        """The value's hash under every key: what finds it while keys rotate."""
        return [_keyed_hash(kid, key, value, purpose) for kid, key in self.keys.items()]


def _keyed_hash(kid: str, key: bytes, value: str, purpose: str) -> str:
    message = json.dumps([purpose, value]).encode()
    return f"{kid}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


def keyring(setting: str) -> Keyring:
    """The keyring the setting `setting` names."""
    return _parse_keyring(setting, getattr(settings, setting))


@cache
def _parse_keyring(setting: str, spec: str) -> Keyring:
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(filter(None, (part.strip() for part in spec.split(",")))):
        kid, _, encoded = entry.partition(":")
        if not KEY_ID.fullmatch(kid):
            raise ImproperlyConfigured(
                f"{setting} entry {position + 1} is not kid:<32 bytes, base64>, the kid of "
                "letters, digits, - and _ (at most 32)."
            )
        if kid in keys:  # a new key pasted under an old id would replace the one it sealed with
            raise ImproperlyConfigured(f"{setting} names the key id {kid} twice.")
        keys[kid] = _decode_key(f"{setting} key {kid}", encoded)
    if not keys:
        raise ImproperlyConfigured(f"{setting} must name at least one key.")
    return Keyring(primary_kid=next(iter(keys)), keys=keys)


def _decode_key(name: str, encoded: str) -> bytes:
    """32 bytes from base64 in either alphabet, padded or not; anything else is refused
    (a lenient decoder drops a mistyped character and reads another key)."""
    standard = encoded.translate(str.maketrans("-_", "+/"))
    try:
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except binascii.Error as error:
        raise ImproperlyConfigured(f"{name} is not base64 ({error}).") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name} is {len(raw)} bytes, not {KEY_BYTES}.")
    return raw


class DevelopmentKeySeals(ImproperlyConfigured):
    """With DEBUG off, a development key would seal (or hash): the first of a ring, or
    the trust key."""


def keys_check() -> None:
    """Read every key setting, so that a mistake stops a process as it starts rather than
    at the first value it seals. No key may serve two settings (a lookup hash would be
    made with a sealing key), and with DEBUG off no development key, which the source
    publishes, may seal: one kept after the first only opens what it sealed before, until
    it is rotated off, and is warned of."""
    held = {setting: set(keyring(setting).keys.values()) for setting in KEYRINGS}
    held[TRUST_KEY] = {_trust_key(settings.GERAOS_TRUST_KEY_SECRET)}
    for (first, first_keys), (second, second_keys) in itertools.combinations(held.items(), 2):
        if first_keys & second_keys:
            raise ImproperlyConfigured(
                f"{first} and {second} hold the same key: each needs keys of its own."
            )
    if settings.DEBUG:
        return
    published = {_decode_key("a development key", key) for key in settings.GERAOS_DEVELOPMENT_KEYS}
    if _trust_key(settings.GERAOS_TRUST_KEY_SECRET) in published:
        raise DevelopmentKeySeals(
            f"{TRUST_KEY} is a development key, published in the source: with DEBUG off, "
            "give it a key of its own."
        )
    for setting in KEYRINGS:
        ring = keyring(setting)
        if ring.keys[ring.primary_kid] in published:
            raise DevelopmentKeySeals(
                f"{setting} seals with a development key, published in the source: with "
                "DEBUG off, put a key of its own first (rotate_sealing_key --generate KID "
                "prints one) and keep this one after it until rotated off."
            )
        for kid in [kid for kid, key in ring.keys.items() if key in published]:
            logger.warning(
                "%s key %s is a development key, published in the source: it only opens "
                "what it sealed before; rotate off it and drop it.",
                setting,
                kid,
            )


def generate_key_entry(kid: str) -> str:
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


# ---------------------------------------------------------------------------
# Two-factor secrets and personal fields (GERAOS_SEALING_KEYS)
# ---------------------------------------------------------------------------


def seal_text(text: str, *, context: str) -> str:
    return keyring(SEALING_KEYS).seal(text.encode(), context=context)


def open_text(sealed: str, *, context: str) -> str:
    return keyring(SEALING_KEYS).open(sealed, context=context).decode()


def column_context(obj: models.Model, column: str) -> str:
    """What binds a sealed column's value to its row."""
    if obj.pk is None:
        raise ValueError(f"{obj._meta.label} needs its primary key before {column} is sealed.")
    return f"{obj._meta.label_lower}.{column}:{obj.pk}"


def reseal_text(sealed: str, *, context: str) -> str:
    """The value sealed with the primary key: as it is if it already is."""
    if sealed.startswith(keyring(SEALING_KEYS).current_prefix):
        return sealed
    return seal_text(open_text(sealed, context=context), context=context)


class SealedProperty(property):
    """A model's JSON value sealed in `column`: reading opens it, setting seals it. An empty
    value is stored as an empty column (and reads as `empty()`). Django's model constructor
    sets properties after fields, so a UUID primary key exists by then."""

    def __init__(self, column: str, *, empty: Callable[[], object]) -> None:
        super().__init__(doc=f"The plaintext of {column}, sealed at rest.")
        self.column = column
        self.empty = empty

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        sealed = getattr(obj, self.column)
        if not sealed:
            return self.empty()
        return json.loads(open_text(sealed, context=column_context(obj, self.column)))

    def __set__(self, obj, value) -> None:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True) if value else ""
        context = column_context(obj, self.column)
        setattr(obj, self.column, seal_text(text, context=context) if text else "")


def sealed_columns() -> list[tuple[type[models.Model], str]]:
    """Every model's SealedProperty columns."""
    return [
        (model, attribute.column)
        for model in django_apps.get_models()
        for attribute in vars(model).values()
        if isinstance(attribute, SealedProperty)
    ]


def _under_old_keys(model: type[models.Model], column: str) -> models.QuerySet:
    current = keyring(SEALING_KEYS).current_prefix
    return model.objects.exclude(**{column: ""}).exclude(**{f"{column}__startswith": current})


def column_under_old_keys(model: type[models.Model], column: str) -> int:
    """How many values of a SealedProperty column are not sealed with the primary key."""
    return _under_old_keys(model, column).count()


def reseal_column(model: type[models.Model], column: str, *, batch_size: int = 500) -> int:
    """Move every value of a SealedProperty column not sealed with the primary key onto it,
    each row under its lock; returns how many moved."""
    stale = _under_old_keys(model, column)
    moved = 0
    while batch := list(stale.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            for obj in model.objects.select_for_update().filter(pk__in=batch).only("pk", column):
                context = column_context(obj, column)
                setattr(obj, column, reseal_text(getattr(obj, column), context=context))
                obj.save(update_fields=[column])
                moved += 1
    return moved


# ---------------------------------------------------------------------------
# Keyed hashes (GERAOS_LOOKUP_KEYS)
# ---------------------------------------------------------------------------


def lookup_hash(value: str, *, purpose: str) -> str:
    """What to store beside a sealed value to find it again by its plaintext."""
    return keyring(LOOKUP_KEYS).hash(value, purpose=purpose)


def lookup_hashes(value: str, *, purpose: str) -> list[str]:
    """What to look for: the hash under each lookup key, so rows not rehashed yet match."""
    return keyring(LOOKUP_KEYS).hashes(value, purpose=purpose)


def current_lookup_prefix() -> str:
    """How a hash made with the primary lookup key begins."""
    return f"{keyring(LOOKUP_KEYS).primary_kid}:"
