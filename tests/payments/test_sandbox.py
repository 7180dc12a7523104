"""Sandbox can never reach production: with DEBUG off a deployment holding a sandbox rail
refuses to serve (and `check --deploy` says why) unless GERAOS_SANDBOX_ALLOWED is set, no
process builds a sandbox adapter there, and a sandbox rail believes the webhook secret the
deployment configured, never the simulator's published one."""

import importlib
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.urls import reverse
from djmoney.money import Money

from apps.payments import lifecycle, quotes
from apps.payments.adapters.stripe_sandbox import SANDBOX_WEBHOOK_SECRET
from apps.payments.errors import SandboxNotAllowed
from apps.payments.models import Payment, Rail
from apps.payments.sandbox_payer import sandbox_stripe_bank_approves
from tests.factories import UserFactory, make_payment
from tests.identity.stripe_recordings import event, signed_webhook
from tests.keys import production_keys

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
CONFIGURED_SECRET = "whsec_configured_for_this_deployment"


def captured_event(payment: Payment) -> dict:
    intent = {
        "id": payment.provider_reference,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 5000,
        "amount_received": 5000,
        "currency": "gbp",
        "client_secret": "s",
        "last_payment_error": None,
    }
    return event("evt_sandbox_forged", "payment_intent.succeeded", intent)


def deliver(client, evt: dict, *, secret: str):
    body, signature = signed_webhook(evt, secret=secret)
    return client.post(
        reverse("rail-webhook", args=["stripe"]),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


@pytest.fixture
def authorized_in_sandbox(settings):
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = CONFIGURED_SECRET
    payment = lifecycle.payment_authorize(payment_id=make_payment(UserFactory()).pk)
    assert (payment.rail.sandbox, payment.status) == (True, Payment.Status.AUTHORIZED)
    return payment


def test_a_sandbox_rail_refuses_events_signed_with_the_published_secret_once_one_is_configured(
    client, authorized_in_sandbox
):
    forged = deliver(client, captured_event(authorized_in_sandbox), secret=SANDBOX_WEBHOOK_SECRET)

    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "invalid_signature"
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_a_sandbox_rail_believes_the_configured_secret(client, authorized_in_sandbox):
    genuine = deliver(client, captured_event(authorized_in_sandbox), secret=CONFIGURED_SECRET)

    assert genuine.json()["outcome"] == "processed"
    assert Payment.objects.get().status == Payment.Status.CAPTURED


def test_the_sandbox_bank_still_confirms_ideal_when_a_secret_is_configured(settings, monkeypatch):
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = CONFIGURED_SECRET
    approvals = []
    monkeypatch.setattr(
        sandbox_stripe_bank_approves, "apply_async", lambda args, countdown: approvals.append(args)
    )
    user = UserFactory(country="NL")
    quote = quotes.quote_create(user=user, amount=Money("20.00", "GBP"))
    ideal = lifecycle.payment_create(user=user, quote=quote, reference="r", idempotency_key="nl")
    payment = lifecycle.payment_authorize(payment_id=ideal.pk)

    assert sandbox_stripe_bank_approves(*approvals[0]) == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED


@pytest.fixture
def production(settings):
    """DEBUG off and nobody allowed sandbox rails (the default rails are all in sandbox)."""
    settings.DEBUG = False
    settings.GERAOS_SANDBOX_ALLOWED = False


def test_check_deploy_refuses_sandbox_rails_with_debug_off(production):
    Rail.objects.exclude(code__in=["mpesa", "pix"]).update(sandbox=False)

    with pytest.raises(SystemCheckError, match=r"payments\.E001.*allowed here: M-Pesa, PIX\."):
        call_command("check", "--deploy", "--tag", "serving")


def test_sandbox_rails_pass_the_check_when_allowed_explicitly(production, settings):
    settings.GERAOS_SANDBOX_ALLOWED = True

    call_command("check", "--deploy", "--tag", "serving")


def test_live_rails_pass_the_check(production):
    Rail.objects.update(sandbox=False)

    call_command("check", "--deploy", "--tag", "serving")


@pytest.mark.parametrize("entry", ["geraos.wsgi", "geraos.asgi"])
def test_the_web_entry_points_refuse_to_serve_a_sandbox_rail(production, entry):
    with pytest.raises(ImproperlyConfigured, match="sandbox is not allowed here: "):
        importlib.reload(importlib.import_module(entry))


def test_a_forged_event_to_a_sandbox_rail_in_production_changes_nothing(client, settings):
    payment = lifecycle.payment_authorize(payment_id=make_payment(UserFactory()).pk)
    settings.GERAOS_SANDBOX_ALLOWED = False  # e.g. switched to sandbox while serving

    forged = deliver(client, captured_event(payment), secret=SANDBOX_WEBHOOK_SECRET)

    assert forged.status_code == 409
    assert forged.json()["error"]["code"] == "sandbox_not_allowed"
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_no_money_moves_through_a_sandbox_rail_in_production(production):
    payment = make_payment(UserFactory())

    with pytest.raises(SandboxNotAllowed):
        lifecycle.payment_authorize(payment_id=payment.pk)

    assert Payment.objects.get().status == Payment.Status.PENDING


def test_an_operator_cannot_put_a_rail_into_sandbox_in_production(operator_client, settings):
    Rail.objects.filter(code="mpesa").update(sandbox=False)
    settings.GERAOS_SANDBOX_ALLOWED = False
    mpesa = Rail.objects.get(code="mpesa")
    change = reverse("admin:payments_rail_change", args=[mpesa.pk])
    form = operator_client.get(change).context["adminform"].form
    posted = {name: form[name].value() for name in form.fields if name != "fee_fixed"}
    posted.update({"countries": '["KE"]', "currencies": '["KES"]', "sandbox": "on"})
    posted.update({"fee_fixed_0": "0", "fee_fixed_1": "GBP"})

    refused = operator_client.post(change, posted)

    assert refused.status_code == 200
    assert "GERAOS_SANDBOX_ALLOWED" in str(refused.context["adminform"].form.errors["sandbox"])
    assert not Rail.objects.get(code="mpesa").sandbox


def production_process(*args: str, **env: str) -> subprocess.CompletedProcess:
    """A process of a production deployment, on the test database: only what a
    deployment would set, nothing from the suite."""
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}")
    deployment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "geraos.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        **production_keys(),
        "ALLOWED_HOSTS": "geraos.example",
        "DATABASE_URL": url.geturl(),
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args],
        cwd=ROOT,
        env={**deployment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


LOADED_AS_UVICORN_DOES = """
import asyncio

async def load():
    import geraos.asgi

asyncio.run(load())
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: processes share the database"
)
def test_the_asgi_site_loaded_inside_an_event_loop_checks_its_rails_and_serves():
    """uvicorn imports the application inside its running event loop, where Django
    refuses synchronous database work: the checks had died there, whatever the rails."""
    Rail.objects.filter(code="pix").update(sandbox=True)
    Rail.objects.exclude(code="pix").update(sandbox=False)

    refused = production_process("-c", LOADED_AS_UVICORN_DOES)
    allowed = production_process("-c", LOADED_AS_UVICORN_DOES, GERAOS_SANDBOX_ALLOWED="true")

    assert "Rails are in sandbox mode but sandbox is not allowed here: PIX" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: processes share the database"
)
def test_a_production_deployment_holding_a_sandbox_rail_refuses_to_start():
    Rail.objects.filter(code="pix").update(sandbox=True)
    Rail.objects.exclude(code="pix").update(sandbox=False)

    checked = production_process("manage.py", "check", "--deploy")
    served = production_process("-c", "import geraos.wsgi")  # what gunicorn does first
    allowed = production_process("-c", "import geraos.wsgi", GERAOS_SANDBOX_ALLOWED="true")

    assert checked.returncode != 0
    assert "payments.E001" in checked.stderr
    assert "Rails are in sandbox mode but sandbox is not allowed here: PIX" in checked.stderr
    assert served.returncode != 0
    assert "Rails are in sandbox mode but sandbox is not allowed here: PIX" in served.stderr
    assert allowed.returncode == 0, allowed.stderr


def test_an_event_a_sandbox_rail_believes_never_settles_a_live_rails_payment(client, settings):
    """Sandbox allowed and no secret configured yet, as while rails are taken live one at
    a time: the sandbox card rail believes the published secret, but only for payments
    on sandbox rails; a live iDEAL payment's news must come signed with the real one."""
    settings.GERAOS_SANDBOX_ALLOWED, settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = True, ""
    payment = lifecycle.payment_authorize(payment_id=make_payment(UserFactory()).pk)
    Rail.objects.filter(code="stripe").update(sandbox=False)  # this payment's rail went live
    forged = signed_webhook(captured_event(payment), secret=SANDBOX_WEBHOOK_SECRET)

    client.post(
        reverse("rail-webhook", args=["ideal"]),
        forged[0],
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=forged[1],
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
