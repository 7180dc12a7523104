"""Safety net: every API route and user page is listed here, refuses anonymous callers,
and never shows one user's objects to another (OWASP API1, broken object-level auth).

A new route fails `test_every_route_is_in_the_matrix` until it is added below with
how to build an object owned by user A (`owned_by`: B must get 404), or, for a route
scoped to the caller or showing shared objects, how to give A some data (`owner_data`:
it returns a marker that must not appear in what B gets) and the status B gets for each
method (`gets`). User B calls pages signed in and the API as an agent holding every
scope, sending a valid `body` so that the request reaches the data instead of stopping
at validation.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.catalog import services as catalog_services
from apps.catalog.models import Skill
from apps.dispatch.models import DispatchOrder
from apps.identity import services as identity_services
from apps.identity.models import AgentGrant, Plan, Subscription
from apps.memory import services as memory_services
from apps.memory.models import ConsentGrant, MemoryItem, MemoryScope
from apps.payments import fx
from apps.payments.models import Payment, Rail, RoutingRule
from apps.payments.rails import ensure_default_rails
from apps.trust import services as trust_services
from tests.factories import (
    UserFactory,
    make_grant,
    make_payment,
    make_quote,
    make_receipt,
    product,
)

PROTECTED_PREFIXES = ("api/v1/", "me/")


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    page: bool  # a user web page (redirects to login) rather than an API endpoint
    owned_by: Callable | None = None  # user A -> URL kwargs of an object A owns
    owner_data: Callable | None = None  # user A -> a marker of A's data
    gets: dict[str, int] | None = None  # method -> the status B gets, beside owner_data
    body: Callable | None = None  # A's marker -> what B sends with a method other than GET
    query: dict | None = None  # GET parameters a caller sends
    public: bool = False  # deliberately open to anyone (verification, the public log)
    url_kwargs: Callable | None = None  # () -> URL kwargs of a shared (not owned) object


def grant_of(user) -> dict:
    grant, _ = make_grant(user)
    return {"grant_id": grant.pk}


def receipt_of(user) -> dict:
    return {"receipt_id": make_receipt(user).pk}


def dispute_of(user) -> dict:
    dispute = trust_services.dispute_open(
        receipt=make_receipt(user), opened_by="buyer", reason="not_delivered", user=user
    )
    return {"dispute_id": dispute.pk}


def payment_of(user) -> dict:
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    return {"payment_id": make_payment(user).pk}


def quote_of(user) -> str:
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    return str(make_quote(user, "20.00").pk)


def subscription_of(user) -> str:
    """A on the paid plan until a day only A's subscription names, as the page shows it."""
    identity_services.subscription_apply(
        user=user,
        plan=Plan.objects.get(code="studio"),
        status=Subscription.Status.ACTIVE,
        event_created=timezone.now(),
        current_period_end=dt.datetime(2031, 3, 7, tzinfo=dt.UTC),
    )
    return "7 Mar 2031"


def _dispatch(user):
    from apps.catalog.demo import seed as seed_catalog
    from apps.dispatch import services as dispatch_services

    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
    seed_catalog()
    order, _ = dispatch_services.dispatch_create(
        user=user,
        grant=None,
        text="book a plumber in London",
        details={"problem": "owner-marker leak"},
        idempotency_key=f"matrix-{user.pk}",
    )
    return order


def dispatch_of(user) -> dict:
    return {"order_id": _dispatch(user).pk}


def dispatches_of(user) -> str:
    return str(_dispatch(user).pk)


def a_published_skill() -> dict:
    product_ = product("gerahome")
    skill = Skill.objects.create(
        product=product_,
        capability="home.test",
        title="Test",
        description="d",
        input_schema={"type": "object"},
        price_from=10,
        countries=["GB"],
        cities=["London"],
    )
    return {"skill_id": catalog_services.skill_publish(skill=skill).pk}


def grant_prefix_of(user) -> str:
    grant, _ = make_grant(user)
    return grant.token_prefix


def _home_memory(user):
    return memory_services.memory_write(
        user=user,
        product=product("gerahome"),
        scope=MemoryScope.objects.get(code="home"),
        kind="preference",
        key="owner-marker-key",
        value={"marker": "owner-marker-value"},
    )


def memory_item_of(user) -> dict:
    return {"item_id": _home_memory(user).pk}


def memory_of(user) -> str:
    return _home_memory(user).value["marker"]


def summary_of(user) -> str:
    item = memory_services.memory_append_summary(
        user=user, product=product("gerahome"), summary="owner-marker-summary"
    )
    return item.value["summary"]


def email_of(user) -> str:
    return user.email


ALL_SCOPES = ["dispatch:create", "dispatch:read", "receipts:read", "disputes:create"] + [
    f"memory:{right}:{scope}"
    for right in ("read", "write")
    for scope in ("preferences", "home", "health", "payments", "conversations")
]
MEMORY_QUERY = {"product": "gerahome", "scope": "home"}
DISPATCH_TEXT = "book a plumber in London under £50"


MATRIX: dict[str, Route] = {
    "api:me": Route(
        methods=("GET", "PATCH"),
        page=False,
        owner_data=email_of,
        # an agent never edits the profile
        gets={"GET": HTTPStatus.OK, "PATCH": HTTPStatus.FORBIDDEN},
        body=lambda _: {"name": "Intruder"},
    ),
    "identity:me": Route(
        methods=("GET", "POST"),
        page=True,
        owner_data=email_of,
        gets={"GET": HTTPStatus.OK, "POST": HTTPStatus.FOUND},
        body=lambda _: {"name": "Intruder", "country": "GB", "preferred_currency": "GBP"},
    ),
    "identity:plan": Route(
        methods=("GET",), page=True, owner_data=subscription_of, gets={"GET": HTTPStatus.OK}
    ),
    "identity:plan-upgrade": Route(
        methods=("POST",),
        page=True,
        owner_data=subscription_of,
        gets={"POST": HTTPStatus.FOUND},  # back to B's own plan: billing is off
        body=lambda _: {"plan": "studio"},
    ),
    "identity:plan-billing": Route(
        methods=("POST",), page=True, owner_data=subscription_of, gets={"POST": HTTPStatus.FOUND}
    ),
    "identity:agents": Route(
        methods=("GET", "POST"),
        page=True,
        owner_data=grant_prefix_of,
        gets={"GET": HTTPStatus.OK, "POST": HTTPStatus.OK},  # B's new token, shown once
        body=lambda _: {
            "name": "Intruder's agent",
            "client_id": "intruder",
            "scopes": ["dispatch:read"],
            "per_action_limit": "10.00",
            "daily_limit": "10.00",
            "expires_in_days": "7",
        },
    ),
    "identity:agent-detail": Route(methods=("GET",), page=True, owned_by=grant_of),
    "identity:agent-revoke": Route(methods=("POST",), page=True, owned_by=grant_of),
    "api:memory": Route(
        methods=("GET", "POST"),
        page=False,
        owner_data=memory_of,
        query=MEMORY_QUERY,
        gets={"GET": HTTPStatus.OK, "POST": HTTPStatus.CREATED},
        body=lambda _: {
            **MEMORY_QUERY,
            "kind": "preference",
            "key": "owner-marker-key",
            "value": 1,
        },
    ),
    "api:memory-conversations": Route(
        methods=("POST",),
        page=False,
        owner_data=summary_of,
        gets={"POST": HTTPStatus.CREATED},
        body=lambda _: {"product": "gerahome", "summary": "the intruder's summary"},
    ),
    "memory:home": Route(
        methods=("GET",), page=True, owner_data=memory_of, gets={"GET": HTTPStatus.OK}
    ),
    "memory:consent": Route(
        methods=("POST",),
        page=True,
        owner_data=memory_of,
        gets={"POST": HTTPStatus.FOUND},
        body=lambda _: {"product": "gerahome", "scope": "home", "allow": "1"},
    ),
    "memory:item-edit": Route(methods=("POST",), page=True, owned_by=memory_item_of),
    "memory:item-delete": Route(methods=("POST",), page=True, owned_by=memory_item_of),
    "memory:export": Route(
        methods=("GET",), page=True, owner_data=memory_of, gets={"GET": HTTPStatus.OK}
    ),
    "api:receipt": Route(methods=("GET",), page=False, owned_by=receipt_of),
    "api:receipt-bundle": Route(methods=("GET",), page=False, owned_by=receipt_of),
    "api:receipt-disputes": Route(methods=("POST",), page=False, owned_by=receipt_of),
    "api:dispute": Route(methods=("GET",), page=False, owned_by=dispute_of),
    "api:receipt-verify": Route(methods=("POST",), page=False, public=True),
    "api:quotes": Route(
        methods=("POST",),
        page=False,
        owner_data=quote_of,
        gets={"POST": HTTPStatus.CREATED},
        body=lambda _: {"amount": "20.00", "currency": "GBP"},
    ),
    "api:payment": Route(methods=("GET",), page=False, owned_by=payment_of),
    "api:payments": Route(
        methods=("POST",),
        page=False,
        owner_data=quote_of,
        gets={"POST": HTTPStatus.NOT_FOUND},  # B cannot pay A's quote
        body=lambda quote_id: {"quote": quote_id, "reference": "intruder"},
    ),
    "api:skills": Route(
        methods=("GET",), page=False, owner_data=dispatches_of, gets={"GET": HTTPStatus.OK}
    ),
    "api:intents-resolve": Route(
        methods=("POST",),
        page=False,
        owner_data=dispatches_of,
        gets={"POST": HTTPStatus.OK},
        body=lambda _: {"text": DISPATCH_TEXT},
    ),
    "api:dispatches": Route(
        methods=("GET", "POST"),
        page=False,
        owner_data=dispatches_of,
        gets={"GET": HTTPStatus.OK, "POST": HTTPStatus.ACCEPTED},
        body=lambda _: {"text": DISPATCH_TEXT, "details": {"problem": "the intruder's leak"}},
    ),
    "api:dispatch": Route(methods=("GET",), page=False, owned_by=dispatch_of),
    "dispatch:list": Route(
        methods=("GET",), page=True, owner_data=dispatches_of, gets={"GET": HTTPStatus.OK}
    ),
    "dispatch:detail": Route(methods=("GET",), page=True, owned_by=dispatch_of),
    "api:skill": Route(
        methods=("GET",),
        page=False,
        url_kwargs=a_published_skill,
        owner_data=dispatches_of,
        gets={"GET": HTTPStatus.OK},
    ),
    "api:log-head": Route(methods=("GET",), page=False, public=True),
    "api:log-inclusion": Route(methods=("GET",), page=False, public=True),
    "api:log-consistency": Route(methods=("GET",), page=False, public=True),
    "memory:erase": Route(
        methods=("GET", "POST"),
        page=True,
        owner_data=memory_of,
        gets={"GET": HTTPStatus.OK, "POST": HTTPStatus.FOUND},  # B's own memory erased
        body=lambda _: {"confirm": "on"},
    ),
}


def owner_state(owner) -> dict:
    """What B must never change of A's: profile, memory, consents, grants, plan, money."""
    owner.refresh_from_db()
    rows = {
        "memory": MemoryItem.objects.values_list("pk", "key_sealed", "value_encrypted"),
        "consents": ConsentGrant.objects.values_list("pk", "can_read", "can_write", "revoked_at"),
        "grants": AgentGrant.objects.values_list("pk", "revoked_at"),
        "subscriptions": Subscription.objects.values_list("pk", "plan_id", "status"),
        "orders": DispatchOrder.objects.values_list("pk", "status"),
        "payments": Payment.objects.values_list("pk", "status"),
    }
    return {
        "profile": (owner.name, owner.country.code, owner.preferred_currency),
        **{name: sorted(found.filter(user=owner)) for name, found in rows.items()},
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
    if spec.owned_by:
        return reverse(name, kwargs=spec.owned_by(owner))
    return reverse(name, kwargs=spec.url_kwargs() if spec.url_kwargs else None)


def test_every_route_is_in_the_matrix():
    assert set(protected_routes()) == set(MATRIX)


PRIVATE = sorted(name for name, route in MATRIX.items() if not route.public)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PRIVATE)
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


def says_what_another_user_gets(spec: Route) -> bool:
    return bool(spec.owned_by) or (
        spec.owner_data is not None and set(spec.gets or {}) == set(spec.methods)
    )


def test_every_private_route_says_what_another_user_gets():
    unsaid = [name for name in PRIVATE if not says_what_another_user_gets(MATRIX[name])]

    assert unsaid == []


def call(client, spec: Route, method: str, url: str, body: dict):
    if method == "GET":
        return client.get(url, spec.query or {})
    if spec.page:
        return client.post(url, body)  # pages take GET and POST only
    return client.generic(
        method,
        url,
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"matrix-{method}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", PRIVATE)
def test_other_user_never_sees_owner_data(client, name):
    spec = MATRIX[name]
    owner, intruder = UserFactory(), UserFactory()
    url = url_for(name, owner)
    marker = spec.owner_data(owner) if spec.owner_data else None
    body = spec.body(marker) if spec.body else {}
    if spec.page:
        client.force_login(intruder)
    else:
        _, token = make_grant(intruder, scopes=ALL_SCOPES)
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    before = owner_state(owner)
    for method in spec.methods:
        response = call(client, spec, method, url, body)

        expected = HTTPStatus.NOT_FOUND if spec.owned_by else spec.gets[method]
        assert response.status_code == expected, (method, response.content)
        if marker:
            assert marker not in response.content.decode(), method
        assert owner_state(owner) == before, method  # B's writes never touch A's data


@pytest.mark.django_db
def test_the_matrix_catches_a_write_that_reaches_another_users_data(client, monkeypatch):
    def erase_everyone(*, user):
        return MemoryItem.objects.all().delete()[0]

    monkeypatch.setattr(memory_services, "memory_erase", erase_everyone)

    with pytest.raises(AssertionError, match="POST"):
        test_other_user_never_sees_owner_data(client, "memory:erase")
