"""Sign in with Gera: a product signs a person in with their Gera account, and learns
their plan from the ID token, without calling back."""

import jwt
import pytest
from django.test import Client

from tests.factories import UserFactory, put_on_plan
from tests.identity.oidc_helpers import (
    PRODUCT_SCOPES,
    SIGNED_OUT,
    authorize_url,
    basic_auth,
    form_post,
    pkce,
    poll_later,
    product,
    redeem,
    redirected_params,
    register_client,
    token_request,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def verified_id_token(http: Client, discovery: dict, id_token: str, audience: str) -> dict:
    """The ID token's claims, verified as a product does: against the keys the
    discovery document names, for the issuer it names."""
    keys = jwt.PyJWKSet.from_dict(http.get(discovery["jwks_uri"]).json())
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = next(key for key in keys.keys if key.key_id == kid)
    return jwt.decode(
        id_token, key, algorithms=["RS256"], audience=audience, issuer=discovery["issuer"]
    )


def sign_in(user, client, scopes=PRODUCT_SCOPES) -> tuple[Client, dict]:
    browser = signed_in(user)
    verifier, challenge = pkce()
    code = redirected_params(browser.get(authorize_url(client, scopes=scopes, challenge=challenge)))
    tokens = redeem(Client(), client, code["code"], verifier)
    assert tokens.status_code == 200, tokens.content
    return browser, tokens.json()


def test_a_product_signs_a_person_in_and_reads_their_plan_then_signs_them_out():
    user = UserFactory(name="Ada Lovelace")
    put_on_plan(user, "studio")
    home = product()
    http, browser = Client(), signed_in(user)

    discovery = http.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == "https://testserver"
    assert discovery["jwks_uri"] == "https://testserver/identity/o/jwks.json"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["response_types_supported"] == ["code"]
    assert "plan" in discovery["scopes_supported"]

    verifier, challenge = pkce()
    authorized = browser.get(authorize_url(home, scopes=PRODUCT_SCOPES, challenge=challenge))
    returned = redirected_params(authorized)  # first-party: no consent page
    assert authorized["Location"].startswith("https://home.gera.example/callback?")
    assert returned["state"] == "state-123"

    tokens = redeem(http, home, returned["code"], verifier)
    assert tokens.status_code == 200, tokens.content
    tokens = tokens.json()
    claims = verified_id_token(http, discovery, tokens["id_token"], audience="gerahome")
    assert claims["sub"] == str(user.pk)
    assert claims["nonce"] == "nonce-456"
    assert claims["email"] == user.email
    assert claims["name"] == "Ada Lovelace"
    assert claims["gera_plan"] == "studio"
    assert "premium_skills" in claims["gera_entitlements"]

    userinfo = http.get(
        discovery["userinfo_endpoint"], HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )
    assert userinfo.status_code == 200
    assert userinfo.json()["gera_plan"] == "studio"
    assert userinfo.json()["gera_entitlements"] == claims["gera_entitlements"]

    signed_out = browser.get(
        discovery["end_session_endpoint"],
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": SIGNED_OUT,
            "state": "bye",
        },
    )
    assert signed_out.status_code == 302
    assert signed_out["Location"] == f"{SIGNED_OUT}?state=bye"
    assert "_auth_user_id" not in browser.session
    after = http.get(
        discovery["userinfo_endpoint"], HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )
    assert after.status_code == 401


def test_on_free_the_claims_say_free_and_list_only_what_free_includes():
    user = UserFactory()

    _, tokens = sign_in(user, product())

    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["gera_plan"] == "free"
    assert "premium_skills" not in claims["gera_entitlements"]
    assert "dispatches" in claims["gera_entitlements"]


def test_a_refresh_token_is_rotated_and_the_old_one_refreshes_nothing():
    home = product()
    _, tokens = sign_in(UserFactory(), home)

    refreshed = token_request(
        Client(), home, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    again = token_request(
        Client(), home, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )

    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_revoked_access_token_is_inactive_at_introspection():
    home = product()
    _, tokens = sign_in(UserFactory(), home)
    http = Client(HTTP_AUTHORIZATION=basic_auth(home.id))

    token = {"token": tokens["access_token"]}
    before = form_post(http, "/identity/o/api/introspect", token)
    revoked = form_post(http, "/identity/o/api/revoke", token)
    after = form_post(http, "/identity/o/api/introspect", token)

    assert before.json()["active"] is True
    assert before.json()["client_id"] == "gerahome"
    assert revoked.status_code == 200
    assert after.json() == {"active": False}


def test_a_device_without_a_browser_signs_in_with_the_device_flow(monkeypatch):
    user = UserFactory()
    tv = register_client(
        "gera-tv",
        scopes=PRODUCT_SCOPES,
        public=True,
        grant_types=("urn:ietf:params:oauth:grant-type:device_code",),
    )
    http = Client()

    started = form_post(
        http, "/identity/o/api/device/code", {"client_id": "gera-tv", "scope": "openid plan"}
    )
    assert started.status_code == 200, started.content
    started = started.json()
    waiting = token_request(
        http,
        tv,
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code=started["device_code"],
    )
    browser = signed_in(user)
    page = browser.get(started["verification_uri_complete"])
    confirmed = browser.post(started["verification_uri_complete"], {"action": "confirm"})
    poll_later(monkeypatch)
    tokens = token_request(
        http,
        tv,
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code=started["device_code"],
    )

    assert waiting.json()["error"] == "authorization_pending"
    assert page.status_code == 200
    assert confirmed.status_code == 200
    assert tokens.status_code == 200, tokens.content
    bearer = f"Bearer {tokens.json()['access_token']}"
    claims = http.get("/identity/o/api/userinfo", HTTP_AUTHORIZATION=bearer).json()
    assert claims["sub"] == str(user.pk)
    assert claims["gera_plan"] == "free"


CLINIC_CALLBACK = "https://clinic.gera.example/callback"


def test_prompt_none_is_consent_required_for_a_product_that_does_not_skip_consent():
    user = UserFactory()
    browser, _ = sign_in(user, product())  # a live token with openid, email, profile, plan
    clinic = register_client("geraclinic", scopes=PRODUCT_SCOPES, redirect_uris=(CLINIC_CALLBACK,))

    silent = browser.get(
        authorize_url(clinic, scopes=PRODUCT_SCOPES, challenge=pkce()[1], prompt="none")
    )

    returned = redirected_params(silent)
    assert silent["Location"].startswith(f"{CLINIC_CALLBACK}?")
    assert returned["error"] == "consent_required"
    assert returned["state"] == "state-123"
    assert "code" not in returned


def test_prompt_none_signs_a_person_in_silently_to_a_product_that_skips_consent():
    user = UserFactory()
    home = product()
    browser, _ = sign_in(user, home)
    verifier, challenge = pkce()

    silent = browser.get(
        authorize_url(home, scopes=PRODUCT_SCOPES, challenge=challenge, prompt="none")
    )

    tokens = redeem(Client(), home, redirected_params(silent)["code"], verifier)
    assert tokens.status_code == 200, tokens.content


def test_prompt_none_without_a_session_is_login_required():
    home = product()

    silent = Client().get(
        authorize_url(home, scopes=PRODUCT_SCOPES, challenge=pkce()[1], prompt="none")
    )

    assert redirected_params(silent)["error"] == "login_required"


@pytest.mark.parametrize(
    ("form", "headers"),
    [
        pytest.param({}, {"HTTP_AUTHORIZATION": basic_auth("geraclinic")}, id="a-product"),
        pytest.param({"client_id": "trip-planner"}, {}, id="a-public-agent"),
    ],
)
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_a_client_cannot_revoke_a_token_issued_to_another(form, headers, kind):
    home = product()
    register_client("geraclinic", scopes=PRODUCT_SCOPES, redirect_uris=(CLINIC_CALLBACK,))
    register_client("trip-planner", scopes=["openid"], public=True)
    _, tokens = sign_in(UserFactory(), home)

    answer = form_post(
        Client(), "/identity/o/api/revoke", {"token": tokens[kind], **form}, **headers
    )

    assert answer.status_code == 200  # RFC 7009, 2.2: as for a token it does not know
    introspect = Client(HTTP_AUTHORIZATION=basic_auth(home.id))
    still = form_post(introspect, "/identity/o/api/introspect", {"token": tokens[kind]})
    assert still.json()["active"] is True


def test_revoking_with_credentials_that_fail_is_invalid_client():
    home = product()
    _, tokens = sign_in(UserFactory(), home)

    answer = form_post(
        Client(),
        "/identity/o/api/revoke",
        {"token": tokens["access_token"]},
        HTTP_AUTHORIZATION=basic_auth(home.id, "wrong-secret"),
    )

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
