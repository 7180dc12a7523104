"""Two-factor secrets at rest: allauth stores every TOTP secret and recovery-code seed
through its adapter's `encrypt`, so they are sealed under GERAOS_SEALING_KEYS, each bound
to its authenticator's user, kind and field, and `mfa_secrets_reseal` moves them to a new
key when the keys rotate.

allauth hands `encrypt` and `decrypt` the secret alone, never its authenticator, so the
binding is made where the authenticator is at hand, its model's signals: a secret read
from a row, or about to be written to one, becomes a `SealedSecret` that carries the
context of that row, made of the row's own columns. `encrypt` seals for no row yet (its
authenticator is being built); the row binds the secret as it takes it. `decrypt` opens
only a SealedSecret, under the context it carries, so a secret copied onto another row
is read there with that row's context and does not open.
"""

from collections.abc import Callable

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.db.models.signals import post_init, pre_save

from apps.core import sealing

SEALED_KINDS = (Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES)
# What allauth encrypted before it knows the authenticator; no row's secret opens with it.
UNBOUND = "allauth.mfa:unbound"


class SealedSecret(str):
    """A sealed secret, with the context it opens under."""

    context: str

    def __new__(cls, sealed: str, *, context: str) -> "SealedSecret":
        secret = super().__new__(cls, sealed)
        secret.context = context
        return secret

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, str]]:
        """What copy and pickle make it again with (str's would leave out the context)."""
        return (str(self),), {"context": self.context}


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return SealedSecret(sealing.seal_text(text, context=UNBOUND), context=UNBOUND)

    def decrypt(self, encrypted_text: str) -> str:
        if not isinstance(encrypted_text, SealedSecret):
            raise sealing.UndecryptableValue("A two-factor secret opens on its authenticator.")
        return sealing.open_text(encrypted_text, context=encrypted_text.context)


def secret_context(authenticator: Authenticator, field: str) -> str:
    return f"allauth.mfa:{authenticator.user_id}:{authenticator.type}:{field}"


def bind_secrets(sender, instance: Authenticator, **kwargs) -> None:
    """Give each secret of the authenticator its row's context, sealing for the row the
    ones just encrypted (on post_init and pre_save)."""
    if {"type", "user_id", "data"} & instance.get_deferred_fields():
        return  # a partial read (`only`) has no secret to bind
    if instance.type not in SEALED_KINDS or instance.user_id is None:
        return

    def bound(field: str, secret: str) -> SealedSecret:
        context = secret_context(instance, field)
        if isinstance(secret, SealedSecret) and secret.context == UNBOUND:
            secret = sealing.seal_text(sealing.open_text(secret, context=UNBOUND), context=context)
        return SealedSecret(secret, context=context)

    instance.data = _each_secret(instance.data, bound)


def connect_signals() -> None:
    post_init.connect(bind_secrets, sender=Authenticator, dispatch_uid="mfa-bind-secrets")
    pre_save.connect(bind_secrets, sender=Authenticator, dispatch_uid="mfa-bind-secrets")


def mfa_secrets_reseal() -> int:
    """Move every two-factor secret not sealed with the primary sealing key onto it, each
    authenticator under its lock (allauth marks recovery codes used under it too); returns
    how many authenticators moved."""
    moved = 0
    for pk in Authenticator.objects.filter(type__in=SEALED_KINDS).values_list("pk", flat=True):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            data = _each_secret(authenticator.data, _resealed)
            if data != authenticator.data:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                moved += 1
    return moved


def mfa_secrets_under_old_keys() -> int:
    """How many authenticators hold a secret not sealed with the primary sealing key."""
    current = sealing.keyring(sealing.SEALING_KEYS).current_prefix
    authenticators = Authenticator.objects.filter(type__in=SEALED_KINDS)
    return sum(
        not all(secret.startswith(current) for secret in _secrets(data))
        for data in authenticators.values_list("data", flat=True)
    )


def _secrets(data: dict) -> list[str]:
    named = [data[name] for name in ("secret", "seed") if name in data]
    return named + data.get("migrated_codes", [])


def _resealed(field: str, secret: SealedSecret) -> str:
    return sealing.reseal_text(secret, context=secret.context)


def _each_secret(data: dict, change: Callable[[str, str], str]) -> dict:
    """`data` with each secret allauth encrypts (a TOTP secret, a recovery-code seed, codes
    migrated from another library) passed through `change(field, secret)`."""
    data = dict(data)
    for name in ("secret", "seed"):
        if name in data:
            data[name] = change(name, data[name])
    if "migrated_codes" in data:
        data["migrated_codes"] = [change("migrated_codes", code) for code in data["migrated_codes"]]
    return data
