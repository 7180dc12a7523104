"""PIX: a charge with txid, copy-paste code and QR; settled only when read back as
CONCLUIDA with an endToEndId."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from apps.payments import lifecycle, quotes, refunds
from apps.payments.adapters.pix import PixAdapter
from apps.payments.models import Payment, ProviderEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def brazilian_payment(reference: str = "consulta") -> Payment:
    user = UserFactory(country="BR")
    quote = quotes.quote_create(user=user, amount=Money("10.00", "GBP"))
    return lifecycle.payment_create(
        user=user, quote=quote, reference=reference, idempotency_key=f"pix-{quote.pk}"
    )


def paid_at_once(on_commit) -> Payment:
    """Eager Celery: the payer pays at once, so the PSP's notification arrives before the
    charge's txid is stored; it is held, and the PSP asked once the payment commits."""
    with on_commit(execute=True):
        payment = lifecycle.payment_authorize(payment_id=brazilian_payment().pk)
    payment.refresh_from_db()
    return payment


def test_pix_charge_paid_in_the_banking_app_is_captured(django_capture_on_commit_callbacks):
    payment = paid_at_once(django_capture_on_commit_callbacks)

    assert payment.status == Payment.Status.CAPTURED
    assert payment.confirmation_id.startswith("E")
    assert payment.confirmation_verified
    assert str(payment.local_amount) == "R$70.42"


def test_unpaid_charge_offers_copy_paste_code_and_qr():
    payment = lifecycle.payment_authorize(payment_id=brazilian_payment("visit [unpaid]").pk)

    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert payment.next_action["copy_paste"].startswith("000201")
    assert payment.next_action["qr_svg"].startswith("data:image/svg+xml;base64,")


def test_a_notification_for_an_unpaid_charge_settles_nothing(client):
    payment = lifecycle.payment_authorize(payment_id=brazilian_payment("visit [unpaid]").pk)
    forged = {"pix": [{"txid": payment.provider_reference, "endToEndId": "Efake", "valor": "1.00"}]}

    client.post(
        reverse("rail-webhook", args=["pix"]), json.dumps(forged), content_type="application/json"
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.REQUIRES_ACTION
    # What the PSP said when asked, not what the notification claimed.
    assert ProviderEvent.objects.filter(event_id=f"{payment.provider_reference}:requires_action")


def notify(notice: dict):
    return Client(raise_request_exception=False).post(
        reverse("rail-webhook", args=["pix"]),
        json.dumps({"pix": [notice]}),
        content_type="application/json",
    )


def test_a_notification_naming_a_charge_geraos_never_made_is_kept_once_and_the_psp_not_asked(
    monkeypatch,
):
    asked = []
    monkeypatch.setattr(PixAdapter, "_request", lambda self, *request: asked.append(request))

    answers = [notify({"txid": "A" * 26, "endToEndId": "E1"}) for _ in range(2)]

    assert [answer.json()["outcome"] for answer in answers] == ["held", "duplicate"]
    assert asked == []
    [kept] = ProviderEvent.objects.all()
    assert kept.pending_result["status"] == "unconfirmed"


def test_a_notification_with_ids_we_could_not_store_or_send_is_a_400():
    payment = lifecycle.payment_authorize(payment_id=brazilian_payment("visit [unpaid]").pk)

    long_id = notify({"txid": payment.provider_reference, "endToEndId": "E" * 300})
    path_like = notify({"txid": "../../pix/x/devolucao/y", "endToEndId": "E1"})

    assert (long_id.status_code, path_like.status_code) == (400, 400)
    assert not ProviderEvent.objects.exists()


def test_pix_refund_is_a_devolucao(django_capture_on_commit_callbacks):
    payment = paid_at_once(django_capture_on_commit_callbacks)

    refund = refunds.refund_create(payment_id=payment.pk)

    assert refund.status == "succeeded"
    assert refund.provider_reference.startswith("D")
