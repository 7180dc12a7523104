"""Memory values (and the keys they are kept under) are encrypted at rest with AES-256-GCM.

Keys come from GERAOS_MEMORY_KEYS, `kid:base64key` pairs separated by commas; the first is
the primary and encrypts, the others only decrypt (until `rotate_memory_key` has moved
every value to the primary). A stored value reads `v1.<kid>.<base64(nonce|ciphertext)>`
(apps.core.sealing's keyring). The associated data binds a ciphertext to its item (its
owner, place and id: `MemoryItem.key_context`, `encryption_context`), so a value copied
into another row does not decrypt.
"""

import json

from apps.core import sealing


def keyring() -> sealing.Keyring:
    return sealing.keyring(sealing.MEMORY_KEYS)


def encrypt_value(value, *, context: str) -> str:
    plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return keyring().seal(plaintext, context=context)


def decrypt_value(token: str, *, context: str):
    return json.loads(keyring().open(token, context=context))


def key_hash(*, user_id: int, key: str) -> str:
    """What finds the user's item kept under `key` (the user's id in it, so equal keys of
    different users do not show as equal)."""
    return sealing.lookup_hash(key, purpose=f"memory-key:{user_id}")


def key_hashes(*, user_id: int, key: str) -> list[str]:
    return sealing.lookup_hashes(key, purpose=f"memory-key:{user_id}")
