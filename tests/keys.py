"""Keys tests make for themselves."""

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def new_oidc_key() -> str:
    """An RSA private key in PEM, as GERAOS_OIDC_PRIVATE_KEY holds one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def production_keys() -> dict[str, str]:
    """Every key setting a production deployment must set, each freshly made."""
    return {
        "GERAOS_MEMORY_KEYS": "prod1:" + secrets.token_urlsafe(32),
        "GERAOS_SEALING_KEYS": "prod1:" + secrets.token_urlsafe(32),
        "GERAOS_LOOKUP_KEYS": "prod1:" + secrets.token_urlsafe(32),
        "GERAOS_TRUST_KEY_SECRET": secrets.token_urlsafe(32),
        "GERAOS_OIDC_PRIVATE_KEY": new_oidc_key(),
    }
