"""Two-factor secrets at rest: allauth stores every TOTP secret and recovery-code seed
through its adapter's `encrypt`, so they are sealed under GERAOS_SEALING_KEYS, and
`mfa_secrets_reseal` moves them to a new key when the keys rotate."""

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.db import transaction

from apps.core import sealing

# allauth hands these hooks the secret alone, never its authenticator, so the context
# names the kind of secret rather than the row.
CONTEXT = "allauth.mfa"


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return sealing.seal_text(text, context=CONTEXT)

    def decrypt(self, encrypted_text: str) -> str:
        return sealing.open_text(encrypted_text, context=CONTEXT)


def mfa_secrets_reseal() -> int:
    """Move every two-factor secret not sealed with the primary sealing key onto it, each
    authenticator under its lock (allauth marks recovery codes used under it too); returns
    how many authenticators moved."""
    sealed_kinds = [Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    moved = 0
    for pk in Authenticator.objects.filter(type__in=sealed_kinds).values_list("pk", flat=True):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            data = _resealed(authenticator.data)
            if data != authenticator.data:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                moved += 1
    return moved


def _resealed(data: dict) -> dict:
    """`data` with each secret allauth encrypts (a TOTP secret, a recovery-code seed, codes
    migrated from another library) sealed with the primary key."""
    data = dict(data)
    for name in ("secret", "seed"):
        if name in data:
            data[name] = sealing.reseal_text(data[name], context=CONTEXT)
    if "migrated_codes" in data:
        data["migrated_codes"] = [
            sealing.reseal_text(code, context=CONTEXT) for code in data["migrated_codes"]
        ]
    return data
