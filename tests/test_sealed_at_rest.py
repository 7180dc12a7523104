"""A database dump taken after the demo flow gives away no secret and no personal value:
two-factor secrets (set up, or being set up in a session), payers' phones and UPI ids,
addresses in dispatch details, memory keys and values, providers' and receipts' signing
secrets, API tokens."""

import base64
import os
import shutil
import subprocess
import zlib
from io import StringIO

import pytest
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from apps.catalog import services as catalog_services
from apps.catalog.models import Provider
from apps.identity.models import User
from apps.trust import keys
from apps.trust.models import SigningKey
from tests.factories import UserFactory, make_grant

PHONE = "254711223344"
VPA = "priya.sharma@okicici"
ADDRESS = "14 Ngong Road, Kilimani"
PROBLEM = "Burst pipe under the sink in the flat above the pharmacy"
MEMORY_KEY = "front_gate_code"
MEMORY_VALUE = "Gate code 4417, ask for Wanjiru"
# What seed_demo remembers for the demo user (apps/memory/demo.py) that no other row says.
SEEDED_MEMORY = ["visit_time", "last_plumber", "weekday mornings", "Worcester Bosch"]


def database_dump() -> str:
    """Every row of every table as text: pg_dump on PostgreSQL, SELECT * elsewhere."""
    db = connection.settings_dict
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        return subprocess.run(  # noqa: S603 - pg_dump of the test database
            ["pg_dump", "--data-only", "--no-owner", db["NAME"]],  # noqa: S607
            env={
                **os.environ,
                "PGHOST": db["HOST"],
                "PGPORT": str(db["PORT"]),
                "PGUSER": db["USER"],
                "PGPASSWORD": db["PASSWORD"] or "",
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows)


def session_payloads() -> str:
    """Each session as anyone holding the dump reads it: Django signs a session, and its
    payload is only base64 (compressed with zlib when that is shorter)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        rows = [data for (data,) in cursor.fetchall()]
    found = []
    for data in rows:
        payload = data.split(":")[0]
        try:
            raw = signing.b64_decode(payload.lstrip(".").encode())
            found.append((zlib.decompress(raw) if payload.startswith(".") else raw).decode())
        except (ValueError, zlib.error):  # not a signed payload: nothing to read
            continue
    return "\n".join(found)


def api_client(user: User, scopes: list[str]) -> tuple[Client, str]:
    _, token = make_grant(user, scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}"), token


def post(client: Client, path: str, body: dict, key: str = ""):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = client.post(path, body, content_type="application/json", **headers)
    assert response.status_code in {201, 202}, response.json()
    return response.json()


def kenyan_books_a_plumber_and_remembers_the_gate() -> str:
    """An M-Pesa dispatch (the phone, an address in the details) and a memory write."""
    kenyan = UserFactory(country="KE", preferred_currency="")
    client, token = api_client(
        kenyan, ["dispatch:create", "dispatch:read", "memory:write:home", "memory:read:home"]
    )
    order = post(
        client,
        "/api/v1/dispatches",
        {
            "text": "book a plumber in Nairobi under £50",
            "details": {"problem": PROBLEM, "address_area": ADDRESS},
            "payer_account": PHONE,
        },
        key="kenyan-plumber",
    )
    assert client.get(f"/api/v1/dispatches/{order['id']}").json()["status"] == "completed"
    post(
        client,
        "/api/v1/memory",
        {
            "product": "gerahome",
            "scope": "home",
            "kind": "preference",
            "key": MEMORY_KEY,
            "value": {"note": MEMORY_VALUE},
        },
    )
    return token


def indian_pays_by_upi() -> str:
    client, token = api_client(UserFactory(country="IN"), ["dispatch:create", "dispatch:read"])
    quote = post(client, "/api/v1/quotes", {"amount": "10.00", "currency": "GBP"})
    payment = post(
        client,
        "/api/v1/payments",
        {"quote": quote["id"], "reference": "tutor", "payer_account": VPA},
        key="upi-tutor",
    )
    assert client.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "captured"
    return token


def second_factor_secrets(email: str) -> list[str]:
    """The operator's TOTP secret, recovery-code seed and codes, as allauth opens them."""
    totp, recovery = (
        Authenticator.objects.get(user__email=email, type=kind)
        for kind in (Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES)
    )
    return [
        get_adapter().decrypt(totp.data["secret"]),
        get_adapter().decrypt(recovery.data["seed"]),
        *RecoveryCodes(recovery).generate_codes(),
    ]


def someone_setting_up_an_authenticator_app() -> list[str]:
    """allauth keeps the secret of an authenticator app being set up in the session until
    its first code is confirmed."""
    user, client = UserFactory(), Client()
    client.force_login(user)
    request = HttpRequest()
    request.session = client.session
    record_authentication(request, user, "password", reauthenticated=True)  # allauth asks again
    request.session.save()
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    return [client.session[SECRET_SESSION_KEY]]


def signing_secrets() -> list[str]:
    found = [
        catalog_services.provider_secret(provider=provider).decode()
        for provider in Provider.objects.exclude(shared_secret_sealed="")
    ]
    for key in SigningKey.objects.all():
        raw = keys.open_private_key(key.private_key_sealed, kid=key.kid).private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        found += [base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex()]
    return found


@pytest.mark.django_db(transaction=True)
def test_a_dump_after_the_demo_flow_holds_no_secret_or_personal_value():
    call_command("seed_demo", stdout=StringIO())
    tokens = [
        settings.GERAOS_DEMO_AGENT_TOKEN,
        kenyan_books_a_plumber_and_remembers_the_gate(),
        indian_pays_by_upi(),
    ]
    secrets = {
        "two-factor": second_factor_secrets("operator@gera.example"),
        "two-factor being set up": someone_setting_up_an_authenticator_app(),
        "payer accounts": [PHONE, VPA],
        "dispatch details": [ADDRESS, PROBLEM],
        "memory": [MEMORY_KEY, MEMORY_VALUE, *SEEDED_MEMORY],
        "signing secrets": signing_secrets(),
        "API tokens": tokens,
        "password": [settings.GERAOS_DEMO_PASSWORD],
    }

    dump = database_dump() + session_payloads()

    assert "mfa_authenticator" in dump  # the dump has the rows
    leaked = {kind: [v for v in values if v in dump] for kind, values in secrets.items()}
    assert {kind: values for kind, values in leaked.items() if values} == {}, leaked
