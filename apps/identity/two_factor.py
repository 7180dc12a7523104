"""The second sign-in step: allauth's code forms (MFA_FORMS), with a replay guard kept in
the database rather than the cache, and wrong codes limited per account and address.

allauth remembers a used TOTP code in Django's cache, so with Redis away the step answered
500, and a cache that lost its data (a restart, an eviction) would let a used code in
again. Here an authenticator app's code passes once: `TOTPUse` holds the last time step
it passed with, and a code of that step or an earlier one is refused; the code that
confirmed a new app counts as its first. This is not a rate limit and never fails open.

allauth counts code attempts per account only, so whoever has a person's password could
lock them out of the second step with five wrong codes. Here they are counted per account
and client address, as passwords are (ACCOUNT_RATE_LIMITS' `mfa_code`), so wrong codes
from one address stop that address, not the owner elsewhere. Above those, a ceiling per
account stops a guesser spread over many addresses. One address never reaches it, but
four do, and can keep it full: whoever has the password and four addresses can still keep
the owner out of the second step for as long as they keep guessing. An attempt counts only
if every limit admits it, so the owner's attempts refused by the ceiling do not use up
their own address's limits. A code that passes is not counted.
"""

from collections.abc import Callable

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context
from allauth.core.internal import ratelimit
from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base import forms as allauth_forms
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import forms as allauth_totp_forms
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt

from apps.identity.models import TOTPUse


def totp_code_accept(*, authenticator: Authenticator, code: str) -> bool:
    """Whether `code` is the app's code now (within allauth's tolerance) and of a later
    step than any it passed with before; if so, its step is recorded."""
    step = _step_of(decrypt(authenticator.data["secret"]), code)
    if step is None:
        return False
    # One statement moves the step forward: of two requests with the same code, the second
    # waits for the first's row and then finds the step already taken.
    if TOTPUse.objects.filter(authenticator=authenticator, last_step__lt=step).update(
        last_step=step
    ):
        return True
    _, first_use = TOTPUse.objects.get_or_create(
        authenticator=authenticator, defaults={"last_step": step}
    )
    return first_use


def _step_of(secret: str, code: str) -> int | None:
    for step in yield_hotp_counters_from_time():
        if compare_user_code(actual=code, expected=format_hotp_value(hotp_value(secret, step))):
            return step
    return None


def code_attempt_count(request, user) -> Callable[[], None]:
    """Count one code attempt for `user` from where `request` comes, or refuse it when a
    limit is reached; returns what takes the attempt back (the code passed).

    Every limit is asked first, and the attempt counted only if all admit it: allauth's
    `consume` records a hit in each limit it passes before one refuses, so an owner
    refused by the account's ceiling would still be charged on their own address's
    limits, and stay refused by those after the ceiling cleared."""
    adapter = get_account_adapter()
    limits = {
        "app": "allauth.account",
        "action": "mfa_code",
        "key": f"{user.pk}:{adapter.client_network(request)}",
        "user": user,
    }
    every_limit_admits = ratelimit.consume(request, **limits, dry_run=True)
    usage = every_limit_admits and ratelimit.consume(request, **limits)
    if not usage:
        raise adapter.validation_error("too_many_login_attempts")
    return usage.rollback


class _CodeUsedOnce:
    """allauth's `BaseAuthenticateForm.clean_code`, but attempts are counted by
    `code_attempt_count` and a TOTP code is checked by `totp_code_accept` (recovery codes
    are rows already, marked used under a lock)."""

    def clean_code(self) -> str:
        take_attempt_back = code_attempt_count(context.request, self.user)
        code = self.cleaned_data["code"]
        authenticators = list(
            Authenticator.objects.filter(user=self.user).exclude(
                type=Authenticator.Type.WEBAUTHN  # cannot check a typed code
            )
        )
        for authenticator in authenticators:
            if _accepts(authenticator, code):
                authenticator.user = self.user
                self.authenticator = authenticator
                take_attempt_back()
                return code
        if authenticators:
            self._emit_authentication_failed(_told_of_failures(authenticators))
        raise get_adapter().validation_error("incorrect_code")


def _accepts(authenticator: Authenticator, code: str) -> bool:
    if authenticator.type == Authenticator.Type.TOTP:
        return totp_code_accept(authenticator=authenticator, code=code)
    return authenticator.wrap().validate_code(code)


def _told_of_failures(authenticators: list[Authenticator]) -> Authenticator:
    """As allauth: the TOTP app, or else the first."""
    totp = [a for a in authenticators if a.type == Authenticator.Type.TOTP]
    return (totp or authenticators)[0]


class AuthenticateForm(_CodeUsedOnce, allauth_forms.AuthenticateForm):
    """The code asked after the password."""


class ReauthenticateForm(_CodeUsedOnce, allauth_forms.ReauthenticateForm):
    """The code asked again of a signed-in user (staff opening the admin)."""


class ActivateTOTPForm(allauth_totp_forms.ActivateTOTPForm):
    """The code confirming a new authenticator app. allauth adds the app after the form,
    and tells of it (`authenticator_added`) with the request but not the form, so the
    code's step goes on the request, for `activation_step_record` to make it the app's
    last used step: that code cannot then sign in too."""

    def clean_code(self) -> str:
        code = super().clean_code()
        context.request.totp_activation_step = _step_of(self.secret, code)
        return code


def activation_step_record(sender, request, authenticator: Authenticator, **kwargs) -> None:
    """On allauth's `authenticator_added`: record the step of the code that confirmed a new
    authenticator app (none for allauth's insecure bypass code)."""
    step = getattr(request, "totp_activation_step", None)
    if authenticator.type == Authenticator.Type.TOTP and step is not None:
        TOTPUse.objects.update_or_create(authenticator=authenticator, defaults={"last_step": step})
