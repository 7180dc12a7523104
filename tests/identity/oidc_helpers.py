"""A Sign in with Gera client as tests play one: registering it, and the calls a product
or an agent makes to the provider."""

import base64
import hashlib
import secrets
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

from allauth.idp.oidc.internal.oauthlib import device_codes
from allauth.idp.oidc.models import Client as OIDCClient
from django.test import Client

SECRET = "product-client-secret-for-tests-only"
PRODUCT_SCOPES = ["openid", "profile", "email", "plan"]
AGENT_SCOPES = ["openid", "dispatch:create", "dispatch:read", "receipts:read"]
CALLBACK = "https://home.gera.example/callback"
SIGNED_OUT = "https://home.gera.example/signed-out"
AGENT_CALLBACK = "http://127.0.0.1/callback"


def register_client(
    client_id: str,
    *,
    scopes: list[str],
    public: bool = False,
    skip_consent: bool = False,
    redirect_uris: tuple[str, ...] = (CALLBACK,),
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token"),
    post_logout: tuple[str, ...] = (SIGNED_OUT,),
    name: str = "",
) -> OIDCClient:
    client = OIDCClient(
        id=client_id,
        name=name or client_id,
        type=OIDCClient.Type.PUBLIC if public else OIDCClient.Type.CONFIDENTIAL,
        skip_consent=skip_consent,
    )
    client.set_scopes(scopes)
    client.set_redirect_uris(list(redirect_uris))
    client.set_grant_types(list(grant_types))
    client.set_response_types(["code"])
    client.set_post_logout_redirect_uris(list(post_logout))
    client.set_secret(SECRET)
    client.save()
    return client


def product(client_id: str = "gerahome", **options) -> OIDCClient:
    """A first-party product: confidential, skips the consent page."""
    return register_client(client_id, scopes=PRODUCT_SCOPES, skip_consent=True, **options)


def agent_client(client_id: str = "trip-planner", **options) -> OIDCClient:
    """An agent: a public client (no secret on the user's machine), with PKCE."""
    options.setdefault("redirect_uris", (AGENT_CALLBACK,))
    options.setdefault(
        "grant_types",
        (
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ),
    )
    options.setdefault("name", "Trip planner")
    options.setdefault("scopes", AGENT_SCOPES)
    return register_client(client_id, public=True, **options)


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(client: OIDCClient, *, scopes: list[str], challenge: str | None, **extra):
    params = {
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": client.get_redirect_uris()[0],
        "scope": " ".join(scopes),
        "state": "state-123",
        "nonce": "nonce-456",
        **extra,
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"/identity/o/authorize?{urlencode(params)}"


def redirected_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.content
    return {
        key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()
    }


def basic_auth(client_id: str, secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def form_post(http: Client, path: str, form: dict, **headers):
    """A POST as OAuth clients send them: application/x-www-form-urlencoded."""
    return http.post(
        path, urlencode(form), content_type="application/x-www-form-urlencoded", **headers
    )


def token_request(http: Client, client: OIDCClient, **form):
    """POST to the token endpoint as the client authenticates itself there."""
    headers = {}
    if client.type == OIDCClient.Type.CONFIDENTIAL:
        headers["HTTP_AUTHORIZATION"] = basic_auth(client.id)
    else:
        form["client_id"] = client.id
    return form_post(http, "/identity/o/api/token", form, **headers)


def redeem(http: Client, client: OIDCClient, code: str, verifier: str | None, redirect_uri=None):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or client.get_redirect_uris()[0],
    }
    if verifier:
        form["code_verifier"] = verifier
    return token_request(http, client, **form)


def poll_later(monkeypatch, seconds: int = 6) -> None:
    """The device's next poll comes after the interval the provider asked for (5 s)."""
    later = time.time() + seconds
    monkeypatch.setattr(device_codes, "time", SimpleNamespace(time=lambda: later))
