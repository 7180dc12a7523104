"""Verify a GeraOS receipt bundle, or the operator audit log, offline, with nothing but
Python and `cryptography`.

    python -m apps.trust.verify BUNDLE.json --jwks JWKS.json|https://HOST/.well-known/jwks.json
    python -m apps.trust.verify --audit EXPORT.json --jwks JWKS [--checkpoint NOTE]...

A bundle (GET /api/v1/receipts/{id}/bundle) holds the receipt's JWS, its inclusion
proof, a signed checkpoint of the transparency log, and the public keys that signed
them. An audit export (`make manage ARGS="export_audit_log"`) holds every audit event
with its chain hashes and the newest signed head; each --checkpoint is a signed audit
head kept from before (the log must still contain it). A receipt must say it is one (its
JWS typ), and each checkpoint must be of its log: the receipt log's or the audit log's.

Both carry the keys they claim to be signed with, so anyone can make one that checks out
against them: they are verified against the keys you pin with --jwks (GeraOS's published
JWKS, as a file or fetched from an https URL). --trust-embedded-keys checks a file
against its own keys instead, and says so. Exit status 0: valid; 1: invalid, with the
reason on one line; 2: nothing verified (no pinned keys, or they could not be read).
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.core.audit_chain import BrokenChain, verify_chain
from apps.trust import jose, merkle

JWKS_TIMEOUT_SECONDS = 10
JWKS_MAX_BYTES = 1_000_000


class KeysUnavailable(Exception):
    """The pinned keys could not be read, so nothing can be verified."""


def verify_bundle(bundle: dict, jwks: dict) -> dict:
    """Return the verified receipt payload, or raise jose.VerificationError."""
    payload = jose.jws_verify(bundle["receipt"], jwks=jwks, typ=jose.RECEIPT_TYPE)
    proof = bundle["inclusion_proof"]
    checkpoint_key = jose.public_key_from_jwks(jwks, bundle["checkpoint_kid"])
    origin, size, root = jose.checkpoint_verify(
        bundle["checkpoint"], name=bundle["log_origin"], public_key=_raw(checkpoint_key)
    )
    if origin != bundle["log_origin"]:
        raise jose.VerificationError("checkpoint is for another log")
    if _is_audit_origin(origin):
        raise jose.VerificationError("the checkpoint is an audit log's, not a receipt log's")
    if proof["tree_size"] != size:
        raise jose.VerificationError("proof is for another tree size than the checkpoint")
    if proof["log_index"] != payload["log_index"]:
        raise jose.VerificationError("proof is for another log index than the receipt's")
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    leaf = merkle.leaf_hash(bundle["receipt"].encode())
    if not merkle.verify_inclusion(leaf, payload["log_index"], size, hashes, root):
        raise jose.VerificationError("receipt is not in the log at the checkpoint")
    return payload


def verify_audit(export: dict, jwks: dict, kept: tuple[str, ...] = ()) -> int:
    """Return how many events verified, or raise jose.VerificationError: the events chain,
    and the chain holds the export's signed head and every checkpoint kept from before."""
    if not _is_audit_origin(export["origin"]):
        raise jose.VerificationError(f"{export['origin']!r} is not an audit log")
    try:
        heads = verify_chain(export["events"])
    except BrokenChain as broken:
        raise jose.VerificationError(str(broken)) from broken
    if heads and "checkpoint" not in export:
        raise jose.VerificationError("the export has events but no signed head")
    if heads:
        newest = _require_signed_head(
            export["checkpoint"], origin=export["origin"], keys=jwks, heads=heads
        )
        if newest != len(heads):  # trust signs every append: the last one is not signed
            raise jose.VerificationError(f"events after {newest} are not signed")
    for note in kept:
        _require_signed_head(note, origin=export["origin"], keys=jwks, heads=heads)
    return len(heads)


def _require_signed_head(note: str, *, origin: str, keys: dict, heads: list[str]) -> int:
    """The length a signed head vouches for, once it is shown to be the chain's."""
    signed_origin, length, head = _signed_head(note, origin=origin, keys=keys)
    if signed_origin != origin:
        raise jose.VerificationError("audit checkpoint is for another log")
    if length > len(heads):
        raise jose.VerificationError(f"events after {len(heads)} were removed from the log")
    if length and heads[length - 1] != head.hex():
        raise jose.VerificationError(f"the log was rewritten before event {length}")
    return length


def _signed_head(note: str, *, origin: str, keys: dict) -> tuple[str, int, bytes]:
    """The note's (origin, length, head), signed by any of the published keys."""
    for jwk in keys.get("keys", []):
        public_key = _raw(jose.public_key_from_jwks(keys, jwk.get("kid")))
        try:
            return jose.checkpoint_verify(note, name=origin, public_key=public_key)
        except jose.NotSignedBy:
            continue
    raise jose.VerificationError("audit checkpoint is not signed by a published key")


def _is_audit_origin(origin: str) -> bool:
    return origin.endswith(jose.AUDIT_ORIGIN_SUFFIX)


def _raw(public_key) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- keys ---------------------------------------------------------------------------------


def embedded_keys(document: dict, *, audit: bool) -> dict:
    """The keys a bundle or an audit export carries: whoever made it chose them."""
    if audit:
        return document["jwks"]
    return {"keys": [document["jwk"], document["checkpoint_jwk"]]}


def load_jwks(source: str) -> dict:
    """The pinned keys: a JWKS file, or one fetched from an https URL."""
    if "://" not in source:
        try:
            with open(source, encoding="utf-8") as file:
                return _key_set(file.read())
        except OSError as exc:
            raise KeysUnavailable(f"cannot read {source}: {exc.strerror}") from exc
    if urlsplit(source).scheme != "https":
        raise KeysUnavailable(f"--jwks takes a file or an https:// URL, not {source}")
    try:
        with _HTTPS_ONLY.open(source, timeout=JWKS_TIMEOUT_SECONDS) as response:
            body = response.read(JWKS_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise KeysUnavailable(f"cannot fetch {source}: {getattr(exc, 'reason', exc)}") from exc
    if len(body) > JWKS_MAX_BYTES:
        raise KeysUnavailable(f"{source} answered more than {JWKS_MAX_BYTES} bytes")
    return _key_set(body)


def _key_set(text: str | bytes) -> dict:
    try:
        jwks = json.loads(text)
    except ValueError as exc:
        raise KeysUnavailable(f"the JWKS is not JSON ({exc})") from exc
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise KeysUnavailable('the JWKS is not a key set ({"keys": [...]})')
    return jwks


class _RedirectsStayHttps(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme != "https":
            raise KeysUnavailable(f"the JWKS URL redirected to {newurl}, which is not https")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# Certificates are verified against the system's CAs (or SSL_CERT_FILE).
_HTTPS_ONLY = urllib.request.build_opener(_RedirectsStayHttps)

NOT_VERIFIED = """NOT VERIFIED: no pinned keys.
A {kind} carries the keys it claims to be signed with, so anyone can make one that
checks out against them. Pass --jwks with GeraOS's published keys (a JWKS file, or
https://<GeraOS host>/.well-known/jwks.json), or --trust-embedded-keys to check it
against the keys it carries anyway."""

EMBEDDED_ONLY = """WARNING: checked against the keys the {kind} carries, not pinned ones. This
shows it is consistent, not that GeraOS signed it: anyone can make a {kind} that passes
this way. Compare its keys with GeraOS's published JWKS, or verify with --jwks."""


# --- command line --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    kind = "audit export" if args.audit else "bundle"
    if not args.jwks and not args.trust_embedded_keys:
        print(NOT_VERIFIED.format(kind=kind), file=sys.stderr)
        return 2
    try:
        pinned = load_jwks(args.jwks) if args.jwks else None
    except KeysUnavailable as exc:
        print(f"not verified: {exc}", file=sys.stderr)
        return 2
    try:
        message = _verified(args, pinned)
    except (jose.VerificationError, AttributeError, KeyError, ValueError, TypeError) as exc:
        reason = (
            str(exc) if isinstance(exc, jose.VerificationError) else f"malformed {kind} ({exc})"
        )
        print(f"invalid: {reason}")
        return 1
    if pinned is None:
        print(EMBEDDED_ONLY.format(kind=kind), file=sys.stderr)
        print(f"valid against the keys the {kind} carries: {message}")
    else:
        print(f"valid: {message}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=argparse.FileType("r"), help="a bundle or an audit export")
    parser.add_argument("--audit", action="store_true", help="FILE is an audit log export")
    parser.add_argument("--checkpoint", type=argparse.FileType("r"), action="append", default=[])
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--jwks", help="the keys to trust: a JWKS file or an https:// URL")
    keys.add_argument(
        "--trust-embedded-keys",
        action="store_true",
        help="check the file against the keys it carries (proves nothing about who signed)",
    )
    return parser


def _verified(args: argparse.Namespace, pinned: dict | None) -> str:
    document = json.load(args.file)
    jwks = embedded_keys(document, audit=args.audit) if pinned is None else pinned
    if args.audit:
        kept = tuple(note.read() for note in args.checkpoint)
        return _audit_verified(verify_audit(document, jwks, kept), document)
    return _bundle_verified(verify_bundle(document, jwks), document)


def _bundle_verified(payload: dict, bundle: dict) -> str:
    amount = payload["amount"]["settled"]
    return (
        f"receipt {payload['id']} ({payload['resolution']}, "
        f"{amount['amount']} {amount['currency']}) is entry {payload['log_index']} "
        f"of {bundle['log_origin']}, signed by {payload['kid']}"
    )


def _audit_verified(count: int, export: dict) -> str:
    return f"{count} audit events of {export['origin']} chain unbroken up to the signed head"


if __name__ == "__main__":
    sys.exit(main())
