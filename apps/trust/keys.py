"""Ed25519 signing keys: generated here, private halves sealed (core.sealing) before they
touch the database."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from apps.core.sealing import seal, unseal
from apps.trust.jose import b64url


def new_keypair() -> tuple[Ed25519PrivateKey, bytes]:
    private = Ed25519PrivateKey.generate()
    return private, public_bytes(private.public_key())


def public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def seal_private_key(private: Ed25519PrivateKey, *, kid: str) -> str:
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return seal(raw, context=f"trust-key:{kid}")


def open_private_key(sealed: str, *, kid: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unseal(sealed, context=f"trust-key:{kid}"))


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
