"""Agent API tokens: shown once, stored only as a SHA-256 hash, found by that hash.

A token is `gera_<prefix>_<secret>`; the prefix stays visible so users and operators can
tell tokens apart. The secret carries 256 bits, so a plain hash is enough (no slow KDF).
"""

import hashlib
import secrets
from dataclasses import dataclass

TOKEN_SCHEME = "gera"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: str
    prefix: str
    hash: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token() -> IssuedToken:
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedToken(token=token, prefix=prefix, hash=hash_token(token))


def adopt_token(token: str) -> IssuedToken:
    """A token chosen elsewhere (the demo's published one) in issued form."""
    scheme, prefix, secret = token.split("_", 2)
    if scheme != TOKEN_SCHEME or not prefix or len(secret) < 32:
        raise ValueError("A token looks like gera_<prefix>_<secret of 32+ characters>.")
    return IssuedToken(token=token, prefix=prefix, hash=hash_token(token))
