import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations

# A memory item's key and value were sealed bound to the user, scope and product, so they
# opened on any of the user's items there; they are sealed again bound to the item's id
# too. The sealing (apps.memory.crypto under GERAOS_MEMORY_KEYS: the JSON value,
# `v1.<kid>.<base64(nonce|ciphertext)>`, the first key seals) and the contexts
# (apps.memory.models') are written out as they were when this migration was made, so
# later changes to those modules cannot change what this does. The keys are still read
# from the settings.
NONCE_BYTES = 12


def _ring() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_MEMORY_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def seal(plaintext: bytes, context: str) -> str:
    kid, secret = next(iter(_ring().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(secret).encrypt(nonce, plaintext, context.encode())
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str, context: str) -> bytes:
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    secret = AESGCM(_ring()[kid])
    return secret.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())


def _place(item) -> str:
    return f"{item.user_id}:{item.scope_id}:{item.product_id}"


def contexts_unbound(item, key: str) -> tuple[str, str]:
    return f"memory-key:{_place(item)}", f"memory:{_place(item)}:{key}"


def contexts_bound(item, key: str) -> tuple[str, str]:
    return f"memory-key:{_place(item)}:{item.pk}", f"memory:{_place(item)}:{item.pk}:{key}"


def _move(apps, old_contexts, new_contexts) -> None:
    MemoryItem = apps.get_model("memory", "MemoryItem")
    for item in MemoryItem.objects.iterator():
        old_key_context, _ = old_contexts(item, "")
        key_json = unseal(item.key_sealed, old_key_context)
        key = json.loads(key_json)
        _, old_value_context = old_contexts(item, key)
        new_key_context, new_value_context = new_contexts(item, key)
        value_json = unseal(item.value_encrypted, old_value_context)
        item.key_sealed = seal(key_json, new_key_context)
        item.value_encrypted = seal(value_json, new_value_context)
        item.save(update_fields=["key_sealed", "value_encrypted"])


def bind_items(apps, schema_editor):
    _move(apps, contexts_unbound, contexts_bound)


def unbind_items(apps, schema_editor):
    _move(apps, contexts_bound, contexts_unbound)


class Migration(migrations.Migration):

    dependencies = [("memory", "0004_seal_memory_keys")]

    operations = [migrations.RunPython(bind_items, unbind_items)]
