"""MCP benchmark (not a test): `python -m bench.mcp`, or `make bench`.

    scripts/with-test-services .venv/bin/python -m bench.mcp

The site under uvicorn (`geraos.asgi:application`, as `make run` serves it) on a
throw-away test database, with the demo catalogue and an agent on the studio plan. The
same dispatch (the plumber in Lagos, a fresh idempotency key each time, the pipeline
queued rather than run) is timed as an MCP tool call through the official MCP client
(one client for each protocol era) and as POST /api/v1/dispatches over HTTP, the three
taking turns: median round trip of each, and MCP's as a ratio to REST's.
"""

import asyncio
import itertools
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager

from bench.common import test_database
from bench.dispatch import (
    DETAILS,
    PROJECT_ROOT,
    agent_on_the_studio_plan,
    tasks_sent_to_the_broker,
    worker_database_url,
)

CALLS = 100


@contextmanager
def live_site():
    """uvicorn serving the site on the test database, tasks sent to the broker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": worker_database_url(),
        "GERAOS_TEST_EAGER": "false",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and application
        [sys.executable, "-m", "uvicorn", "geraos.asgi:application",
         "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT, env=env,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=15)


def wait_until_up(base_url: str, timeout: float = 30.0) -> None:
    import httpx2

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"{base_url}/healthz", timeout=2)
            return
        except httpx2.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the site did not start")


async def round_trips(base_url: str, token: str, text: str) -> dict[str, list[float]]:
    """Seconds per dispatch of each client, the clients taking turns call by call, so a
    machine busy with something else slows them alike."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    keys = (f"bench-{n}" for n in itertools.count())
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=60) as rest,
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http)) as modern,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode="legacy") as old,
    ):

        async def over_rest() -> None:
            response = await rest.post(
                "/api/v1/dispatches",
                json={"text": text, "details": DETAILS},
                headers={"Idempotency-Key": next(keys)},
            )
            assert response.status_code == 202, response.text

        def over_mcp(client):
            async def call() -> None:
                arguments = {"text": text, "details": DETAILS, "idempotency_key": next(keys)}
                result = await client.call_tool("dispatch", arguments)
                assert not result.is_error, result.structured_content

            return call

        clients = {"rest": over_rest, "modern": over_mcp(modern), "legacy": over_mcp(old)}
        samples: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(CALLS + 1):  # the first round warms up
            for name, dispatch in clients.items():
                start = time.perf_counter()
                await dispatch()
                samples[name].append(time.perf_counter() - start)
    return {name: times[1:] for name, times in samples.items()}


def main() -> None:
    logging.disable(logging.INFO)
    with test_database() as vendor:
        from apps.core.api.throttling import CallerRateThrottle

        agent = agent_on_the_studio_plan()
        print(f"GeraOS MCP benchmark on {vendor}: {agent.text!r}, {CALLS} dispatches each")
        assert CallerRateThrottle.THROTTLE_RATES["money"] == "100000/min"  # tests.settings
        with tasks_sent_to_the_broker() as celery_app, live_site() as base_url:
            try:
                samples = asyncio.run(round_trips(base_url, agent.token, agent.text))
            finally:
                celery_app.control.purge()
        rest = statistics.median(samples["rest"])
        for name, era in (("modern", "2026-07-28"), ("legacy", "2025-11-25 handshake")):
            mcp = statistics.median(samples[name])
            print(
                f"  MCP dispatch ({era}) / REST dispatch, round trip: {mcp / rest:.2f}x "
                f"(median {mcp * 1000:.1f} ms vs {rest * 1000:.1f} ms)"
            )


if __name__ == "__main__":
    main()
