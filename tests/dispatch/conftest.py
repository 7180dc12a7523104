import datetime as dt

import pytest
from django.test import Client

from tests.factories import UserFactory, make_grant

PLUMBER = "book a plumber in Lagos under £50 tomorrow morning"
ANYTIME = "book a plumber in Lagos under £50"  # no window: fits at any real time and day
LEAK = {"problem": "The kitchen tap is leaking", "address_area": "Ikoyi"}


@pytest.fixture
def wednesday_morning(monkeypatch):
    """Tomorrow morning is a Thursday, when the morning plumbers work."""
    frozen = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: frozen)
    return frozen


class Agent:
    """An agent calling the API with a grant's token."""

    def __init__(self, user, on_commit=None, **grant):
        self.user = user
        self.on_commit = on_commit
        self.grant, token = make_grant(
            user,
            scopes=grant.pop("scopes", ["dispatch:create", "dispatch:read", "receipts:read"]),
            **grant,
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def dispatch(self, key: str = "k1", text: str = PLUMBER, details=None, **extra):
        body = {"text": text, "details": LEAK if details is None else details, **extra}
        return self.post("/api/v1/dispatches", body, HTTP_IDEMPOTENCY_KEY=key)

    def post(self, path: str, body: dict, **headers):
        """POST, then run what was queued on commit (the pipeline) as a worker would."""
        if self.on_commit is None:
            return self.client.post(path, body, content_type="application/json", **headers)
        with self.on_commit(execute=True):
            return self.client.post(path, body, content_type="application/json", **headers)

    def get(self, path: str):
        return self.client.get(path)


@pytest.fixture
def agent(catalog, wednesday_morning, django_capture_on_commit_callbacks):
    return Agent(
        UserFactory(country="GB", preferred_currency="GBP"),
        on_commit=django_capture_on_commit_callbacks,
    )
