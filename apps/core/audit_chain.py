"""How the operator audit log is chained, in plain Python so an offline verifier
(apps.trust.verify) recomputes it with nothing but the standard library.

Each event's hash is SHA-256 over the previous event's hash (32 bytes; zeros before the
first event) followed by the event's document as canonical JSON: keys sorted, no
whitespace, UTF-8, and only strings, integers, booleans, null, lists and objects.
"""

import hashlib
import json

GENESIS = "0" * 64

# The fields of an event its hash covers, in the order an export lists them.
DOCUMENT_FIELDS = (
    "sequence",
    "at",
    "actor",
    "actor_used_mfa",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "address",
    "request_id",
)


class BrokenChain(Exception):
    """The events do not chain: one was edited, removed, inserted or reordered."""


def canonical_json(document: dict) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def chain_hash(previous_hash: str, document: dict) -> str:
    return hashlib.sha256(bytes.fromhex(previous_hash) + canonical_json(document)).hexdigest()


def verify_chain(events: list[dict]) -> list[str]:
    """Recompute the chain from its first event; returns the head after each event. Each
    event is its document plus `previous_hash` and `hash`, as exported, in sequence order."""
    heads, head = [], GENESIS
    for expected_sequence, event in enumerate(events, start=1):
        if event["sequence"] != expected_sequence:
            raise BrokenChain(f"event {expected_sequence} is missing or out of order")
        if event["previous_hash"] != head:
            raise BrokenChain(f"event {expected_sequence} does not follow the one before it")
        document = {name: event[name] for name in DOCUMENT_FIELDS}
        head = chain_hash(head, document)
        if event["hash"] != head:
            raise BrokenChain(f"event {expected_sequence} was altered after it was written")
        heads.append(head)
    return heads
