"""Sign in with Gera's clients: Gera products and agents, registered by operators.

What a client may be registered for is checked here, for the admin's form and the demo
alike: scopes GeraOS knows, the code flow (with refresh and the device flow), redirect
URIs a browser can be sent to safely, and no skipping the consent page for an agent
(its limits are set there).
"""

from allauth.core.internal.httpkit import extract_basic_auth
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client
from django.db import transaction
from django.http import HttpRequest

from apps.core import audit
from apps.core.errors import ApplicationError
from apps.identity.oidc.adapter import GRANT_TYPES, RESPONSE_TYPES
from apps.identity.oidc.redirects import LOOPBACK_HOSTS, split
from apps.identity.scopes import is_agent_scope, is_client_scope


def client_problems(
    *,
    scopes: list[str],
    grant_types: list[str],
    redirect_uris: list[str],
    post_logout_uris: list[str],
    public: bool,
    skip_consent: bool,
) -> dict[str, list[str]]:
    """What is wrong with a client so registered, by field; empty if nothing."""
    problems: dict[str, list[str]] = {}
    if unknown := [scope for scope in scopes if not is_client_scope(scope)]:
        problems["scopes"] = [f"GeraOS has no such scope: {' '.join(unknown)}."]
    elif not scopes:
        problems["scopes"] = ["Give the client at least one scope."]
    if skip_consent and any(is_agent_scope(scope) for scope in scopes):
        problems["skip_consent"] = [
            "An agent is always shown the consent page: its limits are set there."
        ]
    if not_ours := set(grant_types) - set(GRANT_TYPES):
        problems["grant_types"] = [f"Not offered: {', '.join(sorted(not_ours))}."]
    if Client.GrantType.DEVICE_CODE in grant_types and not public:
        problems["type"] = ["The device flow is for public clients (allauth's rule)."]
    for field, uris in (
        ("redirect_uris", redirect_uris),
        ("post_logout_redirect_uris", post_logout_uris),
    ):
        if unsafe := [uri for uri in uris if not is_safe_redirect_uri(uri)]:
            problems[field] = [
                "Use https, http on 127.0.0.1 or [::1], or an app's own scheme, with no "
                f"wildcard or fragment: {' '.join(unsafe)}"
            ]
    if Client.GrantType.AUTHORIZATION_CODE in grant_types and not redirect_uris:
        problems.setdefault("redirect_uris", []).append("The code flow needs a redirect URI.")
    return problems


def is_safe_redirect_uri(uri: str) -> bool:
    parts = split(uri)
    if parts is None or "*" in uri or parts.fragment or not parts.scheme:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http":
        return parts.hostname in LOOPBACK_HOSTS
    # A native app's private-use scheme is reverse DNS (RFC 8252, 7.1): com.gera.app:/cb
    return "." in parts.scheme


def authenticated_client(request: HttpRequest) -> Client | None:
    """The client a request to the token or revocation endpoint authenticates as, as
    allauth checks it: a confidential client by its secret (HTTP Basic, or client_secret
    in the form), a public one by its id alone."""
    authorization = {"Authorization": request.headers.get("Authorization", "")}
    client_id, secret = extract_basic_auth(authorization)
    if client_id is None:
        client_id, secret = request.POST.get("client_id"), request.POST.get("client_secret")
    client = Client.objects.filter(id=client_id).first() if client_id else None
    if client is None:
        return None
    if secret:
        return client if client.check_secret(secret) else None
    return client if client.type == Client.Type.PUBLIC else None


@transaction.atomic
def client_register(
    *,
    client_id: str,
    name: str,
    scopes: list[str],
    redirect_uris: list[str],
    post_logout_uris: list[str] = (),
    grant_types: list[str] = (Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN),
    public: bool = False,
    skip_consent: bool = False,
) -> tuple[Client, str | None]:
    """Register a client (the demo's; operators use the admin); returns it and its
    secret, shown once (None for a public client, which has none)."""
    problems = client_problems(
        scopes=scopes,
        grant_types=list(grant_types),
        redirect_uris=redirect_uris,
        post_logout_uris=list(post_logout_uris),
        public=public,
        skip_consent=skip_consent,
    )
    if problems:
        raise ApplicationError("The client is invalid.", code="validation_error", fields=problems)
    client = Client(
        id=client_id,
        name=name,
        type=Client.Type.PUBLIC if public else Client.Type.CONFIDENTIAL,
        skip_consent=skip_consent,
    )
    client.set_scopes(scopes)
    client.set_grant_types(list(grant_types))
    client.set_response_types(list(RESPONSE_TYPES))
    client.set_redirect_uris(redirect_uris)
    client.set_post_logout_redirect_uris(list(post_logout_uris))
    secret = None if public else get_adapter().generate_client_secret()
    if secret:
        client.set_secret(secret)
    client.save()
    return client, secret


@transaction.atomic
def client_new_secret(*, client: Client, request=None) -> str:
    """A new secret for a confidential client, returned once and stored hashed; the old
    one stops working at once."""
    if client.type != Client.Type.CONFIDENTIAL:
        raise ApplicationError(f"{client.name} is public: it has no secret.", code="public_client")
    secret = get_adapter().generate_client_secret()
    client.set_secret(secret)
    client.save(update_fields=["secret"])
    audit.record_if_operator(
        request=request,
        action="identity.oidc_client_new_secret",
        obj=client,
        changes={"secret": audit.SECRET_CHANGE},
    )
    return secret
