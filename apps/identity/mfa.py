"""Two-factor secrets at rest: allauth stores every TOTP secret and recovery-code seed
through its adapter's `encrypt`, so they are sealed under GERAOS_SEALING_KEYS."""

from allauth.mfa.adapter import DefaultMFAAdapter

from apps.core import sealing

# allauth hands these hooks the secret alone, never its authenticator, so the context
# names the kind of secret rather than the row.
CONTEXT = "allauth.mfa"


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return sealing.seal_text(text, context=CONTEXT)

    def decrypt(self, encrypted_text: str) -> str:
        return sealing.open_text(encrypted_text, context=CONTEXT)
