import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations

# TOTP secrets and recovery-code seeds stored in plain before allauth's adapter sealed
# them are sealed here. The sealing (apps.core.sealing's keyring under
# GERAOS_SEALING_KEYS: `v1.<kid>.<base64(nonce|ciphertext)>`, the first key seals) and the
# context (apps.identity.mfa's) are written out as they were when this migration was
# made, so later changes to those modules cannot change what this does. The keys are
# still read from the settings.
NONCE_BYTES = 12
CONTEXT = b"allauth.mfa"


def _keys() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_SEALING_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def seal(text: str) -> str:
    kid, key = next(iter(_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), CONTEXT)
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str) -> str:
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    return AESGCM(_keys()[kid]).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], CONTEXT).decode()


def _each_secret(data: dict, change) -> dict:
    """`data` with each secret allauth encrypts (a TOTP secret, a recovery-code seed, codes
    migrated from another library) passed through `change`."""
    data = dict(data)
    for name in ("secret", "seed"):
        if name in data:
            data[name] = change(data[name])
    if "migrated_codes" in data:
        data["migrated_codes"] = [change(code) for code in data["migrated_codes"]]
    return data


def _apply(apps, change) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]):
        authenticator.data = _each_secret(authenticator.data, change)
        authenticator.save(update_fields=["data"])


def seal_secrets(apps, schema_editor):
    _apply(apps, seal)


def open_secrets(apps, schema_editor):
    _apply(apps, unseal)


class Migration(migrations.Migration):

    dependencies = [
        ("identity", "0009_revocation_roles"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal_secrets, open_secrets)]
