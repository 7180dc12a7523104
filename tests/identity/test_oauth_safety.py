"""Bad input and safety at the OAuth endpoints: every refusal is the RFC's error code and
never a 500, nobody is redirected anywhere a client did not register exactly, PKCE is
required of public clients (S256 only), a code works once, the token endpoint is rate
limited, and nothing is confirmed on a person's behalf from another site."""

from urllib.parse import urlencode

import pytest
from allauth.idp.oidc.internal.oauthlib import device_codes
from django.core.cache import cache
from django.test import Client

from apps.identity.oidc import views
from apps.identity.oidc.clients import client_problems
from tests.factories import UserFactory
from tests.helpers import run_concurrently
from tests.identity.oidc_helpers import (
    AGENT_CALLBACK,
    AGENT_SCOPES,
    CALLBACK,
    PRODUCT_SCOPES,
    SIGNED_OUT,
    agent_client,
    authorize_url,
    basic_auth,
    form_post,
    pkce,
    product,
    redeem,
    redirected_params,
    token_request,
)

pytestmark = pytest.mark.django_db

RFC_6749_TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}


def signed_in(user=None) -> Client:
    browser = Client()
    browser.force_login(user or UserFactory())
    return browser


def code_for(browser: Client, client, scopes=PRODUCT_SCOPES) -> tuple[str, str]:
    verifier, challenge = pkce()
    authorized = browser.get(authorize_url(client, scopes=scopes, challenge=challenge))
    return redirected_params(authorized)["code"], verifier


# --- where people are sent ------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        f"{CALLBACK}?next=https://evil.example/",  # allauth took any extra parameters
        "https://home.gera.example/callback/elsewhere",
        "https://evil.example/callback",
        "http://home.gera.example/callback",
    ],
)
def test_a_redirect_uri_not_registered_exactly_is_an_error_page_never_a_redirect(redirect_uri):
    home = product()
    _, challenge = pkce()

    response = signed_in().get(
        authorize_url(home, scopes=PRODUCT_SCOPES, challenge=challenge, redirect_uri=redirect_uri)
    )

    assert response.status_code in (200, 400)
    assert "Location" not in response
    assert b"redirect" in response.content.lower()


def test_a_loopback_redirect_uri_may_name_any_port():
    planner = agent_client()  # registered http://127.0.0.1/callback
    page = signed_in().get(
        authorize_url(
            planner,
            scopes=AGENT_SCOPES,
            challenge=pkce()[1],
            redirect_uri="http://127.0.0.1:53682/callback",
        )
    )

    assert page.status_code == 200
    assert b"Let Trip planner act for you?" in page.content


def test_an_unknown_client_is_an_error_page_never_a_redirect():
    url = "/identity/o/authorize?" + urlencode(
        {"response_type": "code", "client_id": "nobody", "redirect_uri": "https://evil.example/"}
    )

    response = signed_in().get(url)

    assert "Location" not in response


@pytest.mark.parametrize(
    "target",
    [
        "https://home.gera.example/signed-out?next=https://evil.example/",  # allauth took it
        "https://home.gera.example/other",
    ],
)
def test_a_post_logout_redirect_uri_not_registered_exactly_is_not_followed(target):
    home = product()
    browser = signed_in()
    code, verifier = code_for(browser, home)
    id_token = redeem(Client(), home, code, verifier).json()["id_token"]

    response = browser.get(
        "/identity/o/logout", {"id_token_hint": id_token, "post_logout_redirect_uri": target}
    )

    assert "Location" not in response
    assert "_auth_user_id" in browser.session


# --- PKCE and codes ----------------------------------------------------------------------


def test_a_public_client_without_pkce_is_sent_back_with_invalid_request():
    planner = agent_client()

    response = signed_in().get(authorize_url(planner, scopes=AGENT_SCOPES, challenge=None))

    returned = redirected_params(response)
    assert response["Location"].startswith("http://127.0.0.1/callback?")
    assert returned["error"] == "invalid_request"
    assert returned["state"] == "state-123"


def test_the_plain_pkce_method_is_refused():
    planner = agent_client()

    response = signed_in().get(
        authorize_url(
            planner,
            scopes=AGENT_SCOPES,
            challenge=None,
            code_challenge="the-verifier-itself-" + "x" * 30,
            code_challenge_method="plain",
        )
    )

    returned = redirected_params(response)
    assert returned["error"] == "invalid_request"
    assert returned["state"] == "state-123"


def test_a_code_redeemed_with_the_wrong_verifier_is_invalid_grant():
    home = product()
    code, _ = code_for(signed_in(), home)

    response = redeem(Client(), home, code, verifier="not-the-verifier-" + "y" * 40)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_presented_twice_is_refused_and_the_tokens_it_gave_are_revoked():
    home = product()
    code, verifier = code_for(signed_in(), home)
    first = redeem(Client(), home, code, verifier).json()

    again = redeem(Client(), home, code, verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    introspect = Client(HTTP_AUTHORIZATION=basic_auth(home.id))
    for token in (first["access_token"], first["refresh_token"]):
        answer = form_post(introspect, "/identity/o/api/introspect", {"token": token})
        assert answer.json() == {"active": False}


def approved_code(planner) -> tuple[str, str]:
    """A code for an agent the person approved on the consent page, and its verifier."""
    browser = signed_in()
    verifier, challenge = pkce()
    page = browser.get(authorize_url(planner, scopes=AGENT_SCOPES, challenge=challenge))
    form = page.context["form"]
    approved = browser.post(
        "/identity/o/authorize",
        {
            "request": form["request"].value(),
            "action": "grant",
            "scopes": form["scopes"].value(),
            "per_action_limit": "50.00",
            "daily_limit": "100.00",
            "expires_in_days": "30",
        },
    )
    return redirected_params(approved)["code"], verifier


def me_with(tokens: dict):
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").get("/api/v1/me")


def test_an_agents_code_presented_twice_revokes_its_grant():
    planner = agent_client()
    code, verifier = approved_code(planner)
    first = redeem(Client(), planner, code, verifier).json()

    redeem(Client(), planner, code, verifier)

    refused = me_with(first)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"


WRONG_VERIFIER = "not-the-verifier-" + "z" * 40
STRANGERS = [
    pytest.param({"client_id": "nobody"}, {}, id="unknown-client"),
    pytest.param({"client_id": "trip-planner"}, {}, id="its-client-without-the-verifier"),
    pytest.param(
        {"client_id": "trip-planner", "code_verifier": WRONG_VERIFIER}, {}, id="wrong-verifier"
    ),
    pytest.param(
        {}, {"HTTP_AUTHORIZATION": basic_auth("gerahome")}, id="another-client-authenticated"
    ),
]


@pytest.mark.parametrize(("form", "headers"), STRANGERS)
def test_a_used_code_presented_by_anyone_but_its_client_revokes_nothing(form, headers):
    product()
    planner = agent_client()
    code, verifier = approved_code(planner)
    tokens = redeem(Client(), planner, code, verifier).json()

    stranger = form_post(
        Client(),
        "/identity/o/api/token",
        {"grant_type": "authorization_code", "code": code, "redirect_uri": AGENT_CALLBACK, **form},
        **headers,
    )

    assert stranger.status_code in (400, 401)
    assert me_with(tokens).status_code == 200


@pytest.mark.parametrize(("form", "headers"), STRANGERS)
def test_a_stranger_presenting_a_code_while_it_is_redeemed_does_not_spoil_it(
    monkeypatch, form, headers
):
    product()
    planner = agent_client()
    code, verifier = approved_code(planner)
    issue = views._issue
    stranger = {}

    def issue_after_a_stranger_tried(request, grant):
        if not stranger:  # the first call is the client's redemption, under way
            stranger["tried"] = True
            stranger["answer"] = form_post(
                Client(),
                "/identity/o/api/token",
                {"grant_type": "authorization_code", "code": code, **form},
                **headers,
            )
        return issue(request, grant)

    monkeypatch.setattr(views, "_issue", issue_after_a_stranger_tried)
    tokens = redeem(Client(), planner, code, verifier)

    assert stranger["answer"].status_code in (400, 401)
    assert tokens.status_code == 200, tokens.content
    assert me_with(tokens.json()).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_a_code_redeemed_twice_at_once_leaves_no_token_alive(attempt):
    home = product()
    code, verifier = code_for(signed_in(), home)

    answers = run_concurrently(lambda: redeem(Client(), home, code, verifier), 2)

    assert sorted(answer.status_code for answer in answers) in ([200, 400], [400, 400])
    introspect = Client(HTTP_AUTHORIZATION=basic_auth(home.id))
    for answer in answers:
        if answer.status_code == 200:
            token = {"token": answer.json()["access_token"]}
            assert form_post(introspect, "/identity/o/api/introspect", token).json() == {
                "active": False
            }


# --- RFC error codes, never a 500 ----------------------------------------------------------


CODE = "authorization_code"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unauthorized_client"),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"grant_type": CODE, "code": "x", "redirect_uri": CALLBACK}, "invalid_grant"),
        ({"grant_type": CODE, "redirect_uri": CALLBACK}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "x", "scope": "admin"}, "invalid_grant"),
        ({"grant_type": DEVICE, "device_code": "x"}, "invalid_request"),
        ({"grant_type": CODE, "code": "\x00", "redirect_uri": "\x00"}, "invalid_request"),
    ],
)  # fmt: skip
def test_a_bad_token_request_gets_its_rfc_error_code(form, expected):
    home = product()

    response = token_request(Client(), home, **form)

    assert response.status_code in (400, 401), response.content
    assert response.json()["error"] == expected


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": basic_auth("gerahome", "wrong-secret")},
        {"HTTP_AUTHORIZATION": basic_auth("nobody")},
        {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
        {},
    ],
)
def test_a_client_that_cannot_authenticate_is_invalid_client(headers):
    product()

    form = {"grant_type": "refresh_token", "refresh_token": "x"}
    response = form_post(Client(), "/identity/o/api/token", form, **headers)

    assert response.status_code in (400, 401)
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("path", "form", "headers"),
    [
        ("/identity/o/api/revoke", {}, {"HTTP_AUTHORIZATION": basic_auth("gerahome")}),
        ("/identity/o/api/revoke", {"token": "x"}, {}),
        ("/identity/o/api/introspect", {}, {"HTTP_AUTHORIZATION": basic_auth("gerahome")}),
        ("/identity/o/api/introspect", {"token": "x"}, {}),
        ("/identity/o/api/device/code", {}, {}),
        ("/identity/o/api/device/code", {"client_id": "nobody"}, {}),
        ("/identity/o/api/device/code", {"client_id": "gerahome", "scope": "admin"}, {}),
        ("/identity/o/api/userinfo", {}, {}),
        ("/identity/o/api/userinfo", {}, {"HTTP_AUTHORIZATION": "Bearer nope"}),
    ],
)
def test_the_other_endpoints_answer_bad_input_with_an_rfc_error_never_a_500(path, form, headers):
    product()

    response = form_post(Client(), path, form, **headers)

    assert 400 <= response.status_code < 500, response.content
    body = response.json() if response.content else {}
    assert body.get("error", "invalid_token") in RFC_6749_TOKEN_ERRORS | {"invalid_token"}


@pytest.mark.parametrize(
    "path",
    [
        "/identity/o/api/token",
        "/identity/o/api/revoke",
        "/identity/o/api/introspect",
        "/identity/o/api/device/code",
        "/identity/o/api/userinfo",
    ],
)
def test_a_post_without_a_content_type_is_refused_never_a_500(path):
    product()

    response = Client().generic("POST", path, b"")  # an empty body: no Content-Type either

    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unauthorized_client"),
        ({"response_type": "nonsense"}, "unsupported_response_type"),
    ],
)
def test_a_bad_authorization_request_is_sent_back_with_its_rfc_error(params, expected):
    home = product()
    _, challenge = pkce()

    response = signed_in().get(
        authorize_url(home, scopes=PRODUCT_SCOPES, challenge=challenge, **params)
    )

    assert redirected_params(response)["error"] == expected


def test_a_person_who_says_no_sends_the_agent_back_with_access_denied():
    planner = agent_client()
    browser = signed_in()
    page = browser.get(authorize_url(planner, scopes=AGENT_SCOPES, challenge=pkce()[1]))

    response = browser.post(
        "/identity/o/authorize",
        {"request": page.context["form"]["request"].value(), "action": "cancel"},
    )

    assert redirected_params(response) == {"error": "access_denied", "state": "state-123"}


# --- rate limits and forged confirmations -------------------------------------------------------


def test_the_token_endpoint_is_rate_limited_per_address(settings):
    settings.IDP_OIDC_RATE_LIMITS = {"token": "3/m/ip"}
    home = product()
    http = Client()

    answers = [
        token_request(http, home, grant_type="refresh_token", refresh_token="nope")
        for _ in range(4)
    ]

    assert [answer.status_code for answer in answers] == [400, 400, 400, 429]
    assert answers[-1].json()["error"] == "temporarily_unavailable"


def test_a_device_is_confirmed_only_from_the_page_itself_never_from_another_site():
    tv_code = form_post(
        Client(),
        "/identity/o/api/device/code",
        {"client_id": agent_client(scopes=["openid"]).id, "scope": "openid"},
    ).json()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())
    state = device_codes.cache_device_code_key(tv_code["device_code"])

    forged = browser.post(tv_code["verification_uri_complete"], {"action": "confirm"})
    assert forged.status_code == 403
    assert cache.get(state)["granted"] is None

    page = browser.get(tv_code["verification_uri_complete"])
    assert b'name="csrfmiddlewaretoken"' in page.content  # the confirmation form carries it
    token = page.context["csrf_token"]
    confirmed = browser.post(
        tv_code["verification_uri_complete"], {"action": "confirm", "csrfmiddlewaretoken": token}
    )
    assert confirmed.status_code == 200
    assert cache.get(state)["granted"] is True


# --- malformed input: a 4xx, never a 500 ------------------------------------------------------

BROKEN_URI = "http://[::1/callback"  # urlsplit raises on it
NUL_BASIC = {"HTTP_AUTHORIZATION": basic_auth("\x00")}
AUTHORIZE = {"response_type": "code", "redirect_uri": CALLBACK, "scope": "openid"}
REFRESH = {"grant_type": "refresh_token", "refresh_token": "x"}


LOGOUT = "/identity/o/logout"
TOKEN = "/identity/o/api/token"
REVOKE = "/identity/o/api/revoke"
INTROSPECT = "/identity/o/api/introspect"


@pytest.mark.parametrize(
    ("method", "path", "params", "headers"),
    [
        pytest.param(
            "get", "/identity/o/authorize", {**AUTHORIZE, "client_id": "\x00"}, {},
            id="authorize-nul-client",
        ),
        pytest.param(
            "get", "/identity/o/authorize",
            {**AUTHORIZE, "client_id": "gerahome", "redirect_uri": BROKEN_URI}, {},
            id="authorize-broken-redirect-uri",
        ),
        pytest.param(
            "get", LOGOUT, {"client_id": "\x00", "post_logout_redirect_uri": SIGNED_OUT}, {},
            id="logout-get-nul-client",
        ),
        pytest.param(
            "post", LOGOUT, {"client_id": "\x00", "post_logout_redirect_uri": SIGNED_OUT}, {},
            id="logout-post-nul-client",
        ),
        pytest.param(
            "get", LOGOUT, {"client_id": "gerahome", "post_logout_redirect_uri": BROKEN_URI}, {},
            id="logout-get-broken-uri",
        ),
        pytest.param(
            "post", LOGOUT, {"client_id": "gerahome", "post_logout_redirect_uri": BROKEN_URI}, {},
            id="logout-post-broken-uri",
        ),
        pytest.param(
            "post", TOKEN, {**REFRESH, "client_id": "\x00"}, {}, id="token-refresh-nul-client"
        ),
        pytest.param(
            "post", TOKEN, {"grant_type": DEVICE, "device_code": "x", "client_id": "\x00"}, {},
            id="token-device-nul-client",
        ),
        pytest.param(
            "post", TOKEN, {"grant_type": CODE, "code": "x", "client_id": "\x00"}, {},
            id="token-code-nul-client",
        ),
        pytest.param("post", TOKEN, REFRESH, NUL_BASIC, id="token-nul-basic-auth"),
        pytest.param(
            "post", "/identity/o/api/device/code", {"client_id": "\x00"}, {},
            id="device-code-nul-client",
        ),
        pytest.param(
            "post", REVOKE, {"token": "x", "client_id": "\x00"}, {}, id="revoke-nul-client"
        ),
        pytest.param("post", REVOKE, {"token": "x"}, NUL_BASIC, id="revoke-nul-basic-auth"),
        pytest.param(
            "post", INTROSPECT, {"token": "x", "client_id": "\x00", "client_secret": "s"}, {},
            id="introspect-nul-client",
        ),
        pytest.param(
            "post", INTROSPECT, {"token": "x"}, NUL_BASIC, id="introspect-nul-basic-auth"
        ),
    ],
)  # fmt: skip
def test_malformed_input_is_a_4xx_never_a_500(method, path, params, headers):
    product()
    browser = Client(raise_request_exception=False)
    browser.force_login(UserFactory())

    if method == "get":
        response = browser.get(path, params, **headers)
    else:
        response = form_post(browser, path, params, **headers)

    assert 400 <= response.status_code < 500, response.content[:300]
    if response.get("Content-Type") == "application/json":
        assert response.json()["error"] in RFC_6749_TOKEN_ERRORS | {"invalid_token"}


def test_an_anonymous_answer_to_the_consent_page_is_a_4xx_never_a_500():
    planner = agent_client()
    page = signed_in().get(authorize_url(planner, scopes=AGENT_SCOPES, challenge=pkce()[1]))
    form = page.context["form"]

    response = Client(raise_request_exception=False).post(
        "/identity/o/authorize?prompt=none",
        {"request": form["request"].value(), "action": "grant", "scopes": form["scopes"].value()},
    )

    assert 400 <= response.status_code < 500, response.content[:300]


def test_a_redirect_uri_that_does_not_parse_is_refused_when_a_client_is_registered():
    problems = client_problems(
        scopes=["openid"],
        grant_types=["authorization_code"],
        redirect_uris=[BROKEN_URI],
        post_logout_uris=[BROKEN_URI],
        public=False,
        skip_consent=False,
    )

    assert set(problems) == {"redirect_uris", "post_logout_redirect_uris"}
