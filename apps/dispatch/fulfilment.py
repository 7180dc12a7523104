"""Asking a provider to do the work: one signed HTTP request, one signed answer.

GeraOS POSTs the booking as JSON with `X-GeraOS-Signature` (HMAC-SHA256 with the
provider's shared secret over "<t>.<body>") and an `Idempotency-Key` (the order id), so
a resent request books nothing twice. The provider answers 200 with
`{"status": "confirmed", "booking_id": <echoed>, "reference": …, "scheduled_for": …}` or
`{"status": "declined", "reason": …}`, signed the same way in `X-Provider-Signature`; an
answer whose signature does not verify is never taken as a confirmation.

Providers without an endpoint are served by the built-in sandbox (`sandbox_provider`),
which replaces only the transport: signing and verification run exactly as in production.
"""

import ipaddress
import json
import socket
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Protocol
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

from apps.core import hmac_signature

SIGNATURE_HEADER = "X-GeraOS-Signature"
PROVIDER_SIGNATURE_HEADER = "X-Provider-Signature"
TIMEOUT_SECONDS = 10
URL_RULE = "Endpoints are reached over https, at public addresses."


class ProviderUnavailable(Exception):
    """Worth retrying: the provider was unreachable, busy, or its answer unverifiable."""


class ProviderDeclined(Exception):
    """Final: the provider said no."""

    def __init__(self, reason: str, code: str = "provider_declined"):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Booking:
    reference: str
    scheduled_for: str
    answer: dict
    signature: str

    def as_confirmation(self) -> dict:
        return {
            "reference": self.reference,
            "scheduled_for": self.scheduled_for,
            "provider_signature": self.signature,
            "verified": True,
        }


class Transport(Protocol):
    def post(self, url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]: ...


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


class HttpTransport:
    def post(self, url: str, *, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        if not is_allowed_url(url):
            raise ProviderDeclined(URL_RULE, code="insecure_url")
        opener = _OPENER if settings.GERAOS_OUTBOUND_PRIVATE_ALLOWED else _PUBLIC_OPENER
        request = Request(url, data=body, method="POST", headers=headers)  # noqa: S310
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status, dict(response.headers), response.read()
        except HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except URLError as error:
            if isinstance(error.reason, NonPublicAddress):
                raise ProviderDeclined(str(error.reason), code="non_public_address") from error
            raise ProviderUnavailable(f"provider unreachable: {error}") from error
        except (TimeoutError, ConnectionError, HTTPException) as error:
            raise ProviderUnavailable(f"provider unreachable: {error}") from error


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


def encode(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def book(
    *, url: str, booking: dict, idempotency_key: str, secret: bytes, transport: Transport
) -> Booking:
    body = encode(booking)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        SIGNATURE_HEADER: hmac_signature.sign(body, secret),
    }
    status, response_headers, answer_body = transport.post(url, headers=headers, body=body)
    if status >= 500 or status in (408, 429):
        raise ProviderUnavailable(f"provider answered {status}")
    if 300 <= status < 400:
        raise ProviderDeclined(f"provider redirected ({status}); redirects are not followed")
    answer = _verified_answer(response_headers, answer_body, secret)
    if status >= 400 or answer.get("status") != "confirmed":
        raise ProviderDeclined(str(answer.get("reason") or f"provider answered {status}")[:300])
    if answer.get("booking_id") != booking["booking_id"]:
        # Signed, but for another booking (a replayed answer): it proves nothing here.
        raise ProviderUnavailable("the confirmation names another booking")
    if not answer.get("reference"):
        raise ProviderUnavailable("the confirmation carries no booking reference")
    return Booking(
        reference=str(answer["reference"]),
        scheduled_for=str(answer.get("scheduled_for", "")),
        answer=answer,
        signature=_header(response_headers, PROVIDER_SIGNATURE_HEADER),
    )


def _verified_answer(headers: dict, body: bytes, secret: bytes) -> dict:
    try:
        hmac_signature.verify(_header(headers, PROVIDER_SIGNATURE_HEADER), body, secret)
        return json.loads(body)
    except (hmac_signature.BadSignature, ValueError) as error:
        raise ProviderUnavailable(f"unverifiable provider answer: {error}") from error


def _header(headers: dict, name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")
