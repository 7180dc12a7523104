"""Memory values are encrypted at rest with AES-256-GCM.

Keys come from GERAOS_MEMORY_KEYS, `kid:base64key` pairs separated by commas; the first is
the primary and encrypts, the others only decrypt (until `rotate_memory_key` has moved
every value to the primary). A stored value reads `v1.<kid>.<base64(nonce|ciphertext)>`.
The associated data binds a ciphertext to its owner and place, so a value copied into
another row does not decrypt.
"""

import base64
import json
import os
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
NONCE_BYTES = 12


class UndecryptableValue(Exception):
    """The value's key is not configured, or the value was tampered with or moved."""


@dataclass(frozen=True)
class Keyring:
    primary_kid: str
    keys: dict[str, AESGCM]


@cache
def _keyring(spec: str) -> Keyring:
    keys: dict[str, AESGCM] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        kid, _, encoded = entry.partition(":")
        raw = base64.urlsafe_b64decode(encoded.encode() + b"==")
        if not kid or len(raw) != 32:
            raise ImproperlyConfigured("GERAOS_MEMORY_KEYS entries are kid:<32 bytes, base64>.")
        keys[kid] = AESGCM(raw)
    if not keys:
        raise ImproperlyConfigured("GERAOS_MEMORY_KEYS must name at least one key.")
    return Keyring(primary_kid=next(iter(keys)), keys=keys)


def keyring() -> Keyring:
    return _keyring(settings.GERAOS_MEMORY_KEYS)


def generate_key_entry(kid: str) -> str:
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


def encrypt_value(value, *, context: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    sealed = ring.keys[ring.primary_kid].encrypt(nonce, plaintext, context.encode())
    return f"{VERSION}.{ring.primary_kid}.{base64.b64encode(nonce + sealed).decode()}"


def decrypt_value(token: str, *, context: str):
    version, kid, payload = token.split(".", 2)
    key = keyring().keys.get(kid)
    if version != VERSION or key is None:
        raise UndecryptableValue(f"No key {kid!r} for this value.")
    blob = base64.b64decode(payload)
    try:
        plaintext = key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
    except Exception as exc:
        raise UndecryptableValue("The value does not decrypt in this place.") from exc
    return json.loads(plaintext)
