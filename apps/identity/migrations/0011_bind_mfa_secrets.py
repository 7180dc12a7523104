import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations

# Two-factor secrets sealed under the one context every user's shared (0010) are sealed
# again bound to their authenticator: its user, its kind and the field. The sealing
# (apps.core.sealing's keyring under GERAOS_SEALING_KEYS: `v1.<kid>.<base64(nonce|
# ciphertext)>`, the first key seals) and the contexts (apps.identity.mfa's) are written
# out as they were when this migration was made, so later changes to those modules cannot
# change what this does. The keys are still read from the settings.
NONCE_BYTES = 12
SHARED_CONTEXT = "allauth.mfa"


def _keys() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_SEALING_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def seal(text: str, context: str) -> str:
    kid, key = next(iter(_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, text.encode(), context.encode())
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(token: str, context: str) -> str:
    _, kid, payload = token.split(".", 2)
    blob = base64.b64decode(payload)
    key = AESGCM(_keys()[kid])
    return key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()


def bound_context(authenticator, field: str) -> str:
    return f"allauth.mfa:{authenticator.user_id}:{authenticator.type}:{field}"


def _each_secret(data: dict, change) -> dict:
    """`data` with each secret allauth encrypts (a TOTP secret, a recovery-code seed, codes
    migrated from another library) passed through `change(field, secret)`."""
    data = dict(data)
    for name in ("secret", "seed"):
        if name in data:
            data[name] = change(name, data[name])
    if "migrated_codes" in data:
        data["migrated_codes"] = [change("migrated_codes", code) for code in data["migrated_codes"]]
    return data


def _apply(apps, change) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=["totp", "recovery_codes"]):
        authenticator.data = _each_secret(
            authenticator.data, lambda field, secret: change(authenticator, field, secret)
        )
        authenticator.save(update_fields=["data"])


def bind_secrets(apps, schema_editor):
    def bind(authenticator, field, secret):
        return seal(unseal(secret, SHARED_CONTEXT), bound_context(authenticator, field))

    _apply(apps, bind)


def unbind_secrets(apps, schema_editor):
    def unbind(authenticator, field, secret):
        return seal(unseal(secret, bound_context(authenticator, field)), SHARED_CONTEXT)

    _apply(apps, unbind)


class Migration(migrations.Migration):

    dependencies = [("identity", "0010_seal_mfa_secrets")]

    operations = [migrations.RunPython(bind_secrets, unbind_secrets)]
