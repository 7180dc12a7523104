"""The site under uvicorn holds no more PostgreSQL connections than its pool, however
many requests arrive at once. Under ASGI each request runs in a thread of its own, so a
connection kept after its request (CONN_MAX_AGE) was never used again, only left open
until its thread was collected: a burst of requests exhausted PostgreSQL."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx2
import psycopg
import pytest
from django.db import connection

from tests.factories import UserFactory, make_grant
from tests.mcp_server.conftest import requires_postgresql, serving_site

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgresql]

SITE = "geraos-live-site"  # the application name the site's connections carry
POOL_SIZE = 3
CLIENTS = 12
REQUESTS_EACH = 25


@pytest.fixture(scope="module")
def pooled_site(django_db_setup, django_db_blocker) -> str:
    environment = {"DATABASE_POOL_MAX_SIZE": str(POOL_SIZE), "PGAPPNAME": SITE}
    with serving_site(django_db_blocker, environment) as base_url:
        yield base_url


class PeakConnections:
    """How many connections the site held at most while the block ran, sampled from a
    connection of its own."""

    def __init__(self, application_name: str) -> None:
        self.application_name = application_name
        self.highest = 0
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample)

    def __enter__(self) -> "PeakConnections":
        self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._sampler.join()

    def _sample(self) -> None:
        database = connection.settings_dict["NAME"]
        url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
        with psycopg.connect(url, autocommit=True) as watching:
            while True:
                (held,) = watching.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [self.application_name],
                ).fetchone()
                self.highest = max(self.highest, held)
                if self._done.wait(0.005):
                    return


def tools_called(base_url: str, token: str) -> list[bool]:
    """One agent's MCP tool calls, one after another: each authenticates and reads."""
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "find_skills", "arguments": {}}}  # fmt: skip
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30) as client:
        answers = [client.post("/mcp", json=call).json() for _ in range(REQUESTS_EACH)]
    return [answer["result"]["isError"] for answer in answers]


def keys_fetched(base_url: str) -> list[int]:
    """One client's requests, one after another: each reads the database."""
    with httpx2.Client(base_url=base_url, timeout=30) as client:
        return [client.get("/.well-known/jwks.json").status_code for _ in range(REQUESTS_EACH)]


def test_a_burst_of_requests_holds_no_more_connections_than_the_pool(pooled_site):
    with PeakConnections(SITE) as peak, ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        answered = [
            status
            for statuses in clients.map(keys_fetched, [pooled_site] * CLIENTS)
            for status in statuses
        ]

    assert answered == [200] * CLIENTS * REQUESTS_EACH
    assert 0 < peak.highest <= POOL_SIZE


def test_a_burst_of_mcp_tool_calls_holds_no_more_connections_than_the_pool(pooled_site, catalog):
    _, token = make_grant(UserFactory())
    with PeakConnections(SITE) as peak, ThreadPoolExecutor(max_workers=CLIENTS) as agents:
        refused = [
            is_error
            for answers in agents.map(tools_called, [pooled_site] * CLIENTS, [token] * CLIENTS)
            for is_error in answers
        ]

    assert refused == [False] * CLIENTS * REQUESTS_EACH
    assert 0 < peak.highest <= POOL_SIZE
