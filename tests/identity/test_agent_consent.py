"""An agent gets its grant through OAuth consent, not a copied token: the consent page
makes the AgentGrant the API enforces, the access token acts under it like a gera_
token, and revoking the grant at /me/agents/ ends its tokens."""

import datetime as dt
import threading
import time

import pytest
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.internal.oauthlib import device_codes
from allauth.idp.oidc.models import Client as OIDCClient
from allauth.idp.oidc.models import Token as OIDCToken
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.identity import oauth_tokens, services
from apps.identity.models import AgentGrant
from tests.dispatch.conftest import LEAK, PLUMBER, wednesday_morning  # noqa: F401
from tests.factories import UserFactory, make_grant, studio_only_skill
from tests.identity.oidc_helpers import (
    AGENT_SCOPES,
    agent_client,
    authorize_url,
    basic_auth,
    form_post,
    pkce,
    poll_later,
    redeem,
    redirected_params,
    register_client,
    token_request,
)

pytestmark = pytest.mark.django_db


def consent_page(browser: Client, client, scopes=AGENT_SCOPES, challenge="x" * 43):
    return browser.get(authorize_url(client, scopes=scopes, challenge=challenge))


def approve(browser: Client, page, **choices):
    """Press "Allow" on the consent page with what the person chose."""
    form = page.context["form"]
    data = {
        "request": form["request"].value(),
        "action": "grant",
        "scopes": form["scopes"].value(),
        "per_action_limit": form["per_action_limit"].value(),
        "daily_limit": form["daily_limit"].value(),
        "expires_in_days": form["expires_in_days"].value(),
        **choices,
    }
    return browser.post("/identity/o/authorize", data)


def dispatch(agent: Client, on_commit, key: str):
    with on_commit(execute=True):
        return agent.post(
            "/api/v1/dispatches",
            {"text": PLUMBER, "details": LEAK},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )


@pytest.mark.usefixtures("catalog", "wednesday_morning")
def test_an_agent_approved_with_a_50_pound_daily_limit_books_once_and_is_cut_off_on_revoke(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(country="GB", preferred_currency="GBP")
    planner = agent_client()
    browser = Client()
    browser.force_login(user)
    verifier, challenge = pkce()

    page = consent_page(browser, planner, challenge=challenge)
    assert page.status_code == 200
    assert b"Let Trip planner act for you?" in page.content
    approved = approve(browser, page, daily_limit="50.00")
    code = redirected_params(approved)["code"]
    tokens = redeem(Client(), planner, code, verifier)
    assert tokens.status_code == 200, tokens.content
    tokens = tokens.json()

    grant = AgentGrant.objects.get(user=user)
    assert grant.oauth_client == planner
    assert grant.scopes == ["dispatch:create", "dispatch:read", "receipts:read"]
    assert str(grant.daily_limit) == "£50.00"
    agent = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    first = dispatch(agent, django_capture_on_commit_callbacks, key="k1")
    assert first.status_code == 202, first.content
    assert agent.get(f"/api/v1/dispatches/{first.json()['id']}").json()["status"] == "completed"
    second = dispatch(agent, django_capture_on_commit_callbacks, key="k2")
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "spend_limit_exceeded"

    revoked = browser.post(f"/me/agents/{grant.pk}/revoke/")
    assert revoked.status_code == 302
    after = agent.get("/api/v1/me")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "token_revoked"
    refreshed = token_request(
        Client(), planner, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def approved_tokens(user, client, scopes=AGENT_SCOPES, **choices) -> dict:
    browser = signed_in(user)
    verifier, challenge = pkce()
    page = consent_page(browser, client, scopes=scopes, challenge=challenge)
    code = redirected_params(approve(browser, page, **choices))["code"]
    tokens = redeem(Client(), client, code, verifier)
    assert tokens.status_code == 200, tokens.content
    return tokens.json()


def api_as(tokens: dict) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")


def test_the_access_token_acts_under_the_grant_like_a_gera_token():
    user = UserFactory()
    tokens = approved_tokens(user, agent_client())

    me = api_as(tokens).get("/api/v1/me")

    assert me.status_code == 200
    grant = me.json()["grant"]
    assert grant["name"] == "Trip planner"
    assert grant["client_id"] == "trip-planner"
    assert grant["token_prefix"] is None
    assert grant["daily_limit"] == {"amount": "100.00", "currency": "GBP"}


def test_a_capability_the_plan_lacks_is_shown_as_not_available_and_never_granted(catalog):
    studio_only_skill()
    user = UserFactory()  # on Free
    scopes = ["openid", "dispatch:create", "capability:home.plumbing", "capability:home.concierge"]
    planner = agent_client(scopes=scopes)
    browser = signed_in(user)

    page = consent_page(browser, planner, scopes=scopes)
    smuggled = approve(browser, page, scopes=scopes)  # the refused box posted anyway
    approved = approve(browser, page)

    assert b"<strong>Home concierge</strong>: not available. Not part of your Free plan" in (
        page.content
    )
    assert b'value="capability:home.concierge"' not in page.content
    assert smuggled.status_code == 200
    assert "scopes" in smuggled.context["form"].errors
    assert approved.status_code == 302
    grant = AgentGrant.objects.get(user=user, revoked_at=None)
    assert grant.allowed_capabilities == ["home.plumbing"]
    assert grant.scopes == ["dispatch:create"]


def test_an_agent_allowed_none_of_the_skills_it_asked_for_may_dispatch_nothing(catalog):
    studio_only_skill()
    scopes = ["openid", "dispatch:create", "dispatch:read", "capability:home.concierge"]

    approved_tokens(UserFactory(), agent_client(scopes=scopes), scopes=scopes)

    grant = AgentGrant.objects.get()
    assert grant.scopes == ["dispatch:read"]  # an empty capability list would allow any
    assert grant.allowed_capabilities == []


def test_the_person_may_lower_the_limits_but_not_raise_them():
    user = UserFactory()
    browser = signed_in(user)
    page = consent_page(browser, agent_client())

    raised = approve(browser, page, daily_limit="500.00")
    lowered = approve(browser, page, per_action_limit="10.00", daily_limit="20.00")

    assert raised.status_code == 200
    assert "daily_limit" in raised.context["form"].errors
    assert lowered.status_code == 302
    grant = AgentGrant.objects.get(user=user)
    assert (str(grant.per_action_limit), str(grant.daily_limit)) == ("£10.00", "£20.00")


def test_approving_the_same_agent_again_replaces_its_grant_and_ends_the_old_tokens():
    user = UserFactory()
    planner = agent_client()
    old = approved_tokens(user, planner)

    new = approved_tokens(user, planner, per_action_limit="30.00", daily_limit="30.00")

    assert api_as(old).get("/api/v1/me").json()["error"]["code"] == "token_revoked"
    assert api_as(new).get("/api/v1/me").json()["grant"]["daily_limit"]["amount"] == "30.00"
    assert AgentGrant.objects.filter(user=user, revoked_at=None).count() == 1


def test_over_the_plans_agent_grants_the_consent_page_says_so_and_no_code_is_issued():
    user = UserFactory()  # Free: two live grants
    make_grant(user, client_id="one")
    make_grant(user, client_id="two")
    browser = signed_in(user)

    refused = approve(browser, consent_page(browser, agent_client()))

    assert refused.status_code == 200
    assert "all are used" in str(refused.context["form"].non_field_errors())
    assert AgentGrant.objects.filter(oauth_client__isnull=False).count() == 0


def test_an_access_token_past_its_hour_is_expired_and_a_refresh_gives_a_new_one(monkeypatch):
    planner = agent_client()
    tokens = approved_tokens(UserFactory(), planner)
    later = timezone.now() + dt.timedelta(hours=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)

    expired = api_as(tokens).get("/api/v1/me")
    refreshed = token_request(
        Client(), planner, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )

    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "token_expired"
    assert refreshed.status_code == 200, refreshed.content
    assert api_as(refreshed.json()).get("/api/v1/me").status_code == 200


def test_a_refresh_token_never_outlives_its_grant(monkeypatch):
    planner = agent_client()
    tokens = approved_tokens(UserFactory(), planner, expires_in_days="1")
    grant = AgentGrant.objects.get()
    refresh = OIDCToken.objects.get(type=OIDCToken.Type.REFRESH_TOKEN)
    assert refresh.expires_at == grant.expires_at
    after = grant.expires_at + dt.timedelta(seconds=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: after)

    refreshed = token_request(
        Client(), planner, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    used = api_as(tokens).get("/api/v1/me")

    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"
    assert used.json()["error"]["code"] == "token_expired"


def test_a_token_issued_only_to_sign_in_is_no_agent_token():
    home = register_client("gerahome", scopes=["openid", "plan"], skip_consent=True)
    browser = signed_in(UserFactory())
    verifier, challenge = pkce()
    authorized = browser.get(authorize_url(home, scopes=["openid", "plan"], challenge=challenge))
    tokens = redeem(Client(), home, redirected_params(authorized)["code"], verifier).json()

    refused = api_as(tokens).get("/api/v1/me")

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_invalid"


def test_an_agent_without_a_browser_is_approved_through_the_device_flow(monkeypatch):
    user = UserFactory()
    planner = agent_client()
    http = Client()
    started = form_post(
        http,
        "/identity/o/api/device/code",
        {"client_id": planner.id, "scope": "dispatch:create dispatch:read"},
    ).json()
    browser = signed_in(user)

    page = browser.get(started["verification_uri_complete"])
    data = {
        "action": "grant",
        "scopes": ["dispatch:create", "dispatch:read"],
        "per_action_limit": "40.00",
        "daily_limit": "60.00",
        "expires_in_days": "7",
    }
    approved = browser.post(started["verification_uri_complete"], data)
    poll_later(monkeypatch)
    tokens = token_request(
        http,
        planner,
        grant_type="urn:ietf:params:oauth:grant-type:device_code",
        device_code=started["device_code"],
    )

    assert b"Let Trip planner act for you?" in page.content
    assert started["user_code"].encode() in page.content
    assert approved.status_code == 200
    assert tokens.status_code == 200, tokens.content
    me = api_as(tokens.json()).get("/api/v1/me").json()
    assert me["grant"]["scopes"] == ["dispatch:create", "dispatch:read"]
    assert me["grant"]["daily_limit"]["amount"] == "60.00"


# --- consent is never skipped for an agent ------------------------------------------------


@pytest.mark.parametrize("asking", ["trip-planner", "other-agent"])
def test_prompt_none_never_skips_an_agents_consent_page(asking):
    user = UserFactory()
    approved_tokens(user, agent_client())  # the person's live token carries the agent scopes
    other = agent_client("other-agent", name="Other agent")
    client = other if asking == "other-agent" else OIDCClient.objects.get(id=asking)

    silent = signed_in(user).get(
        authorize_url(client, scopes=AGENT_SCOPES, challenge=pkce()[1], prompt="none")
    )

    returned = redirected_params(silent)
    assert silent["Location"].startswith("http://127.0.0.1/callback?")
    assert returned["error"] == "consent_required"
    assert returned["state"] == "state-123"
    assert "code" not in returned
    assert not AgentGrant.objects.filter(oauth_client=other).exists()


def test_a_token_with_agent_scopes_and_no_grant_is_inactive_at_introspection():
    """As one a silent authorization (prompt=none) issued before it was refused."""
    server_agent = register_client("server-agent", scopes=AGENT_SCOPES)  # confidential
    value = "an-access-token-issued-without-a-grant"
    token = OIDCToken(
        client=server_agent,
        user=UserFactory(),
        type=OIDCToken.Type.ACCESS_TOKEN,
        hash=get_adapter().hash_token(value),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    token.set_scopes(AGENT_SCOPES)
    token.save()

    answer = form_post(
        Client(HTTP_AUTHORIZATION=basic_auth(server_agent.id)),
        "/identity/o/api/introspect",
        {"token": value},
    )

    assert answer.status_code == 200
    assert answer.json() == {"active": False}


# --- the device flow's token carries what the person approved -------------------------------

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_started(client, **form) -> dict:
    started = form_post(Client(), "/identity/o/api/device/code", {"client_id": client.id, **form})
    assert started.status_code == 200, started.content
    return started.json()


def poll(client, started: dict, **form):
    return token_request(
        Client(), client, grant_type=DEVICE_GRANT, device_code=started["device_code"], **form
    )


def issued_scopes() -> list[str]:
    return OIDCToken.objects.get(type=OIDCToken.Type.ACCESS_TOKEN).get_scopes()


def test_a_device_asking_for_a_scope_when_it_polls_gets_only_what_the_person_approved(
    monkeypatch,
):
    planner = agent_client()
    started = device_started(planner, scope="dispatch:create dispatch:read")
    browser = signed_in(UserFactory())
    browser.get(started["verification_uri_complete"])
    browser.post(
        started["verification_uri_complete"],
        {
            "action": "grant",
            "scopes": ["dispatch:read"],  # not dispatch:create
            "per_action_limit": "40.00",
            "daily_limit": "60.00",
            "expires_in_days": "7",
        },
    )
    poll_later(monkeypatch)

    widened = poll(planner, started, scope="dispatch:create dispatch:read")
    tokens = poll(planner, started)

    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_request"
    assert tokens.status_code == 200, tokens.content
    assert issued_scopes() == ["dispatch:read"]


def test_a_device_that_named_no_scope_gets_the_scopes_its_confirmation_was_for(monkeypatch):
    tv = agent_client(scopes=["openid", *AGENT_SCOPES])
    tv.set_default_scopes(["openid"])
    tv.save()
    started = device_started(tv)  # no scope: the client's default, openid
    browser = signed_in(UserFactory())
    page = browser.get(started["verification_uri_complete"])
    confirmed = browser.post(started["verification_uri_complete"], {"action": "confirm"})
    tv.set_default_scopes(["openid", "dispatch:create"])  # changed before the device polls
    tv.save()
    poll_later(monkeypatch)

    tokens = poll(tv, started)

    assert b"Let Trip planner act for you?" not in page.content  # no agent scope was asked
    assert confirmed.status_code == 200
    assert tokens.status_code == 200, tokens.content
    assert issued_scopes() == ["openid"]


# --- a revoked grant issues nothing, even mid-refresh ------------------------------------------


def test_a_code_redeemed_after_its_grant_was_revoked_issues_no_token():
    user = UserFactory()
    planner = agent_client()
    browser = signed_in(user)
    verifier, challenge = pkce()
    page = consent_page(browser, planner, challenge=challenge)
    code = redirected_params(approve(browser, page))["code"]
    browser.post(f"/me/agents/{AgentGrant.objects.get(user=user).pk}/revoke/")

    tokens = redeem(Client(), planner, code, verifier)

    assert tokens.status_code == 400
    assert tokens.json()["error"] == "invalid_grant"
    assert not OIDCToken.objects.exists()


def revoke_in_another_connection(grant: AgentGrant) -> None:
    try:
        services.agent_grant_revoke(grant=grant, reason="revoked at /me/agents/")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_grant_revoked_while_a_refresh_is_issued_ends_the_refreshed_tokens(monkeypatch):
    planner = agent_client()
    tokens = approved_tokens(UserFactory(), planner)
    grant = AgentGrant.objects.get()
    revoking = threading.Thread(target=revoke_in_another_connection, args=(grant,))
    bind = oauth_tokens.tokens_bind

    def bind_after_the_revoke_ran(**kwargs) -> None:
        revoking.start()
        revoking.join(timeout=1)  # done, or waiting for the lock this refresh holds
        bind(**kwargs)

    monkeypatch.setattr(oauth_tokens, "tokens_bind", bind_after_the_revoke_ran)
    refreshed = token_request(
        Client(), planner, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    revoking.join()
    monkeypatch.undo()

    assert refreshed.status_code == 200, refreshed.content
    again = token_request(
        Client(),
        planner,
        grant_type="refresh_token",
        refresh_token=refreshed.json()["refresh_token"],
    )
    bearer = f"Bearer {refreshed.json()['access_token']}"
    userinfo = Client().get("/identity/o/api/userinfo", HTTP_AUTHORIZATION=bearer)
    assert AgentGrant.objects.get().is_revoked
    assert again.json()["error"] == "invalid_grant"
    assert userinfo.status_code == 401


def test_a_device_approval_that_fails_at_the_last_step_leaves_the_grants_as_they_were():
    user = UserFactory()
    planner = agent_client()
    approved_tokens(user, planner)
    previous = AgentGrant.objects.get(user=user)
    started = device_started(planner, scope="dispatch:create dispatch:read")
    browser = signed_in(user)
    browser.get(started["verification_uri_complete"])
    # The code expires between its check and the confirmation (the cache keeps it a moment).
    state_key = device_codes.cache_device_code_key(started["device_code"])
    cache.set(state_key, {**cache.get(state_key), "expires_at": time.time() - 1})

    refused = browser.post(
        started["verification_uri_complete"],
        {
            "action": "grant",
            "scopes": ["dispatch:create", "dispatch:read"],
            "per_action_limit": "40.00",
            "daily_limit": "60.00",
            "expires_in_days": "7",
        },
    )

    previous.refresh_from_db()
    assert not previous.is_revoked
    assert list(AgentGrant.objects.filter(user=user)) == [previous]
    assert refused.status_code == 200
    assert "expired" in str(refused.context["form"].non_field_errors())


def test_an_agent_revoking_its_refresh_token_ends_that_token_and_not_its_grant():
    planner = agent_client()
    tokens = approved_tokens(UserFactory(), planner)

    revoked = form_post(
        Client(),
        "/identity/o/api/revoke",
        {"token": tokens["refresh_token"], "client_id": planner.id},
    )
    refreshed = token_request(
        Client(), planner, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )

    assert revoked.status_code == 200
    assert refreshed.json()["error"] == "invalid_grant"
    assert AgentGrant.objects.get().is_usable  # the person ends it at /me/agents/
    assert api_as(tokens).get("/api/v1/me").status_code == 200
