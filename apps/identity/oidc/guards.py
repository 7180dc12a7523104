"""What the provider's endpoints refuse before allauth sees a request.

PostgreSQL stores no NUL character, and allauth looks a client up by whatever id it is
sent, in the form, the query or HTTP Basic: a NUL anywhere in one answered 500. No
well-formed request carries one, so any request that does is refused whole.
"""

import functools
from collections.abc import Callable, Iterator

from allauth.core.internal.httpkit import extract_basic_auth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.identity.oidc.codes import oauth_error

View = Callable[..., HttpResponse]


def refuse_nul(*, page: bool) -> Callable[[View], View]:
    """Refuse a request carrying a NUL: with an error page for a person (`page`), else
    with the RFC's invalid_request."""

    def decorate(view: View) -> View:
        @functools.wraps(view)  # keeps allauth's csrf_exempt and login marks
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not any("\x00" in text for text in _texts(request)):
                return view(request, *args, **kwargs)
            if page:
                return error_page(request, "This request is malformed.")
            return oauth_error("invalid_request", "The request carries a NUL character.")

        return checked

    return decorate


def _texts(request: HttpRequest) -> Iterator[str]:
    for params in (request.GET, request.POST):
        for key, values in params.lists():
            yield key
            yield from values
    basic = extract_basic_auth({"Authorization": request.headers.get("Authorization", "")})
    yield from (credential for credential in basic if credential)


def error_page(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "idp/oidc/error.html", {"error": {"description": message}}, status=400)
