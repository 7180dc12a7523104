"""What the load test calls and how its report names it, shared by the locustfile (which
imports no Django) and the harness."""

from dataclasses import dataclass

BARE = "/api/v1/loadtest/bare"
SKILLS = "/api/v1/skills"
RESOLVE = "/api/v1/intents/resolve"
DISPATCH = "/api/v1/dispatches"
POLL = "/api/v1/dispatches/{id}"
RECEIPT = "/api/v1/receipts/{id}"
MEMORY = "/api/v1/memory"
# How often an agent asks where its dispatch is, until the receipt is there.
POLL_INTERVAL = 1.0
# Not an HTTP call: the time from the dispatch's 202 to its receipt, as its agent saw it.
PIPELINE = "PIPELINE"
DISPATCH_TO_RECEIPT = "dispatch → receipt"

# tests/dispatch/test_api.py's plumber, without a time window, so it fits any day and hour.
PLUMBER = {
    "text": "book a plumber in Lagos under £50",
    "details": {"problem": "The kitchen tap is leaking", "address_area": "Ikoyi"},
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    name: str
    user_class: str  # the locustfile's class calling it back to back

    @property
    def label(self) -> str:
        return f"{self.method} {self.name}"


YARDSTICK = Endpoint("POST", BARE, "BareOnly")
# Measured alone before the mix (their cost does not depend on what the mix leaves).
ALONE_BEFORE_THE_MIX = [
    Endpoint("GET", SKILLS, "SkillsOnly"),
    Endpoint("POST", RESOLVE, "ResolveOnly"),
    Endpoint("GET", MEMORY, "MemoryOnly"),
]
ACCEPT = Endpoint("POST", DISPATCH, "DispatchOnly")
# Measured after the mix, on the completed orders it made.
ALONE_AFTER_THE_MIX = [Endpoint("GET", POLL, "PollOnly"), Endpoint("GET", RECEIPT, "ReceiptOnly")]
