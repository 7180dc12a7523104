import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations, models

# The keys memory items are kept under are sealed like their values, and found again by
# their keyed hash. The sealing (apps.memory.crypto under GERAOS_MEMORY_KEYS: the JSON
# value, `v1.<kid>.<base64(nonce|ciphertext)>`, the first key seals), the hash
# (apps.core.sealing.lookup_hash under GERAOS_LOOKUP_KEYS: `<kid>:<hex>`) and their
# contexts are written out as they were when this migration was made, so later changes to
# those modules cannot change what this does. The keys are still read from the settings.
NONCE_BYTES = 12


def _ring(spec: str) -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def _context(item) -> bytes:
    return f"memory-key:{item.user_id}:{item.scope_id}:{item.product_id}".encode()


def seal(item, key: str) -> str:
    kid, secret = next(iter(_ring(settings.GERAOS_MEMORY_KEYS).items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(secret).encrypt(nonce, json.dumps(key).encode(), _context(item))
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(item, token: str) -> str:
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    secret = AESGCM(_ring(settings.GERAOS_MEMORY_KEYS)[kid])
    return json.loads(secret.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _context(item)))


def key_hash(item, key: str) -> str:
    kid, secret = next(iter(_ring(settings.GERAOS_LOOKUP_KEYS).items()))
    message = json.dumps([f"memory-key:{item.user_id}", key]).encode()
    return f"{kid}:{hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def seal_keys(apps, schema_editor):
    MemoryItem = apps.get_model("memory", "MemoryItem")
    for item in MemoryItem.objects.iterator():
        item.key_sealed, item.key_hash = seal(item, item.key), key_hash(item, item.key)
        item.save(update_fields=["key_sealed", "key_hash"])


def open_keys(apps, schema_editor):
    MemoryItem = apps.get_model("memory", "MemoryItem")
    for item in MemoryItem.objects.iterator():
        item.key = unseal(item, item.key_sealed)
        item.save(update_fields=["key"])


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0007_skill_input_schema_validator"),
        ("memory", "0003_evidence_is_never_deleted"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The old constraint goes first and the new one comes last, so that undone, the keys
    # are opened again before the old constraint is back.
    operations = [
        migrations.RemoveConstraint(model_name="memoryitem", name="memory_item_key_unique"),
        migrations.AddField(
            model_name="memoryitem",
            name="key_sealed",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="memoryitem",
            name="key_hash",
            field=models.CharField(default="", help_text="HMAC-SHA256 of the key.", max_length=100),
            preserve_default=False,
        ),
        migrations.RunPython(seal_keys, open_keys),
        # Undone, the column comes back filled with this until open_keys fills it.
        migrations.AlterField(
            model_name="memoryitem", name="key", field=models.CharField(default="", max_length=120)
        ),
        migrations.RemoveField(model_name="memoryitem", name="key"),
        migrations.AddConstraint(
            model_name="memoryitem",
            constraint=models.UniqueConstraint(
                fields=("user", "scope", "product", "key_hash"), name="memory_item_key_unique"
            ),
        ),
        migrations.AlterModelOptions(
            name="memoryitem", options={"ordering": ["scope__name", "created_at"]}
        ),
    ]
