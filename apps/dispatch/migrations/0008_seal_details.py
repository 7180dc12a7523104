import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations, models

# Orders' details (what the skill's input schema asks for: an address, say) stored in plain
# are sealed into details_sealed. The sealing (apps.core.sealing's SealedProperty under
# GERAOS_SEALING_KEYS: the JSON value, `v1.<kid>.<base64(nonce|ciphertext)>`, the first key
# seals, the row's label, column and id as the context) is written out as it was when this
# migration was made, so later changes to that module cannot change what this does. The
# keys are still read from the settings.
NONCE_BYTES = 12
COLUMN = "details_sealed"


def _keys() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_SEALING_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def _context(order) -> bytes:
    return f"dispatch.dispatchorder.{COLUMN}:{order.pk}".encode()


def seal(order, details: dict) -> str:
    if not details:
        return ""
    kid, key = next(iter(_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(details, separators=(",", ":"), sort_keys=True).encode()
    sealed = AESGCM(key).encrypt(nonce, plaintext, _context(order))
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(order, token: str) -> dict:
    if not token:
        return {}
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    key = AESGCM(_keys()[kid])
    return json.loads(key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _context(order)))


def seal_details(apps, schema_editor):
    DispatchOrder = apps.get_model("dispatch", "DispatchOrder")
    for order in DispatchOrder.objects.exclude(details={}).iterator():
        order.details_sealed = seal(order, order.details)
        order.save(update_fields=[COLUMN])


def open_details(apps, schema_editor):
    DispatchOrder = apps.get_model("dispatch", "DispatchOrder")
    for order in DispatchOrder.objects.exclude(details_sealed="").iterator():
        order.details = unseal(order, order.details_sealed)
        order.save(update_fields=["details"])


class Migration(migrations.Migration):

    dependencies = [
        ("dispatch", "0007_seal_payer_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatchorder",
            name="details_sealed",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="What the skill's input schema asks for (an address, say), sealed.",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal_details, open_details),
        migrations.RemoveField(model_name="dispatchorder", name="details"),
    ]
