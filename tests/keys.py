"""Keys tests make for themselves."""

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


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


def encrypted_oidc_key() -> str:
    """An RSA private key in PEM encrypted with a passphrase: it cannot sign unattended."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"a passphrase"),
    )
    return pem.decode()


def ec_private_key() -> str:
    """An EC private key in OpenSSL's PEM (`BEGIN EC PRIVATE KEY`): no RSA key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return pem.decode()
