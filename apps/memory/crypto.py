"""Memory values are encrypted at rest with AES-256-GCM.

Keys come from GERAOS_MEMORY_KEYS, `kid:base64key` pairs separated by commas; the first is
the primary and encrypts, the others only decrypt (until `rotate_memory_key` has moved
every value to the primary). A stored value reads `v1.<kid>.<base64(nonce|ciphertext)>`
(apps.core.sealing's keyring). The associated data binds a ciphertext to its owner and
place, so a value copied into another row does not decrypt.
"""

import json

from apps.core import sealing

MEMORY_KEYS = "GERAOS_MEMORY_KEYS"


def keyring() -> sealing.Keyring:
    return sealing.keyring(MEMORY_KEYS)


def encrypt_value(value, *, context: str) -> str:
    plaintext = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return keyring().seal(plaintext, context=context)


def decrypt_value(token: str, *, context: str):
    return json.loads(keyring().open(token, context=context))
