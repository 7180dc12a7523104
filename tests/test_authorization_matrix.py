"""Safety net: every API route and user page is listed here, refuses anonymous callers,
and never shows one user's objects to another (OWASP API1, broken object-level auth).

A new route fails `test_every_route_is_in_the_matrix` until it is added below with
how to build an object owned by user A (`owned_by`), or `None` when the route is scoped
to the caller (then user B must not see A's data in the response).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import UserFactory, make_grant

PROTECTED_PREFIXES = ("api/v1/", "me/")


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    page: bool  # a user web page (redirects to login) rather than an API endpoint
    owned_by: Callable | None = None  # user A -> URL kwargs of an object A owns


def grant_of(user) -> dict:
    grant, _ = make_grant(user)
    return {"grant_id": grant.pk}


MATRIX: dict[str, Route] = {
    "api:me": Route(methods=("GET", "PATCH"), page=False),
    "identity:me": Route(methods=("GET", "POST"), page=True),
    "identity:plan": Route(methods=("GET",), page=True),
    "identity:plan-upgrade": Route(methods=("POST",), page=True),
    "identity:plan-billing": Route(methods=("POST",), page=True),
    "identity:agents": Route(methods=("GET", "POST"), page=True),
    "identity:agent-detail": Route(methods=("GET",), page=True, owned_by=grant_of),
    "identity:agent-revoke": Route(methods=("POST",), page=True, owned_by=grant_of),
}


def walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, route


def protected_routes() -> dict[str, str]:
    return {
        name: route
        for name, route in walk(get_resolver().url_patterns)
        if route.startswith(PROTECTED_PREFIXES)
    }


def url_for(name: str, owner) -> str:
    spec = MATRIX[name]
    return reverse(name, kwargs=spec.owned_by(owner) if spec.owned_by else None)


def test_every_route_is_in_the_matrix():
    assert set(protected_routes()) == set(MATRIX)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_caller_is_refused(client, name):
    url = url_for(name, UserFactory())

    for method in MATRIX[name].methods:
        response = client.generic(method, url, "{}", content_type="application/json")
        if MATRIX[name].page:
            assert response.status_code == 302, method
            assert response["Location"].startswith(reverse("account_login"))
        else:
            assert response.status_code in {401, 403}, method
            assert response.json()["error"]["code"] in {
                "not_authenticated",
                "authentication_failed",
            }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_other_user_never_sees_owner_data(client, name):
    owner, intruder = UserFactory(), UserFactory()
    url = url_for(name, owner)
    client.force_login(intruder)

    for method in MATRIX[name].methods:
        response = client.generic(method, url)
        if MATRIX[name].owned_by:
            assert response.status_code == 404, method
        elif method == "GET":
            assert response.status_code == 200
            assert owner.email not in response.content.decode()
