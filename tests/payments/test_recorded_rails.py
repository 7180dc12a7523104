"""The production PIX and UPI adapters against recorded responses of the documented API
shapes (BACEN's /v2/cob; a UPI PSP's collect API): what we send, and how we read back."""

import pytest
from djmoney.money import Money

from apps.payments import lifecycle, quotes
from apps.payments.adapters.pix import PixAdapter
from apps.payments.adapters.stripe_card import StripeAdapter
from apps.payments.adapters.upi import UpiAdapter
from apps.payments.models import Payment, Rail
from tests.factories import UserFactory
from tests.identity.stripe_recordings import RecordedStripe
from tests.payments.test_stripe_adapter import RECORDINGS

pytestmark = pytest.mark.django_db


class Recorded:
    def __init__(self, answers: dict[tuple[str, str], dict]):
        self.answers = answers
        self.sent: list[tuple[str, str, dict | None]] = []

    def request(self, method, url, *, headers, body):
        self.sent.append((method, url, body))
        for (verb, fragment), answer in self.answers.items():
            if verb == method and fragment in url:
                return 200, answer
        return 404, {"title": "not recorded"}


def payment_in(country: str, rail: str, payer: str = "") -> Payment:
    Rail.objects.filter(code=rail).update(sandbox=False)
    user = UserFactory(country=country)
    quote = quotes.quote_create(user=user, amount=Money("10.00", "GBP"))
    return lifecycle.payment_create(
        user=user,
        quote=quote,
        reference="visit",
        idempotency_key=f"{rail}-{quote.pk}",
        payer_account=payer,
    )


PIX_COB = {
    "calendario": {"criacao": "2026-11-25T10:00:00Z", "expiracao": 3600},
    "txid": "TXIDRECORDED0000000000000000001",
    "revisao": 0,
    "status": "ATIVA",
    "location": "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25",
    "valor": {"original": "70.42"},
    "chave": "pix@gera.example",
    "pixCopiaECola": "00020101021226830014BR.GOV.BCB.PIX2561pix.example.com/qr/v2/9d36b84f"
    "5204000053039865802BR5913GERAOS6009SAO PAULO62070503***63041D3D",
}
PIX_PAID = {
    **PIX_COB,
    "status": "CONCLUIDA",
    "pix": [
        {
            "endToEndId": "E12345678202611251000abcdefghijk",
            "txid": PIX_COB["txid"],
            "valor": "70.42",
            "horario": "2026-11-25T10:01:00Z",
        }
    ],
}


def test_pix_production_adapter(monkeypatch):
    recorded = Recorded({("PUT", "/v2/cob/"): PIX_COB, ("GET", "/v2/cob/"): PIX_PAID})
    monkeypatch.setattr(PixAdapter, "transport", recorded)

    payment = lifecycle.payment_authorize(payment_id=payment_in("BR", "pix").pk)
    assert payment.next_action["copy_paste"] == PIX_COB["pixCopiaECola"]
    payment = lifecycle.payment_reconcile(payment_id=payment.pk)

    method, url, body = recorded.sent[0]
    assert method == "PUT"
    assert body["valor"] == {"original": "70.42"}
    assert 26 <= len(url.rsplit("/", 1)[1]) <= 35
    assert (payment.status, payment.confirmation_id) == (
        "captured",
        "E12345678202611251000abcdefghijk",
    )


UPI_PENDING = {
    "txn_ref": "recorded",
    "status": "PENDING",
    "psp_txn_id": "PSP123",
    "amount": "1073.50",
}
UPI_SUCCESS = {
    "txn_ref": "recorded",
    "status": "SUCCESS",
    "rrn": "432109876543",
    "amount": "1073.50",
}


def test_upi_production_adapter(monkeypatch):
    recorded = Recorded(
        {("POST", "/v1/upi/collect"): UPI_PENDING, ("GET", "/v1/upi/status/"): UPI_SUCCESS}
    )
    monkeypatch.setattr(UpiAdapter, "transport", recorded)

    payment = lifecycle.payment_authorize(payment_id=payment_in("IN", "upi", "asha@okbank").pk)
    assert payment.status == Payment.Status.REQUIRES_ACTION
    payment = lifecycle.payment_reconcile(payment_id=payment.pk)

    _, url, body = recorded.sent[0]
    assert url.endswith("/v1/upi/collect")
    assert (body["payer_vpa"], body["amount"]) == ("asha@okbank", "1073.50")
    assert (payment.status, payment.confirmation_id) == ("captured", "432109876543")


def test_ideal_production_adapter(monkeypatch, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"
    recorded = RecordedStripe(
        overrides={"/v1/payment_intents": ("ideal_requires_action.json", 200)}
    )
    monkeypatch.setattr("tests.identity.stripe_recordings.RECORDINGS", RECORDINGS)
    monkeypatch.setattr(StripeAdapter, "transport", recorded)

    payment = lifecycle.payment_authorize(payment_id=payment_in("NL", "ideal").pk)

    (_, path, sent) = recorded.sent[0]
    assert path == "/v1/payment_intents"
    assert sent["payment_method_types[0]"] == ["ideal"]
    assert sent["confirm"] == ["true"]
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.next_action["url"].startswith("https://pm-redirects.stripe.com/")
