"""Compact JWS with EdDSA (RFC 7515, RFC 8037), and C2SP signed-note checkpoints.

Standard library and cryptography only: the offline verifier uses this module too.
"""

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# One key signs receipts, quotes and checkpoints (docs/DESIGN.md "Receipts" says why), so
# each kind says what it is and a verifier accepts the one kind it checks. A JWS says it
# in its `typ` (receipts have carried this one since the first was issued); a signed
# note in its origin line, an audit log's being its receipt log's plus AUDIT_ORIGIN_SUFFIX.
RECEIPT_TYPE = "geraos-receipt+jws"
QUOTE_TYPE = "geraos-quote+jws"
DOCUMENT_TYPES = {RECEIPT_TYPE: "receipt", QUOTE_TYPE: "quote"}
AUDIT_ORIGIN_SUFFIX = "/audit"
NOTE_ALG_ED25519 = b"\x01"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))


class VerificationError(Exception):
    """Why something does not verify, in one line."""


class NotSignedBy(VerificationError):
    """No signature of the note is by the key asked about (another key may have signed)."""


# --- JWS ---------------------------------------------------------------------------------


def jws_sign(payload: bytes, *, kid: str, key: Ed25519PrivateKey, typ: str) -> str:
    header = json.dumps({"alg": "EdDSA", "kid": kid, "typ": typ}, separators=(",", ":"))
    signing_input = f"{b64url(header.encode())}.{b64url(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


def jws_header(token: str) -> dict:
    return _json_object(token.split(".")[0])


def _json_object(segment: str) -> dict:
    """A base64url segment holding a JSON object, as a JWS header and payload must."""
    try:
        decoded = json.loads(b64url_decode(segment))
    except (ValueError, RecursionError) as exc:
        raise VerificationError("not a compact JWS") from exc
    if not isinstance(decoded, dict):
        raise VerificationError("not a compact JWS")
    return decoded


def jws_verify(token: str, *, jwks: dict, typ: str) -> dict:
    """Check that the JWS is a `typ` document and its signature with the key its header
    names; return the payload."""
    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationError("not a compact JWS")
    header = jws_header(token)
    if header.get("alg") != "EdDSA":
        raise VerificationError(f"unexpected alg {header.get('alg')!r}")
    _require_type(header.get("typ"), typ)
    public = public_key_from_jwks(jwks, header.get("kid"))
    try:
        public.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except (InvalidSignature, ValueError) as exc:
        raise VerificationError("signature does not match") from exc
    payload = _json_object(parts[1])
    if payload.get("kid") != header.get("kid"):
        raise VerificationError("kid in the receipt differs from the signing kid")
    return payload


def _require_type(found, expected: str) -> None:
    if found == expected:
        return
    kind = DOCUMENT_TYPES.get(found) if isinstance(found, str) else None
    what = f"it is a {kind} (typ {found!r})" if kind else f"its typ is {found!r}"
    raise VerificationError(f"not a {DOCUMENT_TYPES[expected]}: {what}")


def public_key_from_jwks(jwks: dict, kid: str | None) -> Ed25519PublicKey:
    for jwk in jwks.get("keys", []):
        if jwk.get("kid") == kid and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    raise VerificationError(f"no published key {kid!r}")


# --- C2SP checkpoints (signed notes) -------------------------------------------------------


def note_key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of a note signature (golang.org/x/mod/sumdb/note)."""
    return hashlib.sha256(name.encode() + b"\n" + NOTE_ALG_ED25519 + public_key).digest()[:4]


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def checkpoint_sign(body: str, *, name: str, key: Ed25519PrivateKey, public_key: bytes) -> str:
    signature = note_key_hash(name, public_key) + key.sign(body.encode())
    return f"{body}\n\u2014 {name} {base64.b64encode(signature).decode()}\n"


def checkpoint_verify(note: str, *, name: str, public_key: bytes) -> tuple[str, int, bytes]:
    """Verify a checkpoint signed by `name`; return (origin, size, root)."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        raise VerificationError("checkpoint has no signature block")
    body += "\n"
    expected = note_key_hash(name, public_key)
    public = Ed25519PublicKey.from_public_bytes(public_key)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != name:
            continue
        blob = base64.b64decode(parts[2])
        if blob[:4] != expected:
            continue
        try:
            public.verify(blob[4:], body.encode())
        except InvalidSignature as exc:
            raise VerificationError("checkpoint signature does not match") from exc
        origin, size, root = body.splitlines()[:3]
        return origin, int(size), base64.b64decode(root)
    raise NotSignedBy(f"checkpoint not signed by {name!r} with that key")
