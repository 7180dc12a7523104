import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations, models

# Payers' phones and UPI ids stored in plain are sealed into payer_account_sealed. The
# sealing (apps.core.sealing's SealedProperty under GERAOS_SEALING_KEYS: the JSON value,
# `v1.<kid>.<base64(nonce|ciphertext)>`, the first key seals, the row's label, column and
# id as the context) is written out as it was when this migration was made, so later
# changes to that module cannot change what this does. The keys are still read from the
# settings.
NONCE_BYTES = 12
COLUMN = "payer_account_sealed"


def _keys() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_SEALING_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def _context(payment) -> bytes:
    return f"payments.payment.{COLUMN}:{payment.pk}".encode()


def seal(payment, account: str) -> str:
    if not account:
        return ""
    kid, key = next(iter(_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(account).encode(), _context(payment))
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(payment, token: str) -> str:
    if not token:
        return ""
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    key = AESGCM(_keys()[kid])
    return json.loads(key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _context(payment)))


def seal_payer_accounts(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    for payment in Payment.objects.exclude(payer_account="").iterator():
        payment.payer_account_sealed = seal(payment, payment.payer_account)
        payment.save(update_fields=[COLUMN])


def open_payer_accounts(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    for payment in Payment.objects.exclude(payer_account_sealed="").iterator():
        payment.payer_account = unseal(payment, payment.payer_account_sealed)
        payment.save(update_fields=["payer_account"])


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0016_refund_requested_for_and_running_total"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="payer_account_sealed",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="The phone (M-Pesa) or VPA (UPI) to charge, sealed (GERAOS_SEALING_KEYS).",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(seal_payer_accounts, open_payer_accounts),
        migrations.RemoveField(model_name="payment", name="payer_account"),
    ]
