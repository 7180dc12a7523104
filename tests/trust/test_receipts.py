"""Receipts: standard JWS any JOSE library verifies with our JWKS; tampering fails;
retired keys still verify; the database refuses to change a receipt."""

import json

import jwt
import pytest
import rfc8785
from django.db import DatabaseError, transaction

from apps.trust import jose, merkle, selectors, services
from apps.trust.models import LogNode, Receipt, SigningKey, TreeHead
from tests.factories import make_receipt, refund_in_full

pytestmark = pytest.mark.django_db


def resign_payload(token: str, change) -> str:
    """The same JWS with its payload edited and the original signature kept."""
    header, payload, signature = token.split(".")
    body = json.loads(jose.b64url_decode(payload))
    change(body)
    edited = jose.b64url(json.dumps(body, separators=(",", ":")).encode())
    return f"{header}.{edited}.{signature}"


def test_pyjwt_verifies_a_receipt_with_nothing_but_the_jwks(user):
    receipt = make_receipt(user)
    (jwk,) = selectors.jwks()["keys"]

    payload = jwt.api_jws.decode(receipt.jws, jwt.PyJWK(jwk).key, algorithms=["EdDSA"])

    body = json.loads(payload)
    assert body["id"] == str(receipt.pk)
    assert body["amount"]["settled"] == {"amount": "22.50", "currency": "GBP"}
    assert body["subject"]["user"].startswith("sub_")
    assert user.email not in payload.decode()
    assert jwt.get_unverified_header(receipt.jws)["kid"] == receipt.kid


def test_payload_is_the_rfc8785_canonical_form(user):
    receipt = make_receipt(user, source={"provider": "Adé Plümbing ✓", "skill": "home.plumbing"})
    amendment, _ = services.receipt_record_refund(receipt=receipt, refund=refund_in_full("re_1"))

    for signed in (receipt, amendment):
        payload = jose.b64url_decode(signed.jws.split(".")[1])
        assert payload == rfc8785.dumps(json.loads(payload)) == rfc8785.dumps(signed.payload)


@pytest.mark.parametrize(
    "field",
    [
        "id",
        "kid",
        "issued_at",
        "source",
        "subject",
        "amount",
        "rail",
        "payment_ref",
        "resolution",
        "previous",
        "log_index",
    ],
)
def test_changing_any_field_breaks_the_signature(user, field):
    receipt = make_receipt(user)
    tampered = resign_payload(receipt.jws, lambda body: body.__setitem__(field, "tampered"))

    with pytest.raises(jose.VerificationError):
        jose.jws_verify(tampered, jwks=selectors.jwks(), typ=jose.RECEIPT_TYPE)


def test_changing_the_signature_or_the_kid_fails(user):
    receipt = make_receipt(user)
    header, payload, signature = receipt.jws.split(".")
    bad_signature = (
        f"{header}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    )
    other_kid = jose.b64url(json.dumps({"alg": "EdDSA", "kid": "someone-else"}).encode())

    for token in (bad_signature, f"{other_kid}.{payload}.{signature}"):
        with pytest.raises(jose.VerificationError):
            jose.jws_verify(token, jwks=selectors.jwks(), typ=jose.RECEIPT_TYPE)


def test_only_issuing_a_receipt_signs_one(user):
    """A receipt is an entry of the log: sign_document signs other documents only."""
    make_receipt(user)

    with pytest.raises(ValueError, match="issue_receipt"):
        services.sign_document(payload={"id": "not-in-the-log"}, typ=jose.RECEIPT_TYPE)


def test_a_receipt_signed_by_a_retired_key_still_verifies(user):
    old = make_receipt(user)
    services.signing_key_rotate()
    new = make_receipt(user)

    assert old.kid != new.kid
    assert SigningKey.objects.get(kid=old.kid).status == SigningKey.Status.RETIRED
    for receipt in (old, new):
        assert jose.jws_verify(receipt.jws, jwks=selectors.jwks(), typ=jose.RECEIPT_TYPE)[
            "id"
        ] == str(receipt.pk)


def test_private_keys_are_sealed_at_rest(user):
    make_receipt(user)
    key = SigningKey.objects.get()

    assert len(key.private_key_sealed) > 64
    assert key.private_key_sealed not in json.dumps(selectors.jwks())


def test_the_database_refuses_to_change_a_receipt(user):
    receipt = make_receipt(user)

    with pytest.raises(DatabaseError), transaction.atomic():
        Receipt.objects.filter(pk=receipt.pk).update(resolution="refunded")
    receipt.refresh_from_db()
    assert receipt.resolution == "completed"


def test_amendments_are_new_receipts_pointing_at_the_original(user):
    original = make_receipt(user)

    refund = services.receipt_amend(receipt=original, resolution="refunded")

    assert refund.previous == original
    assert refund.payload["previous"] == str(original.pk)
    assert (original.log_index, refund.log_index) == (0, 1)
    assert Receipt.objects.get(pk=original.pk).resolution == "completed"


def test_each_receipt_is_a_leaf_and_each_append_signs_a_checkpoint(user):
    receipts = [make_receipt(user) for _ in range(5)]

    head = selectors.tree_head_latest()
    assert head.size == 5
    assert TreeHead.objects.count() == 5
    assert LogNode.objects.filter(level=0).count() == 5
    for receipt in receipts:
        _, proof = selectors.receipt_proof(receipt=receipt)
        leaf = merkle.leaf_hash(receipt.jws.encode())
        assert merkle.verify_inclusion(leaf, receipt.log_index, 5, proof, bytes(head.root_hash))
    key = SigningKey.objects.get()
    _, size, root = jose.checkpoint_verify(
        head.checkpoint, name="geraos.example/receipts", public_key=bytes(key.public_key)
    )
    assert (size, root) == (5, bytes(head.root_hash))
