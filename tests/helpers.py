"""Small readers, clients and runners shared by tests of different apps."""

import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import redis
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import OperationalError, connection
from django.http import HttpRequest
from django.test import Client

from apps.core.models import AuditEvent
from apps.identity.models import User
from apps.payments import lifecycle
from apps.payments.sandbox_payer import sandbox_mpesa_approve
from tests.factories import UserFactory

# Every authenticator app a test sets up holds this secret (base32).
TOTP_SECRET = "GERATESTSTAFFTOTPSECRET234567ABC"


def give_totp(user: User) -> Authenticator:
    """The user's authenticator app, holding TOTP_SECRET (allauth's own activation)."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return existing or TOTP.activate(user, TOTP_SECRET).instance


def totp_code(secret: str = TOTP_SECRET, *, at: float | None = None) -> str:
    """What an authenticator app holding `secret` shows now (or at the time `at`)."""
    moment = time.time() if at is None else at
    return format_hotp_value(hotp_value(secret, int(moment) // mfa_settings.TOTP_PERIOD))


def sign_in_with_mfa(client: Client, user: User) -> Client:
    """Sign `user` in as allauth does after password and TOTP: staff reach the admin only
    from such a session."""
    authenticator = give_totp(user)
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()
    return client


def stored_row(model, pk) -> str:
    """A row as the database holds it, every column as text: what a dump of it shows."""
    table, column = (connection.ops.quote_name(name) for name in (model._meta.db_table, "id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {table} WHERE {column} = %s",  # noqa: S608 - names from the model
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        return repr(cursor.fetchone())


def dashboard_cards(client, period: str = "") -> dict[str, dict]:
    """The operator dashboard's cards as {title: card}, across its sections."""
    query = f"?period={period}" if period else ""
    sections = client.get(f"/admin/{query}").context["kpi_sections"]
    return {card["title"]: card for section in sections for card in section["cards"]}


def dashboard_numbers(client) -> dict:
    """The operator dashboard's cards as {title: value}, across its sections."""
    return {title: card["value"] for title, card in dashboard_cards(client).items()}


def audit_trail() -> list[tuple]:
    """The operator audit log, oldest first, each event as (action, "type:id" of its
    object, changes, reason, actor)."""
    return [
        (e.action, f"{e.object_type}:{e.object_id}", e.changes, e.reason, e.actor)
        for e in AuditEvent.objects.select_related("actor").order_by("sequence")
    ]


def staff_with(*perms: str) -> Client:
    """A signed-in staff user holding exactly `perms` ("app.codename")."""
    user = UserFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return sign_in_with_mfa(Client(raise_request_exception=False), user)


def run_concurrently(
    attempt: Callable,
    calls: int | Sequence[tuple],
    *,
    refusals: tuple[type[Exception], ...] = (),
) -> list:
    """Call `attempt` in one thread per call (`calls`: how many alike, or each one's
    arguments), all let go at once, each on its own database connection, closed after.

    Returns, in call order, what each call returned or the refusal (one of `refusals`)
    it raised; any other exception is raised here, in the test.
    """
    arguments = [()] * calls if isinstance(calls, int) else list(calls)
    start = threading.Barrier(len(arguments))

    def run(args: tuple):
        start.wait()
        try:
            return attempt(*args)
        except refusals as refusal:
            return refusal
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        futures = [pool.submit(run, args) for args in arguments]
    return [future.result() for future in futures]


def stk_push_answer_lost_once(monkeypatch) -> list[str]:
    """Daraja takes the next STK push, then storing its answer (the CheckoutRequestID)
    fails, as when PostgreSQL blinks. Returns the prompts the payer's phone gets, each
    left for the test to approve (`sandbox_mpesa_approve`)."""
    prompts = []
    monkeypatch.setattr(
        sandbox_mpesa_approve, "apply_async", lambda args, countdown: prompts.append(args[0])
    )
    store_answer = lifecycle.payment_apply_result
    blinks = [OperationalError("server closed the connection unexpectedly")]

    def blink_once(**kwargs):
        if kwargs["cause"] == "authorize" and blinks:
            raise blinks.pop()
        return store_answer(**kwargs)

    monkeypatch.setattr(lifecycle, "payment_apply_result", blink_once)
    return prompts


def run_service_command(verb: str, server: str) -> None:
    """Stop or start the test's PostgreSQL or Redis (scripts/with-test-services exports the
    commands); a server keeps its data."""
    command = os.environ[f"GERAOS_TEST_{verb.upper()}_{server.upper()}"]
    subprocess.run(["sh", "-c", command], check=True, capture_output=True)  # noqa: S603, S607


def wait_for_redis(timeout: float = 10.0) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
