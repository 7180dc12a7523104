"""Where the provider may send a person back to: the URIs clients registered."""

from urllib.parse import urlsplit

from allauth.idp.oidc.models import Client

LOOPBACK_HOSTS = {"127.0.0.1", "::1"}


def client_destinations() -> list[str]:
    """The CSP sources of every URI a client registered to be sent back to: a form
    on the way to a client (signing in, consenting, signing out) may end there."""
    sources = set()
    for client in Client.objects.all():
        for uri in [*client.get_redirect_uris(), *client.get_post_logout_redirect_uris()]:
            sources.add(_source(uri))
    return sorted(source for source in sources if source)


def _source(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return f"{parts.scheme}:" if parts.scheme else ""
    if parts.hostname in LOOPBACK_HOSTS:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"http://{host}:*"
    return f"{parts.scheme}://{parts.netloc}"
