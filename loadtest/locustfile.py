"""The agents `make loadtest` sets on GeraOS, for locust (`loadtest.run` starts it once per
phase, naming the class to run):

    locust -f loadtest/locustfile.py --headless -u 50 -r 50 -t 40s --host URL MixAgent

`MixAgent` is the realistic mix: an agent books the Lagos plumber (discover skills,
resolve, dispatch with an Idempotency-Key, sometimes the same request again as a retry,
poll until the receipt exists, fetch it), reads memory, lists skills, and calls the
yardstick, pausing between calls. Each other class calls one endpoint back to back, to
measure how many calls a second it takes. The agents' tokens come from the JSON file
named by LOADTEST_AGENTS (`loadtest.run` writes it); each simulated user takes the next.

Requests go out as the TLS proxy forwards them in production (`X-Forwarded-Proto:
https`), so the site answers as deployed rather than redirecting to https.
"""

import itertools
import json
import os
import random
import time
import uuid

from locust import FastHttpUser, between, constant, task
from locust.exception import StopUser

from loadtest.plan import (
    BARE,
    DISPATCH,
    DISPATCH_TO_RECEIPT,
    MEMORY,
    PIPELINE,
    PLUMBER,
    POLL,
    POLL_INTERVAL,
    RECEIPT,
    RESOLVE,
    SKILLS,
)

RECEIPT_TIMEOUT = 120.0
REPLAY_SHARE = 0.1


def _tokens():
    with open(os.environ["LOADTEST_AGENTS"]) as agents:
        return itertools.cycle(json.load(agents)["tokens"])


TOKENS = _tokens()


class Agent(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.headers = {
            "Authorization": f"Bearer {next(TOKENS)}",
            "X-Forwarded-Proto": "https",
        }

    # One method per endpoint; `name` is the path the report shows.
    def bare(self) -> None:
        self._call("POST", BARE, json={})

    def skills(self) -> None:
        self._call("GET", SKILLS)

    def resolve(self) -> None:
        self._call("POST", RESOLVE, json={"text": PLUMBER["text"]})

    def memory(self) -> None:
        self._call("GET", MEMORY, params={"product": "gerahome", "scope": "home"})

    def dispatch(self, key: str) -> str | None:
        """POST /dispatches with `key`; the order's id, or None if refused."""
        response = self._call("POST", DISPATCH, json=PLUMBER, key=key)
        return response.json()["id"] if response.status_code == 202 else None

    def order(self, order_id: str) -> dict | None:
        response = self._call("GET", f"{DISPATCH}/{order_id}", name=POLL)
        return response.json() if response.status_code == 200 else None

    def receipt(self, receipt_id: str) -> None:
        self._call("GET", f"/api/v1/receipts/{receipt_id}", name=RECEIPT)

    def _call(self, method: str, path: str, *, key: str = "", name: str = "", **kwargs):
        headers = {**self.headers, "Idempotency-Key": key} if key else self.headers
        return self.client.request(method, path, name=name or path, headers=headers, **kwargs)


class MixAgent(Agent):
    wait_time = between(0.5, 1.5)

    @task(3)
    def book_a_plumber(self) -> None:
        self.skills()
        self.resolve()
        key = f"loadtest-{uuid.uuid4()}"
        order_id = self.dispatch(key)
        if order_id is None:
            return
        if random.random() < REPLAY_SHARE:  # noqa: S311 - not for secrets
            self._replay(key, order_id)
        self._wait_for_the_receipt(order_id)

    @task(2)
    def read_memory(self) -> None:
        self.memory()

    @task(1)
    def discover(self) -> None:
        self.skills()

    @task(1)
    def yardstick(self) -> None:
        self.bare()

    def _replay(self, key: str, order_id: str) -> None:
        """A retry of the same booking, as after a timeout: the same order comes back."""
        with self._call(
            "POST",
            DISPATCH,
            json=PLUMBER,
            key=key,
            name=f"{DISPATCH} (replay)",
            catch_response=True,
        ) as response:
            if response.status_code != 202 or response.json()["id"] != order_id:
                response.failure(f"the replay answered {response.status_code}, not the order")

    def _wait_for_the_receipt(self, order_id: str) -> None:
        """Poll as an agent would; report the time from the 202 to the receipt, a failure
        if the order ended other than completed or no receipt came in time."""
        accepted = time.perf_counter()
        while (waited := time.perf_counter() - accepted) < RECEIPT_TIMEOUT:
            time.sleep(POLL_INTERVAL)
            order = self.order(order_id)
            if order and order["receipt"]:
                ended = None if order["status"] == "completed" else f"ended {order['status']}"
                self._report_pipeline(time.perf_counter() - accepted, ended)
                self.receipt(order["receipt"]["id"])
                return
        self._report_pipeline(waited, f"no receipt after {RECEIPT_TIMEOUT:.0f} s")

    def _report_pipeline(self, seconds: float, failure: str | None) -> None:
        self.environment.events.request.fire(
            request_type=PIPELINE,
            name=DISPATCH_TO_RECEIPT,
            response_time=seconds * 1000,
            response_length=0,
            exception=RuntimeError(failure) if failure else None,
            context={},
        )


# ---------------------------------------------------------------------------
# One endpoint back to back: its capacity
# ---------------------------------------------------------------------------
class BareOnly(Agent):
    @task
    def call(self) -> None:
        self.bare()


class SkillsOnly(Agent):
    @task
    def call(self) -> None:
        self.skills()


class ResolveOnly(Agent):
    @task
    def call(self) -> None:
        self.resolve()


class MemoryOnly(Agent):
    @task
    def call(self) -> None:
        self.memory()


class DispatchOnly(Agent):
    @task
    def call(self) -> None:
        self.dispatch(f"loadtest-{uuid.uuid4()}")


class _OwnCompletedOrder(Agent):
    """Starts from one of its own completed orders (the mix made them)."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        response = self._call(
            "GET", DISPATCH, params={"status": "completed", "limit": 1}, name="(setup)"
        )
        orders = response.json() if response.status_code == 200 else []
        if not orders:
            raise StopUser
        self.completed = orders[0]


class PollOnly(_OwnCompletedOrder):
    @task
    def call(self) -> None:
        self.order(self.completed["id"])


class ReceiptOnly(_OwnCompletedOrder):
    @task
    def call(self) -> None:
        self.receipt(self.completed["receipt"]["id"])
