import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import migrations

# Sessions were signed but readable by anyone holding the database (allauth keeps the
# secret of an authenticator app being set up in one): each is sealed where it is, so no
# one is signed out. The sealing (apps.core.sealing's keyring under GERAOS_SEALING_KEYS:
# `v1.<kid>.<base64(nonce|ciphertext)>`, the first key seals) and the context
# (apps.core.sessions') are written out as they were when this migration was made, so
# later changes to those modules cannot change what this does. The keys are still read
# from the settings.
NONCE_BYTES = 12
# A signed session is base64 (perhaps after a "."), then ":": it never begins so.
SEALED = "v1."


def _keys() -> dict[str, bytes]:
    keys = {}
    for entry in filter(None, (part.strip() for part in settings.GERAOS_SEALING_KEYS.split(","))):
        kid, _, encoded = entry.partition(":")
        keys[kid] = base64.urlsafe_b64decode(encoded.encode() + b"==")
    return keys


def _context(session) -> bytes:
    return f"django.session:{session.session_key}".encode()


def seal(session) -> str:
    kid, key = next(iter(_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, session.session_data.encode(), _context(session))
    return f"v1.{kid}.{base64.b64encode(nonce + sealed).decode()}"


def unseal(session) -> str:
    _, kid, payload = session.session_data.split(".", 2)
    blob = base64.b64decode(payload)
    key = AESGCM(_keys()[kid])
    return key.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _context(session)).decode()


def seal_sessions(apps, schema_editor):
    Session = apps.get_model("sessions", "Session")
    for session in Session.objects.exclude(session_data__startswith=SEALED).iterator():
        session.session_data = seal(session)
        session.save(update_fields=["session_data"])


def open_sessions(apps, schema_editor):
    Session = apps.get_model("sessions", "Session")
    for session in Session.objects.filter(session_data__startswith=SEALED).iterator():
        session.session_data = unseal(session)
        session.save(update_fields=["session_data"])


class Migration(migrations.Migration):

    dependencies = [("core", "0004_export_permission"), ("sessions", "0001_initial")]

    operations = [migrations.RunPython(seal_sessions, open_sessions)]
