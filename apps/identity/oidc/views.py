"""allauth.idp.oidc's endpoints, where GeraOS adds to them: the consent page (an agent's
grant with its limits, exact redirect URIs, PKCE by S256 only, never skipped silently),
the device flow's (the same), the token endpoint (rate limited, codes used once, tokens
tied to their grant), revocation (a client's own tokens only) and sign-out (exact
redirect URIs)."""

import json
from urllib.parse import parse_qs, urlsplit

from allauth.core.internal import ratelimit
from allauth.core.internal.httpkit import add_query_params, authenticated_user
from allauth.idp.oidc import views as allauth_views
from allauth.idp.oidc.internal.oauthlib import device_codes
from allauth.idp.oidc.internal.tokens import decode_jwt_token
from allauth.idp.oidc.models import Client
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt

from apps.core.errors import ApplicationError
from apps.identity import oauth_tokens, services
from apps.identity.models import AgentGrant
from apps.identity.oidc import codes
from apps.identity.oidc.clients import authenticated_client
from apps.identity.oidc.codes import oauth_error
from apps.identity.oidc.consent import ConsentForm
from apps.identity.oidc.guards import error_page
from apps.identity.oidc.redirects import is_registered
from apps.identity.scopes import is_agent_scope

CONSENT_TEMPLATE = "identity/oauth_consent.html"

# --- the consent page ----------------------------------------------------------------


class _NotIssued(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class ConsentView(allauth_views.AuthorizationView):
    """allauth's authorization endpoint, with GeraOS's consent page; approving agent
    scopes makes the AgentGrant the API enforces."""

    form_class = ConsentForm
    template_name = CONSENT_TEMPLATE

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        client = Client.objects.filter(id=request.GET.get("client_id", "")).first()
        redirect_uri = request.GET.get("redirect_uri")
        if client is None or redirect_uri is None:
            return super().get(request, *args, **kwargs)  # allauth's error page
        if not is_registered(redirect_uri, client.get_redirect_uris()):
            return error_page(request, "The redirect URI is not one this client registered.")
        return (
            _refuse_plain_pkce(request, redirect_uri)
            or _refuse_silent_consent(request, client, redirect_uri)
            or super().get(request, *args, **kwargs)
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.POST.get("request") and not request.user.is_authenticated:
            # allauth lets an answer through signed out under prompt=none, and fails on it.
            return error_page(request, "Sign in, then start again from the app that sent you.")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: ConsentForm) -> HttpResponse:
        if not form.makes_grant:
            return super().form_valid(form)
        client = Client.objects.get(id=self._request_info["client_id"])
        try:
            with transaction.atomic():
                grant = services.agent_grant_approve_client(
                    user=self.request.user, client=client, **form.grant_kwargs()
                )
                response = super().form_valid(form)
                code = _code_in(response)
                if code is None:
                    raise _NotIssued(response)  # allauth refused after all: no grant
                codes.remember_grant(code=code, grant=grant)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        except _NotIssued as not_issued:
            return not_issued.response
        return response

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["action_url"] = reverse("idp:oidc:authorization")
        return context


def _refuse_plain_pkce(request: HttpRequest, redirect_uri: str) -> HttpResponse | None:
    """PKCE's plain method sends the verifier itself through the browser: S256 only."""
    method = request.GET.get("code_challenge_method")
    if "code_challenge" not in request.GET or method == "S256":
        return None
    return _send_back(request, redirect_uri, "invalid_request", "PKCE is S256 only.")


def _refuse_silent_consent(
    request: HttpRequest, client: Client, redirect_uri: str
) -> HttpResponse | None:
    """prompt=none asks for a code without the consent page. allauth gave one whenever the
    scopes were on any live token the person held, from any client; GeraOS gives one only
    to a product that skips the page anyway, and never for an agent scope, whose limits
    are set on the page (OIDC Core 3.1.2.6: consent_required). Without a session allauth
    answers login_required."""
    if "none" not in request.GET.get("prompt", "").split() or not request.user.is_authenticated:
        return None
    scopes = request.GET.get("scope", "").split() or client.get_default_scopes()
    if client.skip_consent and not any(is_agent_scope(scope) for scope in scopes):
        return None
    return _send_back(request, redirect_uri, "consent_required", "Ask again without prompt=none.")


def _send_back(
    request: HttpRequest, redirect_uri: str, error: str, description: str
) -> HttpResponse:
    """An error sent to the client's own redirect URI (RFC 6749, 4.1.2.1)."""
    params = {"error": error, "error_description": description}
    if state := request.GET.get("state"):
        params["state"] = state
    # Not HttpResponseRedirect: a native app's redirect URI has a scheme of its own.
    response = HttpResponse(status=302)
    response["Location"] = add_query_params(redirect_uri, params)
    return response


def _code_in(response: HttpResponse) -> str | None:
    location = response.get("Location", "") if response.status_code == 302 else ""
    return parse_qs(urlsplit(location).query).get("code", [None])[0]


authorization = ConsentView.as_view()

# --- the device flow -------------------------------------------------------------------


class DeviceConsentView(allauth_views.DeviceAuthorizationView):
    """allauth's device confirmation, CSRF-protected (allauth exempts it, so a page
    elsewhere could confirm a code for a signed-in person), and for an agent the consent
    page: the grant is approved here, and the token polled for is tied to it."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # allauth's own check, for a view it marked exempt (the mark is inherited).
        if request.method == "POST" and (refused := allauth_views._enforce_csrf(request)):
            return refused
        return super().dispatch(request, *args, **kwargs)

    def _dispatch_authorization(
        self, request: HttpRequest, user_code: str, device_code: str, client: Client
    ) -> HttpResponse:
        state = cache.get(device_codes.cache_device_code_key(device_code))
        requested = (state or {}).get("scope") or client.get_default_scopes()
        if not any(is_agent_scope(scope) for scope in requested):
            if request.method == "POST" and state is not None:
                # What was confirmed, not the client's defaults when the device polls.
                state["scope"] = requested
                device_codes.update_device_state(device_code, state)
            return super()._dispatch_authorization(request, user_code, device_code, client)
        user = authenticated_user(request)
        form = ConsentForm(
            request.POST if request.method == "POST" else None,
            requested_scopes=requested,
            user=user,
        )
        form.fields["request"].required = False
        context = {"client": client, "user_code": user_code}
        if request.method == "POST":
            if request.POST.get("action") != "grant":
                device_codes.confirm_or_deny_device_code(user, device_code, confirm=False)
                return render(request, "idp/oidc/device_authorization_denied.html", context)
            if form.is_valid() and self._approve(form, user, client, device_code, state):
                return render(request, "idp/oidc/device_authorization_confirmed.html", context)
        action_url = f"{reverse('idp:oidc:device_authorization')}?{urlencode({'code': user_code})}"
        context.update(form=form, action_url=action_url, device=True)
        return render(request, CONSENT_TEMPLATE, context)

    @transaction.atomic
    def _approve(self, form: ConsentForm, user, client: Client, device_code: str, state) -> bool:
        """Make the grant and confirm the device code, or neither."""
        if form.makes_grant:
            try:
                grant = services.agent_grant_approve_client(
                    user=user, client=client, **form.grant_kwargs()
                )
            except ApplicationError as error:
                return _refuse_approval(form, error.message)
            codes.remember_device_grant(device_code=device_code, grant=grant)
        state["scope"] = form.cleaned_data["scopes"]
        device_codes.update_device_state(device_code, state)
        if device_codes.confirm_or_deny_device_code(user, device_code, confirm=True):
            return True
        return _refuse_approval(form, "This code has expired: start again on the device.")


def _refuse_approval(form: ConsentForm, message: str) -> bool:
    """Undo what approving wrote (the new grant, the previous one's revocation)."""
    transaction.set_rollback(True)
    form.add_error(None, message)
    return False


device_authorization = DeviceConsentView.as_view()


# --- the token endpoint ------------------------------------------------------------------

DEVICE_POLL_SCOPE = "Poll without a scope: the token carries what the person approved."


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """allauth's token endpoint, rate limited per address (IDP_OIDC_RATE_LIMITS "token"),
    with each authorization code used once and every token tied to its agent grant."""
    if request.method != "POST":
        return allauth_views.token(request)
    if not ratelimit.consume(request, app="allauth.idp.oidc", action="token"):
        return oauth_error("temporarily_unavailable", "Too many requests.", status=429)
    grant_type = request.POST.get("grant_type")
    if grant_type == Client.GrantType.AUTHORIZATION_CODE:
        return codes.redeem(request, _issue)
    if grant_type == Client.GrantType.REFRESH_TOKEN:
        return _issue(request, _grant_refreshed(request))
    if grant_type == Client.GrantType.DEVICE_CODE:
        if "scope" in request.POST:  # oauthlib would issue it over what the person approved
            return oauth_error("invalid_request", DEVICE_POLL_SCOPE)
        return _issue(request, codes.device_grant(request.POST.get("device_code", "")))
    return _issue(request, None)


def _grant_refreshed(request: HttpRequest) -> AgentGrant | None:
    """The grant of the refresh token presented, read before allauth rotates it away."""
    refresh = oauth_tokens.refresh_token_get(value=request.POST.get("refresh_token", ""))
    grant_id = oauth_tokens.token_grant_id(refresh) if refresh else None
    return AgentGrant.objects.filter(pk=grant_id).first() if grant_id else None


def _issue(request: HttpRequest, grant: AgentGrant | None) -> HttpResponse:
    """allauth's answer, its tokens bound to `grant` under the grant's lock: a revoke
    waits for them and ends them too, or came first and nothing is issued."""
    with transaction.atomic():
        if grant is not None:
            grant = oauth_tokens.grant_lock_usable(grant_id=grant.pk)
            if grant is None:
                return oauth_error("invalid_grant", "The agent grant was revoked or has expired.")
        response = allauth_views.token(request)
        if grant is None or response.status_code != 200:
            return response
        issued = json.loads(response.content)
        values = [issued["access_token"], issued.get("refresh_token", "")]
        oauth_tokens.tokens_bind(grant=grant, values=[value for value in values if value])
    return response


@csrf_exempt
def device_code(request: HttpRequest) -> HttpResponse:
    """allauth's device authorization endpoint; a POST that is not a form (no
    Content-Type at all) is refused here, where oauthlib would raise."""
    form = "application/x-www-form-urlencoded"
    if request.method == "POST" and request.content_type != form:
        return oauth_error("invalid_request", f"Send the request as {form}.")
    return allauth_views.device_code(request)


@csrf_exempt
def revoke(request: HttpRequest) -> HttpResponse:
    """allauth's revocation endpoint, for the requesting client's own tokens (RFC 7009,
    2.1): allauth deleted a token of any client. Another client's token is answered as
    an unknown one, 200 with nothing revoked (2.2), which tells a prober nothing. Client
    authentication is checked here first, so a request allauth would let through
    unauthenticated cannot reach its delete either."""
    if request.method != "POST":
        return allauth_views.revoke(request)
    client = authenticated_client(request)
    if client is None:
        return oauth_error("invalid_client", "Client authentication failed.", status=401)
    value = request.POST.get("token", "")
    if value and oauth_tokens.issued_to_another(value=value, client_id=client.id):
        return HttpResponse(status=200)
    return allauth_views.revoke(request)


# --- signing out -------------------------------------------------------------------------


def logout(request: HttpRequest) -> HttpResponse:
    """allauth's RP-initiated logout, sending the person back only to a post-logout
    URI the client registered exactly (allauth also takes any URI on a redirect URI's
    origin)."""
    params = request.POST if request.method == "POST" else request.GET
    target = params.get("post_logout_redirect_uri")
    if target and not is_registered(target, _post_logout_uris(params)):
        return error_page(request, "The sign-out redirect URI is not one the client registered.")
    return allauth_views.logout(request)


def _post_logout_uris(params) -> list[str]:
    """Those of the client named, or the client the ID token hint was issued to."""
    hint = decode_jwt_token(params.get("id_token_hint", ""), verify_exp=False, verify_iss=True)
    client_id = params.get("client_id") or (hint or {}).get("aud") or ""
    client = Client.objects.filter(id=client_id).first() if isinstance(client_id, str) else None
    return client.get_post_logout_redirect_uris() if client else []
