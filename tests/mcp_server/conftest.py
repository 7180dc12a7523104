import asyncio
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from django.core.asgi import get_asgi_application
from django.db import connection
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.testclient import TestClient

from apps.mcp_server.asgi import with_mcp

ROOT = Path(__file__).resolve().parents[2]

requires_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the live server shares the test database"
)


@pytest.fixture(scope="module")
def live_site(django_db_setup, django_db_blocker) -> str:
    """`geraos.asgi:application` under uvicorn, as `make run` serves it, on the test
    database; its base URL. Tests using it commit their data (transaction=True)."""
    with serving_site(django_db_blocker) as base_url:
        yield base_url


@contextmanager
def serving_site(django_db_blocker, env: dict[str, str] | None = None):
    """The site under uvicorn in a process of its own, on the test database, with `env`
    added to its environment; yields its base URL."""
    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and application
        [sys.executable, "-m", "uvicorn", "geraos.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.settings",
             **(env or {})},
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(base_url: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            httpx2.get(f"{base_url}/.well-known/oauth-protected-resource/mcp", timeout=2)
            return
        except httpx2.TransportError:
            time.sleep(0.2)
    pytest.fail("the live server did not start")


@pytest.fixture
def site():
    """The site as `geraos.asgi` builds it, in this process with its lifespan run (the MCP
    server's session manager runs once per instance: a new site each time), for what the
    MCP endpoint answers over HTTP. It serves requests in threads of their own, so tests
    using it commit their data (transaction=True)."""
    with TestClient(with_mcp(get_asgi_application()), raise_server_exceptions=False) as client:
        yield client


@asynccontextmanager
async def mcp_session(base_url: str, token: str, mode: str = "auto"):
    """The official MCP client over Streamable HTTP, the token as its bearer."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


def run(coroutine):
    """Runs the client in a thread of its own: Playwright's sync API, once a browser test
    has started it, keeps an event loop running in the main thread for the session."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
