"""The keys that sign ID tokens: from the environment, published at the URL the discovery
document names (never among the receipt keys at /.well-known/jwks.json), and rotated by
publishing the next key before it signs."""

import os
import stat

import jwt
import pytest
from allauth.core.internal import jwkkit
from allauth.idp.oidc.models import Client as OIDCClient
from django.conf import settings
from django.test import Client

from apps.identity.oidc.checks import oidc_keys_load
from apps.trust import selectors as trust_selectors
from apps.trust.jose import VerificationError
from apps.trust.verify import verify_bundle
from geraos import settings as geraos_settings
from tests.factories import UserFactory, make_receipt
from tests.identity.oidc_helpers import PRODUCT_SCOPES, authorize_url, pkce, product, redeem
from tests.identity.oidc_helpers import redirected_params as returned
from tests.keys import new_oidc_key

pytestmark = pytest.mark.django_db

RECEIPT_KEYS = "/.well-known/jwks.json"
ID_TOKEN_KEYS = "/identity/o/jwks.json"


def kid_of(pem: str) -> str:
    return jwkkit.load_jwk_from_pem(pem)[0]["kid"]


def id_token() -> str:
    home = OIDCClient.objects.filter(id="gerahome").first() or product()
    browser = Client()
    browser.force_login(UserFactory())
    verifier, challenge = pkce()
    code = returned(browser.get(authorize_url(home, scopes=PRODUCT_SCOPES, challenge=challenge)))
    return redeem(Client(), home, code["code"], verifier).json()["id_token"]


def test_the_receipt_keys_and_the_id_token_keys_are_two_sets_sharing_no_key():
    receipt = make_receipt(UserFactory())
    http = Client()

    receipt_keys = http.get(RECEIPT_KEYS).json()
    token_keys = http.get(ID_TOKEN_KEYS).json()
    discovery = http.get("/.well-known/openid-configuration").json()

    assert discovery["jwks_uri"].endswith(ID_TOKEN_KEYS)
    receipt_kids = {key["kid"] for key in receipt_keys["keys"]}
    token_kids = {key["kid"] for key in token_keys["keys"]}
    assert receipt_kids
    assert token_kids
    assert not receipt_kids & token_kids
    assert {key["kty"] for key in receipt_keys["keys"]} == {"OKP"}
    assert {key["kty"] for key in token_keys["keys"]} == {"RSA"}
    assert receipt_keys == trust_selectors.jwks()  # what the trust layer publishes, unchanged
    bundle = trust_selectors.receipt_bundle(receipt=receipt, origin=settings.GERAOS_LOG_ORIGIN)
    assert verify_bundle(bundle, receipt_keys)["id"] == str(receipt.pk)
    with pytest.raises(VerificationError, match="no published key"):
        verify_bundle(bundle, token_keys)


def test_the_next_key_is_published_before_it_signs_and_the_old_one_after(settings):
    current, following = settings.GERAOS_OIDC_PRIVATE_KEY, new_oidc_key()
    http = Client()

    settings.IDP_OIDC_PRIVATE_KEYS = [{"pem": current}, {"pem": following}]  # published next
    published = {key["kid"] for key in http.get(ID_TOKEN_KEYS).json()["keys"]}
    before = jwt.get_unverified_header(id_token())["kid"]
    settings.IDP_OIDC_PRIVATE_KEYS = [{"pem": following}, {"pem": current}]  # rotated
    after_rotation = {key["kid"] for key in http.get(ID_TOKEN_KEYS).json()["keys"]}
    after = jwt.get_unverified_header(id_token())["kid"]

    assert published == after_rotation == {kid_of(current), kid_of(following)}
    assert before == kid_of(current)
    assert after == kid_of(following)


def test_an_id_token_key_that_is_no_rsa_key_stops_the_deployment(settings):
    not_a_key = "-----BEGIN PRIVATE KEY-----\nbm8=\n-----END PRIVATE KEY-----\n"
    settings.IDP_OIDC_PRIVATE_KEYS = [{"pem": not_a_key}]

    (problem,) = oidc_keys_load()

    assert problem.id == "identity.E001"
    assert "GERAOS_OIDC_PRIVATE_KEY" in problem.msg


def test_without_any_id_token_key_the_deployment_stops(settings):
    settings.IDP_OIDC_PRIVATE_KEYS = []

    assert [problem.id for problem in oidc_keys_load()] == ["identity.E001"]


def test_the_keys_in_use_load():
    assert oidc_keys_load() == []


def test_the_development_key_is_written_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(geraos_settings, "BASE_DIR", tmp_path)
    umask = os.umask(0o022)  # a usual umask: files readable by everyone
    try:
        pem = geraos_settings._dev_oidc_key()
    finally:
        os.umask(umask)

    key_file = tmp_path / "var" / "oidc-dev-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert jwkkit.load_pem(pem)
