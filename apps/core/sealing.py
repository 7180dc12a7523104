"""Secrets at rest (signing keys, provider and callback secrets) sealed with AES-256-GCM
under GERAOS_TRUST_KEY_SECRET. The context is bound as associated data, so a sealed value
copied onto another row does not open there."""

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12


def _key() -> AESGCM:
    return AESGCM(base64.urlsafe_b64decode(settings.GERAOS_TRUST_KEY_SECRET.encode() + b"=="))


def seal(plaintext: bytes, *, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + _key().encrypt(nonce, plaintext, context.encode())).decode()


def unseal(sealed: str, *, context: str) -> bytes:
    blob = base64.b64decode(sealed)
    return _key().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
