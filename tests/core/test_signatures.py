"""Signature headers: a timestamp too large for a float, or a signature that is not hex,
is refused like any other bad signature, not a crash."""

import time

import pytest

from apps.core import hmac_signature, stripe_signature

HUGE = "9" * 400


def test_hmac_signature_refuses_a_huge_timestamp():
    with pytest.raises(hmac_signature.BadSignature, match="tolerance"):
        hmac_signature.verify(f"t={HUGE},v1=00", b"{}", b"secret")


def test_hmac_signature_refuses_a_signature_that_is_not_hex():
    now = int(time.time())
    with pytest.raises(hmac_signature.BadSignature):
        hmac_signature.verify(f"t={now},v1=\u00e9\u00e9", b"{}", b"secret")


def test_stripe_signature_refuses_a_huge_timestamp():
    with pytest.raises(stripe_signature.SkewedTimestamp, match="tolerance"):
        stripe_signature.reject_skewed_timestamp(f"t={HUGE},v1=00")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/webhooks/stripe/", "/webhooks/rails/stripe/"])
def test_public_stripe_webhooks_answer_400_to_a_huge_timestamp(client, settings, catalog, url):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    settings.STRIPE_PAYMENTS_WEBHOOK_SECRET = "whsec_test"

    response = client.post(
        url, b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE=f"t={HUGE},v1=00"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
