"""Verify a GeraOS receipt bundle offline, with nothing but Python and `cryptography`.

    python -m apps.trust.verify BUNDLE.json [--jwks JWKS.json]

A bundle (GET /api/v1/receipts/{id}/bundle) holds the receipt's JWS, its inclusion
proof, a signed checkpoint of the transparency log, and the public keys that signed
them. With --jwks, keys are taken from that file instead (e.g. a copy of
/.well-known/jwks.json you trust) and the bundle's own keys are ignored.
Exit status 0: valid; 1: invalid, with the reason on one line.
"""

import argparse
import base64
import json
import sys

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.trust import jose, merkle


def verify_bundle(bundle: dict, jwks: dict | None = None) -> dict:
    """Return the verified receipt payload, or raise jose.VerificationError."""
    keys = jwks or {"keys": [bundle["jwk"], bundle["checkpoint_jwk"]]}
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


def _raw(public_key) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=argparse.FileType("r"))
    parser.add_argument("--jwks", type=argparse.FileType("r"))
    args = parser.parse_args(argv)
    try:
        bundle = json.load(args.bundle)
        jwks = json.load(args.jwks) if args.jwks else None
        payload = verify_bundle(bundle, jwks)
    except (jose.VerificationError, AttributeError, KeyError, ValueError, TypeError) as exc:
        reason = (
            str(exc) if isinstance(exc, jose.VerificationError) else f"malformed bundle ({exc})"
        )
        print(f"invalid: {reason}")
        return 1
    amount = payload["amount"]["settled"]
    print(
        f"valid: receipt {payload['id']} ({payload['resolution']}, "
        f"{amount['amount']} {amount['currency']}) is entry {payload['log_index']} "
        f"of {bundle['log_origin']}, signed by {payload['kid']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
