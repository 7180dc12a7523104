"""Idempotency-Key semantics, on a small view that counts the work it does."""

import datetime as dt
import hashlib
import json
import uuid

import pytest
import rfc8785
from django.db import connection
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError
from apps.core.idempotency import ABANDONED_AFTER, idempotent
from apps.core.models import IdempotencyRecord
from tests.factories import UserFactory
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db
CHARGES: list[dict] = []


class Charge(APIView):
    @idempotent
    def post(self, request):
        if request.data.get("amount") == "crash":
            raise RuntimeError("provider down")
        if request.data.get("amount") == "refused":
            raise ApplicationError("Below the rail's minimum.", code="amount_too_small")
        CHARGES.append(request.data)
        return Response({"charge": len(CHARGES), "amount": request.data["amount"]}, status=201)


class Callbacks(APIView):
    @idempotent
    def post(self, request):
        return Response({"callback_secret": ONE_TIME_SECRET}, status=202)


ONE_TIME_SECRET = "gcs_shown-once-3f9c"
urlpatterns = [
    path("api/v1/charges", Charge.as_view()),
    path("api/v1/callbacks", Callbacks.as_view()),
]


@pytest.fixture(autouse=True)
def _fresh_charges():
    CHARGES.clear()


def charge(client, body, key="key-1"):
    return client.post(
        "/api/v1/charges", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


@override_settings(ROOT_URLCONF=__name__)
def test_replay_returns_the_stored_response(user_client):
    first = charge(user_client, {"amount": "10.00"})
    again = charge(user_client, {"amount": "10.00"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(CHARGES) == 1


@override_settings(ROOT_URLCONF=__name__)
def test_a_stored_response_is_sealed_at_rest_and_replayed_intact(user_client):
    def register():
        return user_client.post(
            "/api/v1/callbacks", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="cb-1"
        )

    first = register()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_idempotencyrecord")
        stored = str(cursor.fetchall())
    again = register()

    assert ONE_TIME_SECRET not in stored
    assert again["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.json()) == (202, {"callback_secret": ONE_TIME_SECRET})
    assert again.json() == first.json()


@override_settings(ROOT_URLCONF=__name__)
def test_same_key_other_body_is_422(user_client):
    charge(user_client, {"amount": "10.00"})

    response = charge(user_client, {"amount": "99.00"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reuse"
    assert len(CHARGES) == 1


@override_settings(ROOT_URLCONF=__name__)
def test_body_is_compared_in_canonical_form(user_client):
    charge(user_client, {"amount": "10.00", "note": "a"})

    again = user_client.post(
        "/api/v1/charges",
        '{"note":"a",  "amount":"10.00"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )

    assert again["Idempotent-Replayed"] == "true"


@override_settings(ROOT_URLCONF=__name__)
def test_keys_are_scoped_to_the_caller(user_client, client):
    client.force_login(UserFactory())
    charge(user_client, {"amount": "10.00"})

    other = charge(client, {"amount": "10.00"})

    assert "Idempotent-Replayed" not in other
    assert len(CHARGES) == 2


@override_settings(ROOT_URLCONF=__name__)
def test_4xx_is_stored_and_5xx_is_not(user_client):
    user_client.raise_request_exception = False
    refused = charge(user_client, {"amount": "refused"}, key="k-4xx")
    crashed = charge(user_client, {"amount": "crash"}, key="k-5xx")

    assert charge(user_client, {"amount": "refused"}, key="k-4xx")["Idempotent-Replayed"] == "true"
    assert refused.json()["error"]["code"] == "amount_too_small"
    assert crashed.status_code == 500
    assert not IdempotencyRecord.objects.filter(key="k-5xx").exists()


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_still_in_flight_is_409(user_client, user, monkeypatch):
    monkeypatch.setattr("apps.core.idempotency.WAIT_FOR_IN_FLIGHT_SECONDS", 0)
    IdempotencyRecord.objects.create(
        caller=f"user:{user.pk}/session",
        path="/api/v1/charges",
        key="busy",
        request_hash=hashlib.sha256(rfc8785.dumps({"amount": "10.00"})).hexdigest(),
    )

    response = charge(user_client, {"amount": "10.00"}, key="busy")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_in_progress"
    assert CHARGES == []


@override_settings(ROOT_URLCONF=__name__)
def test_a_claim_abandoned_by_a_dead_request_is_taken_over(user_client, user):
    abandoned = IdempotencyRecord.objects.create(
        caller=f"user:{user.pk}/session",
        path="/api/v1/charges",
        key="crashed",
        request_hash=hashlib.sha256(rfc8785.dumps({"amount": "10.00"})).hexdigest(),
    )
    IdempotencyRecord.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - ABANDONED_AFTER - dt.timedelta(seconds=1)
    )

    response = charge(user_client, {"amount": "10.00"}, key="crashed")
    replay = charge(user_client, {"amount": "10.00"}, key="crashed")

    assert response.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(CHARGES) == 1


@override_settings(ROOT_URLCONF=__name__)
def test_missing_key_is_400(user_client):
    response = user_client.post("/api/v1/charges", {"amount": "1"}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("key", ["k" * 256, "two words", "ключ", "tab\there", "nul\x00"])
def test_a_key_too_long_or_outside_visible_ascii_is_400(user_client, key):
    response = charge(user_client, {"amount": "1"}, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not CHARGES


def test_the_openapi_document_declares_the_keys_bounds(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    (parameter,) = [
        p for p in document["paths"]["/api/v1/payments"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    ]  # fmt: skip

    assert parameter["schema"] == {
        "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
    }  # fmt: skip


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_fifty_concurrent_requests_with_one_key_do_the_work_once():
    user = UserFactory()
    key = str(uuid.uuid4())
    clients = [Client() for _ in range(50)]
    for client in clients:
        client.force_login(user)

    responses = run_concurrently(
        lambda client: charge(client, {"amount": "30.00"}, key=key), [(c,) for c in clients]
    )

    assert len(CHARGES) == 1
    assert {r.status_code for r in responses} == {201}
    assert {json.dumps(r.json(), sort_keys=True) for r in responses} == {
        json.dumps(responses[0].json(), sort_keys=True)
    }


@override_settings(ROOT_URLCONF=__name__)
def test_numbers_outside_i_json_are_a_400_not_a_crash(user_client):
    response = user_client.post(
        "/api/v1/charges",
        '{"amount": 1e400, "n": 99999999999999999999999}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="big",
    )

    assert response.status_code == 400
    assert CHARGES == []
