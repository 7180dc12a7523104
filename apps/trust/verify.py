"""Verify a GeraOS receipt bundle, or the operator audit log, offline, with nothing but
Python and `cryptography`.

    python -m apps.trust.verify BUNDLE.json [--jwks JWKS.json]
    python -m apps.trust.verify --audit EXPORT.json [--jwks JWKS.json] [--checkpoint NOTE]...

A bundle (GET /api/v1/receipts/{id}/bundle) holds the receipt's JWS, its inclusion
proof, a signed checkpoint of the transparency log, and the public keys that signed
them. An audit export (`make manage ARGS="export_audit_log"`) holds every audit event
with its chain hashes and the newest signed head; each --checkpoint is a signed audit
head kept from before (the log must still contain it). With --jwks, keys are taken from
that file instead (e.g. a copy of /.well-known/jwks.json you trust) and the file's own
keys are ignored. Exit status 0: valid; 1: invalid, with the reason on one line.
"""

import argparse
import base64
import json
import sys

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.core.audit_chain import BrokenChain, verify_chain
from apps.trust import jose, merkle


def verify_bundle(bundle: dict, jwks: dict | None = None) -> dict:
    """Return the verified receipt payload, or raise jose.VerificationError."""
    keys = {"keys": [bundle["jwk"], bundle["checkpoint_jwk"]]} if jwks is None else jwks
    payload = jose.jws_verify(bundle["receipt"], jwks=keys)
    proof = bundle["inclusion_proof"]
    checkpoint_key = jose.public_key_from_jwks(keys, bundle["checkpoint_kid"])
    origin, size, root = jose.checkpoint_verify(
        bundle["checkpoint"], name=bundle["log_origin"], public_key=_raw(checkpoint_key)
    )
    if origin != bundle["log_origin"]:
        raise jose.VerificationError("checkpoint is for another log")
    if proof["tree_size"] != size:
        raise jose.VerificationError("proof is for another tree size than the checkpoint")
    if proof["log_index"] != payload["log_index"]:
        raise jose.VerificationError("proof is for another log index than the receipt's")
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    leaf = merkle.leaf_hash(bundle["receipt"].encode())
    if not merkle.verify_inclusion(leaf, payload["log_index"], size, hashes, root):
        raise jose.VerificationError("receipt is not in the log at the checkpoint")
    return payload


def verify_audit(export: dict, jwks: dict | None = None, kept: tuple[str, ...] = ()) -> int:
    """Return how many events verified, or raise jose.VerificationError: the events chain,
    and the chain holds the export's signed head and every checkpoint kept from before."""
    try:
        heads = verify_chain(export["events"])
    except BrokenChain as broken:
        raise jose.VerificationError(str(broken)) from broken
    keys = export["jwks"] if jwks is None else jwks
    if heads and "checkpoint" not in export:
        raise jose.VerificationError("the export has events but no signed head")
    if heads:
        newest = _require_signed_head(
            export["checkpoint"], origin=export["origin"], keys=keys, heads=heads
        )
        if newest != len(heads):  # trust signs every append: the last one is not signed
            raise jose.VerificationError(f"events after {newest} are not signed")
    for note in kept:
        _require_signed_head(note, origin=export["origin"], keys=keys, heads=heads)
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


def _raw(public_key) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=argparse.FileType("r"), help="a bundle or an audit export")
    parser.add_argument("--audit", action="store_true", help="FILE is an audit log export")
    parser.add_argument("--checkpoint", type=argparse.FileType("r"), action="append", default=[])
    parser.add_argument("--jwks", type=argparse.FileType("r"))
    args = parser.parse_args(argv)
    try:
        document = json.load(args.file)
        jwks = json.load(args.jwks) if args.jwks else None
        if args.audit:
            kept = tuple(note.read() for note in args.checkpoint)
            message = _audit_verified(verify_audit(document, jwks, kept), document)
        else:
            message = _bundle_verified(verify_bundle(document, jwks), document)
    except (jose.VerificationError, AttributeError, KeyError, ValueError, TypeError) as exc:
        kind = "audit export" if args.audit else "bundle"
        reason = (
            str(exc) if isinstance(exc, jose.VerificationError) else f"malformed {kind} ({exc})"
        )
        print(f"invalid: {reason}")
        return 1
    print(f"valid: {message}")
    return 0


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
