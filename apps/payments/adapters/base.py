from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from celery import current_app

# Ids read from a notification become event ids (255 characters, with a prefix or suffix
# added) and references; every rail's real ids are far shorter.
EXTERNAL_ID_MAX_LENGTH = 128


# How long the simulated payer of a sandbox rail takes to answer.
SANDBOX_PAYER_DELAY_SECONDS = 2


def sandbox_payer_acts(task_name: str, *args) -> None:
    """Queue the simulated payer's answer (a task of apps.payments.sandbox_payer) by name:
    that module imports the adapters (and the notices that use them), so they never
    import it."""
    current_app.tasks[task_name].apply_async(args, countdown=SANDBOX_PAYER_DELAY_SECONDS)


class WebhookIgnored(Exception):
    """Genuine, but about nothing GeraOS tracks (a Stripe charge.* event): acknowledged so
    the sender does not retry it, and otherwise left alone."""


class WebhookRejected(Exception):
    """A notification that is not from the rail, or not one we can read."""


def external_id(value, *, name: str) -> str:
    """An id from a notification, refused unless it can be stored as it is (PostgreSQL
    text cannot hold NUL)."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > EXTERNAL_ID_MAX_LENGTH
        or "\x00" in value
    ):
        raise WebhookRejected(f"{name} is not an id we could have issued or stored")
    return value


# The status of an unsigned callback's notice before the rail is asked what happened: a
# callback only names a reference, and GeraOS asks about references it issued, only.
UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class ProviderResult:
    """What a rail says about a payment (or a refund) after a call or in a webhook.

    `status` is one of Payment.Status's values (or succeeded/failed for refunds), or
    UNCONFIRMED: an unsigned callback named the payment and the rail is still to be asked.
    `data["amount"]`, where the rail says it, is the amount it took, a decimal string in
    the payment's currency: a capture of another amount never settles.
    """

    status: str
    provider_reference: str = ""
    next_action: dict | None = None
    confirmation_id: str = ""
    confirmation_verified: bool = False
    failure_code: str = ""
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookNotice:
    """`provider_reference` names a payment, or with `about_refund` a refund."""

    event_id: str
    provider_reference: str
    result: ProviderResult
    about_refund: bool = False


@dataclass(frozen=True)
class PayerAccount:
    """What a rail must know of the payer up front (the phone an STK prompt goes to)."""

    description: str
    pattern: str


class RailAdapter(Protocol):
    code: str
    payer_account: PayerAccount | None  # None: the rail asks the payer itself

    def authorize(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def capture(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def void(self, payment, *, idempotency_key: str) -> ProviderResult: ...

    def refund(self, payment, amount: Decimal, *, idempotency_key: str) -> ProviderResult: ...

    def status(self, payment) -> ProviderResult: ...

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice: ...

    # Rails whose callbacks are unconfirmed hints (their result's status UNCONFIRMED) also
    # have `confirm(notice) -> WebhookNotice`: the rail asked what became of the reference.
    # A rail whose authorize has no idempotency (asked twice, it asks the payer twice) says
    # `idempotent_authorize = False`: it is asked once (lifecycle.payment_authorize), and
    # its callback URL names the payment, in case the answer to that request is lost.
