"""`make demo`: an agent books a plumber through GeraOS's HTTP API, start to finish.

It discovers the skills (A2A agent card), resolves "book a plumber in Lagos under £50
tomorrow morning" to a provider and a quote, dispatches it with an Idempotency-Key, waits
for the pipeline, prints the provider's confirmation, then verifies the signed receipt
offline: the receipt bundle and the published keys are saved to files and checked by
`python -m apps.trust.verify` with no access to GeraOS.

    python scripts/demo_agent.py --serve            # starts a dev server for the demo
    python scripts/demo_agent.py --base-url URL     # against a server already running
    python scripts/demo_agent.py --serve --mcp      # the same story over MCP at /mcp

Over HTTP only the standard library is used, as an agent written elsewhere would; over
MCP, the official MCP SDK's client (`mcp`), as an MCP host would.
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
TOKEN = os.environ.get(
    "GERAOS_DEMO_AGENT_TOKEN", "gera_demo2026_DemoAgentTokenForLocalRunsOnly0000000"
)
FINISHED = {"completed", "failed", "voided", "rejected"}
LAGOS = dt.timezone(dt.timedelta(hours=1), "WAT")


class Api:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None, **headers) -> dict:
        request = Request(  # noqa: S310 - the demo server's own URL
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
                **headers,
            },
        )
        try:
            with urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read())
        except HTTPError as error:
            problem = json.loads(error.read() or b"{}").get("error", {})
            sys.exit(f"{method} {path} -> {error.code} {problem.get('code')}: {problem}")


def the_intent(today: dt.date) -> str:
    """Tomorrow morning, unless tomorrow is a Sunday (the plumbers rest): then Monday."""
    when = "on monday morning" if today.weekday() == 5 else "tomorrow morning"
    return f"book a plumber in Lagos under £50 {when}"


def story(api: Api) -> int:
    card = api.call("GET", "/.well-known/agent-card.json")
    print(f"1. Discovered {len(card['skills'])} skills on {card['name']}'s agent card.")

    text = the_intent(dt.datetime.now(LAGOS).date())
    found = api.call("POST", "/api/v1/intents/resolve", {"text": text})
    intent, quote = found["intent"], found["quote"]
    print(f'2. Resolved "{text}":')
    print(f"   capability {intent['capability']} in {intent['location']['city']}, "
          f"window {intent['window']['start']} .. {intent['window']['end']}")  # fmt: skip
    print(f"   provider {found['provider']['name']} (rating {found['provider']['rating']}), "
          f"quote {_money(quote['local_amount'])} on {quote['rail']}, "
          f"settles {_money(quote['settlement_amount'])}")  # fmt: skip

    key = f"demo-{uuid.uuid4()}"
    order = api.call(
        "POST",
        "/api/v1/dispatches",
        {"intent": intent, "details": {"problem": "The kitchen tap is leaking"}},
        **{"Idempotency-Key": key},
    )
    print(f"3. Dispatched: order {order['id']} (Idempotency-Key {key}).")

    order = _wait(api, order["id"])
    path = " -> ".join(
        t["to_status"] for t in order["history"] if t["from_status"] != t["to_status"]
    )
    print(f"4. {path}")
    if order["status"] != "completed":
        print(f"   The dispatch did not complete: {order['failure']}")
        return 1
    confirmation = order["confirmation"]
    print(f"   Confirmed by the provider: booking {confirmation['reference']} for "
          f"{confirmation['scheduled_for']} (signature verified: "
          f"{confirmation['verified']}).")  # fmt: skip
    print(f"   Paid: payment {order['payment']['id']} {order['payment']['status']}.")
    receipt = order["receipt"]
    _wait_until_provable(api, receipt["id"])
    return _verify_offline(receipt, api.call("GET", receipt["bundle"]), _jwks(api))


def _money(value: dict) -> str:
    return f"{value['amount']} {value['currency']}"


def _wait(api: Api, order_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = api.call("GET", f"/api/v1/dispatches/{order_id}")
        if (order["status"] in FINISHED and order["receipt"]) or time.monotonic() > deadline:
            return order
        time.sleep(0.5)


def _jwks(api: Api) -> dict:
    return api.call("GET", "/.well-known/jwks.json")


def _wait_until_provable(api: Api, receipt_id: str, timeout: float = 30.0) -> None:
    """A receipt has its inclusion proof once the log integrates it, within seconds."""
    deadline = time.monotonic() + timeout
    while api.call("GET", f"/api/v1/receipts/{receipt_id}")["log_status"] != "integrated":
        if time.monotonic() > deadline:
            sys.exit(f"Receipt {receipt_id} was not integrated into the log in {timeout:.0f} s.")
        time.sleep(0.5)


def _verify_offline(receipt: dict, bundle: dict, jwks: dict) -> int:
    with tempfile.TemporaryDirectory() as folder:
        bundle_file, jwks_file = Path(folder, "receipt.json"), Path(folder, "jwks.json")
        bundle_file.write_text(json.dumps(bundle))
        jwks_file.write_text(json.dumps(jwks))
        checked = subprocess.run(  # noqa: S603 - our verifier, our files
            [sys.executable, "-m", "apps.trust.verify", str(bundle_file), "--jwks", str(jwks_file)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", "")},  # no settings, no database: offline
        )
    verdict = checked.stdout.strip() or checked.stderr.strip()
    print(f"5. Receipt {receipt['id']} (log index {receipt['log_index']}) checked offline "
          f"by python -m apps.trust.verify:\n   {verdict}")  # fmt: skip
    return checked.returncode


async def mcp_story(base_url: str) -> int:
    """The same story through the MCP server's tools, with the official MCP client."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http,
        Client(streamable_http_client(f"{base_url.rstrip('/')}/mcp", http_client=http)) as mcp,
    ):

        async def call(tool: str, **arguments) -> dict:
            result = await mcp.call_tool(tool, arguments)
            if result.is_error:
                sys.exit(f"{tool} -> {result.structured_content['error']}")
            return result.structured_content

        tools = (await mcp.list_tools()).tools
        print(f"1. Connected to /mcp (protocol {mcp.protocol_version}): {len(tools)} tools, "
              f"{', '.join(tool.name for tool in tools)}.")  # fmt: skip
        text = the_intent(dt.datetime.now(LAGOS).date())
        found = await call("resolve_intent", text=text)
        intent, quote = found["intent"], found["quote"]
        print(f'2. resolve_intent "{text}": provider {found["provider"]["name"]}, quote '
              f"{_money(quote['local_amount'])} on {quote['rail']}.")  # fmt: skip
        key = f"demo-{uuid.uuid4()}"
        booking = {"intent": intent, "details": {"problem": "The kitchen tap is leaking"}}
        order = await call("dispatch", **booking, idempotency_key=key)
        again = await call("dispatch", **booking, idempotency_key=key)
        print(f"3. dispatch: order {order['id']}; called again with idempotency key {key}: "
              f"order {again['id']}, not a second booking.")  # fmt: skip
        deadline = time.monotonic() + 60
        while not (order["status"] in FINISHED and order["receipt"]):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
            order = await call("get_dispatch", dispatch_id=order["id"])
        print(f"4. get_dispatch: {order['status']}")
        if order["status"] != "completed":
            print(f"   The dispatch did not complete: {order['failure']}")
            return 1
        receipt = await call("get_receipt", receipt_id=order["receipt"]["id"])
        while receipt["log_status"] != "integrated" and time.monotonic() < deadline:
            await asyncio.sleep(0.5)  # its proof comes once the log integrates it
            receipt = await call("get_receipt", receipt_id=order["receipt"]["id"])
        online = await call("verify_receipt", jws=receipt["jws"])
        print(f"   verify_receipt: valid {online['valid']}, {online['reason']}")
    return _verify_offline(order["receipt"], receipt["bundle"], _jwks(Api(base_url)))


@contextmanager
def dev_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "-m", "uvicorn", "geraos.asgi:application", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_up(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urlopen(base_url + "/healthz", timeout=2).close()  # noqa: S310
            return
        except HTTPError:
            return  # it answers
        except URLError:
            time.sleep(0.2)
    sys.exit("The demo server did not start.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="a GeraOS server already running")
    where.add_argument("--serve", action="store_true", help="start a dev server for the demo")
    parser.add_argument("--mcp", action="store_true", help="as an MCP client, through /mcp")
    args = parser.parse_args()
    with dev_server() if args.serve else nullcontext(args.base_url) as base_url:
        return asyncio.run(mcp_story(base_url)) if args.mcp else story(Api(base_url))


if __name__ == "__main__":
    sys.exit(main())
