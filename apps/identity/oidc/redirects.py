"""Where the provider may send a person back to: exactly a URI the client registered.

allauth accepts a registered URI with extra query parameters; GeraOS accepts the URI as
registered, character for character (RFC 9700, 4.1.3), but for a loopback URI, whose
port a native app picks when it starts (RFC 8252, 7.3).
"""

from urllib.parse import SplitResult, urlsplit

from allauth.idp.oidc.models import Client

LOOPBACK_HOSTS = {"127.0.0.1", "::1"}


def is_registered(uri: str, registered: list[str]) -> bool:
    return any(_same(uri, allowed) for allowed in registered)


def split(uri: str) -> SplitResult | None:
    """The URI's parts, or None for one that does not parse (`http://[::1/`)."""
    try:
        return urlsplit(uri)
    except ValueError:
        return None


def _same(uri: str, allowed: str) -> bool:
    if uri == allowed:
        return True
    given, wanted = split(uri), split(allowed)
    if given is None or wanted is None:
        return False
    if given.scheme != "http" or wanted.scheme != "http" or wanted.hostname not in LOOPBACK_HOSTS:
        return False
    return (given.hostname, given.path, given.query, given.fragment) == (
        wanted.hostname,
        wanted.path,
        wanted.query,
        wanted.fragment,
    )


def client_destinations() -> list[str]:
    """The CSP sources of every URI a client registered to be sent back to: a form
    on the way to a client (signing in, consenting, signing out) may end there."""
    sources = set()
    for client in Client.objects.all():
        for uri in [*client.get_redirect_uris(), *client.get_post_logout_redirect_uris()]:
            sources.add(_source(uri))
    return sorted(source for source in sources if source)


def _source(uri: str) -> str:
    parts = split(uri)
    if parts is None:
        return ""
    if parts.scheme not in ("http", "https"):
        return f"{parts.scheme}:" if parts.scheme else ""
    if parts.hostname in LOOPBACK_HOSTS:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"http://{host}:*"
    return f"{parts.scheme}://{parts.netloc}"
