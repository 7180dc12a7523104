"""Rails' unsigned callbacks (M-Pesa, PIX, Idram's precheck) are throttled per rail and
source address, with a counter that holds under any concurrency; signed rails are not."""

import json
import threading
from urllib.parse import urlencode

import pytest
import redis
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.payments.models import ProviderEvent, Rail
from apps.payments.webhooks import RailCallbackThrottle, RailWebhookView
from tests.conftest import requires_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_a_minute(settings):
    settings.GERAOS_RAIL_CALLBACK_RATE = "3/min"


def stk_callback(checkout_request_id: str) -> str:
    return json.dumps(
        {"Body": {"stkCallback": {"CheckoutRequestID": checkout_request_id, "ResultCode": 0}}}
    )


def mpesa_callback(client: Client, number: int):
    return client.post(
        reverse("rail-webhook", args=["mpesa"]),
        stk_callback(f"ws_CO_forged_{number}"),
        content_type="application/json",
    )


def test_unsigned_callbacks_from_one_address_are_throttled():
    caller = Client(REMOTE_ADDR="203.0.113.7")

    responses = [mpesa_callback(caller, number) for number in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1].json()["error"]["code"] == "throttled"
    assert int(responses[-1].headers["Retry-After"]) > 0
    assert ProviderEvent.objects.count() == 3


def test_each_address_and_rail_has_its_own_allowance():
    busy = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(3):
        mpesa_callback(busy, number)
    precheck = {"EDP_REC_ACCOUNT": "110000601", "EDP_BILL_NO": "b1", "EDP_PRECHECK": "YES"}

    assert mpesa_callback(Client(REMOTE_ADDR="198.51.100.2"), 9).status_code == 200
    idram = busy.post(
        reverse("rail-webhook", args=["idram"]),
        urlencode(precheck),
        content_type="application/x-www-form-urlencoded",
    )
    assert idram.status_code == 200


def test_idram_prechecks_are_throttled():
    caller = Client(REMOTE_ADDR="203.0.113.7")

    statuses = [
        caller.post(
            reverse("rail-webhook", args=["idram"]),
            urlencode(
                {"EDP_REC_ACCOUNT": "110000601", "EDP_BILL_NO": f"b{n}", "EDP_PRECHECK": "YES"}
            ),
            content_type="application/x-www-form-urlencoded",
        ).status_code
        for n in range(4)
    ]

    assert statuses == [200, 200, 200, 429]


def test_signed_rails_are_left_to_their_signatures():
    caller = Client(REMOTE_ADDR="203.0.113.7", raise_request_exception=False)

    statuses = [
        caller.post(
            reverse("rail-webhook", args=["stripe"]), "{}", content_type="application/json"
        ).status_code
        for _ in range(5)
    ]

    assert statuses == [400] * 5  # refused by the signature check, never counted


def admitted_out_of(calls: int, *, threads: int) -> int:
    factory = RequestFactory()
    view = RailWebhookView()
    view.kwargs = {"rail": "mpesa"}
    start = threading.Barrier(threads)
    admitted = []

    def caller(share: int) -> None:
        start.wait()
        for _ in range(share):
            request = factory.post("/webhooks/rails/mpesa/", REMOTE_ADDR="203.0.113.7")
            admitted.append(RailCallbackThrottle().allow_request(request, view))

    workers = [threading.Thread(target=caller, args=(calls // threads,)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(admitted)


@requires_redis
def test_under_concurrency_no_more_than_the_rate_are_admitted(settings):
    settings.GERAOS_RAIL_CALLBACK_RATE = "40/min"

    assert admitted_out_of(160, threads=32) == 40


def test_callbacks_are_admitted_while_the_cache_is_down(monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr("apps.payments.webhooks.cache.add", unreachable)
    caller = Client(REMOTE_ADDR="203.0.113.7")

    statuses = [mpesa_callback(caller, number).status_code for number in range(4)]

    assert statuses == [200] * 4
    assert "rail callback throttle is off" in caplog.text


def test_a_notice_for_a_rail_geraos_has_no_adapter_for_is_refused():
    Rail.objects.create(code="oldrail", name="Old rail", min_amount=1, max_amount=2)

    response = Client(raise_request_exception=False).post(
        reverse("rail-webhook", args=["oldrail"]), "{}", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()
