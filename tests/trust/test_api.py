"""The trust API: who may read a receipt, public verification and proofs, and the
offline verifier agreeing with the API."""

import base64
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from apps.trust import integration, jose, merkle, selectors
from apps.trust.models import TreeHead
from tests.factories import UserFactory, make_grant, make_quote, make_receipt
from tests.helpers import staff_with

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def offline_verify(tmp_path, bundle: dict) -> subprocess.CompletedProcess:
    """The verifier as a third party runs it, with GeraOS's published keys pinned."""
    bundle_file, jwks_file = tmp_path / "bundle.json", tmp_path / "jwks.json"
    bundle_file.write_text(json.dumps(bundle))
    jwks_file.write_text(json.dumps(Client().get("/.well-known/jwks.json").json()))
    args = [sys.executable, "-m", "apps.trust.verify", str(bundle_file), "--jwks", str(jwks_file)]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603


def test_owner_reads_receipt_with_a_proof_that_verifies(user_client, user):
    receipt = make_receipt(user)
    make_receipt(user)

    body = user_client.get(f"/api/v1/receipts/{receipt.pk}").json()

    proof = body["inclusion_proof"]
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    root = base64.b64decode(body["tree_head"]["root_hash"])
    assert body["receipt"]["log_index"] == 0
    assert merkle.verify_inclusion(merkle.leaf_hash(body["jws"].encode()), 0, 2, hashes, root)


def test_a_receipt_not_yet_in_a_checkpoint_says_so_and_offers_no_proof(user_client, user, client):
    make_receipt(user)
    receipt = make_receipt(user, integrated=False)
    promised = receipt.issued_at + dt.timedelta(seconds=settings.GERAOS_LOG_MAX_INTEGRATION_DELAY)

    shown = user_client.get(f"/api/v1/receipts/{receipt.pk}").json()
    bundle = user_client.get(f"/api/v1/receipts/{receipt.pk}/bundle")
    verified = client.post(
        "/api/v1/receipts/verify", {"jws": receipt.jws}, content_type="application/json"
    ).json()

    assert shown["log_status"] == "sequenced"
    assert dt.datetime.fromisoformat(shown["integrate_by"]) == promised
    assert (shown["inclusion_proof"], shown["tree_head"]) == (None, None)
    assert shown["receipt"]["log_index"] == 1
    assert bundle.status_code == 409
    assert bundle.json()["error"]["code"] == "receipt_not_yet_provable"
    assert bundle.json()["error"]["details"] == {
        "log_index": 1,
        "integrate_by": shown["integrate_by"],
    }
    assert verified["valid"] is True
    assert verified["reason"] == (
        f"signed by {receipt.kid} and entry 1 of the log, "
        f"in a signed checkpoint by {shown['integrate_by']}"
    )

    integration.integrate()

    shown = user_client.get(f"/api/v1/receipts/{receipt.pk}").json()
    assert (shown["log_status"], shown["integrate_by"]) == ("integrated", None)
    assert shown["tree_head"]["size"] == shown["inclusion_proof"]["tree_size"] == 2
    assert user_client.get(f"/api/v1/receipts/{receipt.pk}/bundle").status_code == 200


def test_a_proof_reads_the_log_in_two_statements_whatever_its_size(user, django_assert_num_queries):
    receipts = [make_receipt(user) for _ in range(37)]

    for receipt in (receipts[0], receipts[18], receipts[-1]):
        with django_assert_num_queries(2):  # the latest head, then the proof's nodes
            selectors.receipt_proof(receipt=receipt)


def test_agent_needs_receipts_read(user):
    receipt = make_receipt(user)
    _, without = make_grant(user, scopes=["dispatch:read"])
    _, with_scope = make_grant(user, scopes=["receipts:read"])

    assert bearer(without).get(f"/api/v1/receipts/{receipt.pk}").status_code == 403
    assert bearer(with_scope).get(f"/api/v1/receipts/{receipt.pk}").status_code == 200


def test_named_counterparty_and_operator_read_it_others_do_not(user, other_user, operator_client):
    receipt = make_receipt(user, counterparties=[other_user])
    seller = Client()
    seller.force_login(other_user)
    stranger = Client()
    stranger.force_login(UserFactory())

    assert seller.get(f"/api/v1/receipts/{receipt.pk}").status_code == 200
    assert operator_client.get(f"/api/v1/receipts/{receipt.pk}").status_code == 200
    assert stranger.get(f"/api/v1/receipts/{receipt.pk}").status_code == 404


def test_staff_session_reads_others_receipts_only_with_the_view_permission(user):
    receipt = make_receipt(user)
    refused = staff_with().get(f"/api/v1/receipts/{receipt.pk}")
    allowed = staff_with("trust.view_receipt").get(f"/api/v1/receipts/{receipt.pk}")

    assert refused.status_code == 404
    assert allowed.status_code == 200


def test_anyone_can_verify_online(client, user):
    receipt = make_receipt(user)
    header, _, signature = receipt.jws.split(".")
    forged = f"{header}.{jose.b64url(b'{}')}.{signature}"

    valid = client.post(
        "/api/v1/receipts/verify", {"jws": receipt.jws}, content_type="application/json"
    ).json()
    invalid = client.post(
        "/api/v1/receipts/verify", {"jws": forged}, content_type="application/json"
    ).json()

    assert valid["valid"] is True
    assert valid["receipt"]["id"] == str(receipt.pk)
    assert invalid == {"valid": False, "reason": "signature does not match", "receipt": None}


def test_a_quote_presented_as_a_receipt_is_not_a_valid_receipt(client, catalog):
    quote = make_quote(UserFactory(country="GB"))  # signed with the receipts' key

    answer = client.post(
        "/api/v1/receipts/verify", {"jws": quote.jws}, content_type="application/json"
    ).json()

    assert answer == {
        "valid": False,
        "reason": "not a receipt: it is a quote (typ 'geraos-quote+jws')",
        "receipt": None,
    }


@pytest.mark.parametrize("header", [b"[1]", b"1", b"null"])
def test_a_jws_whose_header_is_not_an_object_is_invalid_not_a_crash(client, header):
    jws = f"{jose.b64url(header)}.{jose.b64url(b'{}')}.AAAA"

    response = client.post("/api/v1/receipts/verify", {"jws": jws}, content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"valid": False, "reason": "not a compact JWS", "receipt": None}


def test_public_log_head_and_consistency_proof(client, user):
    for _ in range(5):
        make_receipt(user)

    head = client.get("/api/v1/log/head").json()
    proof = client.get("/api/v1/log/proof/consistency", {"first": 3, "second": 5}).json()
    first_root = bytes(TreeHead.objects.get(size=3).root_hash)

    assert head["size"] == 5
    assert merkle.verify_consistency(
        3,
        5,
        first_root,
        base64.b64decode(head["root_hash"]),
        [base64.b64decode(h) for h in proof["hashes"]],
    )
    bad = client.get("/api/v1/log/proof/consistency", {"first": 6, "second": 5})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_proof_request"


def test_offline_verifier_agrees_with_the_api(tmp_path, user_client, user, client):
    receipt = make_receipt(user)
    make_receipt(user)
    bundle = user_client.get(f"/api/v1/receipts/{receipt.pk}/bundle").json()

    valid = offline_verify(tmp_path, bundle)
    assert valid.returncode == 0, valid.stdout
    assert valid.stdout.startswith(f"valid: receipt {receipt.pk}")

    tampered = {**bundle, "receipt": bundle["receipt"][:-4] + "AAAA"}
    invalid = offline_verify(tmp_path, tampered)
    api = client.post(
        "/api/v1/receipts/verify", {"jws": tampered["receipt"]}, content_type="application/json"
    ).json()
    assert invalid.returncode == 1
    assert invalid.stdout.strip() == "invalid: signature does not match"
    assert api["valid"] is False

    not_a_jws = offline_verify(tmp_path, {**bundle, "receipt": "WzFd.e30.AAAA"})
    assert (not_a_jws.returncode, not_a_jws.stdout.strip()) == (1, "invalid: not a compact JWS")
    no_string = offline_verify(tmp_path, {**bundle, "receipt": 1})
    assert no_string.returncode == 1
    assert no_string.stdout.startswith("invalid: malformed bundle")

    wrong_proof = json.loads(json.dumps(bundle))
    wrong_proof["inclusion_proof"]["hashes"][0] = base64.b64encode(bytes(32)).decode()
    assert offline_verify(tmp_path, wrong_proof).stdout.strip() == (
        "invalid: receipt is not in the log at the checkpoint"
    )
