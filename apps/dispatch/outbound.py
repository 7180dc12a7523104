"""Outbound HTTP to URLs others chose (provider endpoints, agent callbacks): one POST,
never following a redirect, and in production only to public https addresses, checked on
the URL and again on the connected socket (a public-looking name may resolve, or
re-resolve, to a private address). GERAOS_OUTBOUND_PRIVATE_ALLOWED (development) also
allows plain http to this machine."""

import ipaddress
import socket
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import (
    HTTPHandler,
    HTTPRedirectHandler,
    HTTPSHandler,
    ProxyHandler,
    Request,
    build_opener,
)

from django.conf import settings

TIMEOUT_SECONDS = 10
URL_RULE = "Endpoints are reached over https, at public addresses."


class Unreachable(Exception):
    """Worth retrying: no answer (a network error, a timeout, a garbled reply)."""


class Refused(Exception):
    """Final: GeraOS may not call this URL (`insecure_url`, `non_public_address`)."""

    def __init__(self, reason: str, *, code: str):
        super().__init__(reason)
        self.code = code


def post(url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
    """(status, headers, body) of the answer, whatever its status."""
    if not is_allowed_url(url):
        raise Refused(URL_RULE, code="insecure_url")
    opener = _OPENER if settings.GERAOS_OUTBOUND_PRIVATE_ALLOWED else _PUBLIC_OPENER
    request = Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except URLError as error:
        if isinstance(error.reason, NonPublicAddress):
            raise Refused(str(error.reason), code="non_public_address") from error
        raise Unreachable(f"unreachable: {error}") from error
    except (TimeoutError, ConnectionError, HTTPException) as error:
        raise Unreachable(f"unreachable: {error}") from error


class _NoRedirects(HTTPRedirectHandler):
    """A signed request goes to the URL that was configured, never where a 3xx points."""

    def redirect_request(self, *args, **kwargs):
        return None


class NonPublicAddress(OSError):
    pass


def _connect_public_only(address, *args, **kwargs) -> socket.socket:
    """Open the socket, then look at whom it reached: a name that resolves (or re-resolves,
    DNS rebinding) to a private address is dropped before a byte is sent."""
    sock = socket.create_connection(address, *args, **kwargs)
    peer = ipaddress.ip_address(sock.getpeername()[0])
    if not _is_public(peer):
        sock.close()
        raise NonPublicAddress(f"{address[0]} is at a non-public address ({peer})")
    return sock


def _public_only(connection_class):
    def connect(host, **kwargs):
        connection = connection_class(host, **kwargs)
        connection._create_connection = _connect_public_only  # http.client's socket factory
        return connection

    return connect


class _PublicHTTPHandler(HTTPHandler):
    def http_open(self, request):
        return self.do_open(_public_only(HTTPConnection), request)


class _PublicHTTPSHandler(HTTPSHandler):
    def https_open(self, request):
        return self.do_open(_public_only(HTTPSConnection), request, context=self._context)


# IPv6 prefixes that carry an IPv4 address inside (NAT64, local NAT64, 6to4): "global"
# to Python, yet they can reach a private IPv4 network through a translator.
_EMBEDS_IPV4 = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16")
)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not any(address in prefix for prefix in _EMBEDS_IPV4)


_OPENER = build_opener(_NoRedirects)
# No proxies from the environment: the socket check must see the endpoint, not a proxy.
_PUBLIC_OPENER = build_opener(
    _NoRedirects, ProxyHandler({}), _PublicHTTPHandler, _PublicHTTPSHandler
)


def is_allowed_url(url: str) -> bool:
    """https to a public host. Where GERAOS_OUTBOUND_PRIVATE_ALLOWED (development), also
    plain http to this machine. Names are checked again at connection time."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if settings.GERAOS_OUTBOUND_PRIVATE_ALLOWED:
        return parts.scheme == "https" or (
            parts.scheme == "http" and _is_this_machine(parts.hostname)
        )
    return parts.scheme == "https" and not _names_non_public_address(parts.hostname)


def _is_this_machine(host: str) -> bool:
    return host == "localhost" or _literal_address(host, lambda ip: ip.is_loopback)


def _names_non_public_address(host: str) -> bool:
    return host == "localhost" or _literal_address(host, lambda ip: not _is_public(ip))


def _literal_address(host: str, test) -> bool:
    try:
        return test(ipaddress.ip_address(host))
    except ValueError:
        return False  # a name, not an address
