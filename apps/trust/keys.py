"""Ed25519 signing keys: generated here, private halves sealed with AES-GCM under
GERAOS_TRUST_KEY_SECRET before they touch the database."""

import base64
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

from apps.trust.jose import b64url

NONCE_BYTES = 12


def _sealing_key() -> AESGCM:
    return AESGCM(base64.urlsafe_b64decode(settings.GERAOS_TRUST_KEY_SECRET.encode() + b"=="))


def new_keypair() -> tuple[Ed25519PrivateKey, bytes]:
    private = Ed25519PrivateKey.generate()
    return private, public_bytes(private.public_key())


def public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def seal_private_key(private: Ed25519PrivateKey, *, kid: str) -> str:
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = os.urandom(NONCE_BYTES)
    sealed = _sealing_key().encrypt(nonce, raw, f"trust-key:{kid}".encode())
    return base64.b64encode(nonce + sealed).decode()


def open_private_key(sealed: str, *, kid: str) -> Ed25519PrivateKey:
    blob = base64.b64decode(sealed)
    raw = _sealing_key().decrypt(
        blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"trust-key:{kid}".encode()
    )
    return Ed25519PrivateKey.from_private_bytes(raw)


def jwk_for(*, kid: str, public_key: bytes) -> dict:
    """An OKP/Ed25519 JWK (RFC 8037)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(public_key),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    }
