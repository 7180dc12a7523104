"""Keys tests make for themselves."""

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
