"""Trust-layer benchmark (not a test): `python -m bench.trust`, or `make bench`.

    scripts/with-test-services .venv/bin/python -m bench.trust

On a throw-away test database it prints:

- raw Ed25519 signs and verifies per second, the yardstick of this run;
- receipts issued per second by 1 and by 8 issuing processes at once, each as a ratio to
  raw signing, in the production shape: each issue sequences its receipt and its commit
  queues the integration on Redis, which one Celery worker runs beside the issuers (needs
  PostgreSQL and REDIS_URL; the Redis must be a throw-away one). With each, the batches
  the integrator signed (receipts per checkpoint) and the integration delay (from a
  receipt's issue to the checkpoint that first holds it), against the promised bound;
- receipt verification as a ratio to raw verifying;
- inclusion-proof times at log sizes 10^3, 10^4 and 10^5, which must grow slowly.

Absolute rates depend on the machine; the ratios are what to compare between commits.
"""

import bisect
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import median_seconds, rate, test_database

PROOF_SIZES = (1_000, 10_000, 100_000)
ISSUERS = (1, 8)
ROUNDS = 3
ISSUING_SECONDS = 3.0
WORKER_START_TIMEOUT = 60.0
INTEGRATION_TIMEOUT = 60.0
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def raw_ed25519() -> tuple[float, float]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    message = b"x" * 600  # about the size of a receipt's signing input
    signature = key.sign(message)
    public = key.public_key()
    return rate(lambda: key.sign(message)), rate(lambda: public.verify(signature, message))


def issue(user):
    from djmoney.money import Money

    from apps.trust import services

    return services.issue_receipt(
        user=user,
        source={"product": "gerahome", "provider": "p", "skill": "home.plumbing"},
        amount_local=Money("45000", "NGN"),
        amount_settled=Money("22.50", "GBP"),
        fx_rate=Decimal("0.0005"),
        rail="stripe",
        payment_ref="pi_1",
        resolution="completed",
    )


# --- issuing processes ------------------------------------------------------------------


def issuer_main(user_id: int, seconds: float) -> None:
    """One issuing process: says it is ready, waits for the go, issues for `seconds`,
    prints how many it issued."""
    from apps.identity.models import User

    user = User.objects.get(pk=user_id)
    issue(user)  # connected and warm
    print("ready", flush=True)
    sys.stdin.readline()
    issued, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        issue(user)
        issued += 1
    print(issued, flush=True)


def worker_env() -> dict:
    """Processes on the test database, their tasks sent to the broker."""
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "GERAOS_TEST_EAGER": "false",
        "DATABASE_URL": url._replace(path=f"/{connection.settings_dict['NAME']}").geturl(),
    }


def issued_per_second(user_id: int, processes: int) -> float:
    issuers = [
        subprocess.Popen(  # noqa: S603 - this module
            [sys.executable, "-m", "bench.trust", "issue", str(user_id), str(ISSUING_SECONDS)],
            cwd=PROJECT_ROOT,
            env=worker_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    for issuer in issuers:
        assert issuer.stdout.readline().strip() == "ready"
    for issuer in issuers:  # all at once
        issuer.stdin.write("go\n")
        issuer.stdin.flush()
    issued = 0
    for issuer in issuers:
        out, _ = issuer.communicate(timeout=ISSUING_SECONDS + 60)
        assert issuer.returncode == 0
        issued += int(out)
    return issued / ISSUING_SECONDS


# --- the integrator ---------------------------------------------------------------------


def start_integrator() -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("celery")),
        *("-A", "geraos", "worker", "--concurrency=1", "--pool=solo"),
        *("-Q", "celery", "--loglevel=WARNING", "-n", "bench-integrator@%h"),
    ]
    return subprocess.Popen(  # noqa: S603 - the venv's celery, fixed arguments
        command,
        cwd=PROJECT_ROOT,
        env=worker_env(),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_until_integrated(timeout: float = INTEGRATION_TIMEOUT) -> None:
    from apps.trust.models import LogSequence, TransparencyLog

    deadline = time.monotonic() + timeout
    while TransparencyLog.objects.get().size < LogSequence.objects.get().next_index:
        if time.monotonic() > deadline:
            raise RuntimeError(f"receipts still waiting for integration after {timeout} s")
        time.sleep(0.05)


def batches_and_delays(first_index: int) -> tuple[list[int], list[float]]:
    """Receipts per checkpoint signed since `first_index`, and each receipt's seconds from
    its issue to the first checkpoint that holds it."""
    from apps.trust.models import Receipt, TreeHead

    heads = list(
        TreeHead.objects.filter(size__gt=first_index)
        .order_by("size")
        .values_list("size", "created_at")
    )
    sizes = [size for size, _ in heads]
    batches = [after - before for before, after in zip([first_index, *sizes], sizes, strict=False)]
    delays = [
        (heads[bisect.bisect_right(sizes, index)][1] - issued_at).total_seconds()
        for index, issued_at in Receipt.objects.filter(log_index__gte=first_index).values_list(
            "log_index", "issued_at"
        )
    ]
    return batches, delays


@dataclass
class Phase:
    """One issuing phase: its rate, the raw signing rate just before it, and what the
    integrator did with its receipts."""

    issued: float
    signs: float
    batches: list[int]
    delays: list[float]

    @property
    def ratio(self) -> float:
        return self.issued / self.signs


def issuance() -> None:
    from django.conf import settings
    from django.db import connection

    from apps.trust.models import LogSequence
    from geraos.celery import app as celery_app
    from tests.factories import UserFactory

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        print("  receipts issued: needs PostgreSQL and REDIS_URL (make bench)")
        return
    user = UserFactory()
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    integrator = start_integrator()
    phases: dict[int, list[Phase]] = {processes: [] for processes in ISSUERS}
    try:
        issue(user)  # the integrator is up once this is integrated
        wait_until_integrated(WORKER_START_TIMEOUT)
        for _ in range(ROUNDS):  # interleaved, so a busy spell on the machine hits both
            for processes in ISSUERS:
                signs = raw_ed25519()[0]
                first_index = LogSequence.objects.get().next_index
                issued = issued_per_second(user.pk, processes)
                wait_until_integrated()
                phases[processes].append(Phase(issued, signs, *batches_and_delays(first_index)))
    finally:
        stop(integrator)
        celery_app.conf.task_always_eager = True
    bound = settings.GERAOS_LOG_MAX_INTEGRATION_DELAY
    for processes, runs in phases.items():
        middle = sorted(runs, key=lambda phase: phase.ratio)[len(runs) // 2]
        batches = [size for run in runs for size in run.batches]
        delays = [delay for run in runs for delay in run.delays]
        print(
            f"  receipts issued by {processes} process{'es' if processes > 1 else ''}: "
            f"{middle.issued:,.0f}/s = {middle.ratio:.4f}x raw signing "
            f"(median of {len(runs)}: {', '.join(f'{run.ratio:.4f}' for run in runs)})"
        )
        print(
            f"    integrated in {len(batches)} checkpoints of {statistics.mean(batches):.1f} "
            f"receipts on average (max {max(batches)}); from issue to checkpoint "
            f"{statistics.median(delays) * 1000:.0f} ms median, "
            f"{statistics.quantiles(delays, n=100)[98] * 1000:.0f} ms p99, "
            f"{max(delays) * 1000:.0f} ms max (bound {bound} s)"
        )


# --- verification and proofs -------------------------------------------------------------


def verifications() -> float:
    from apps.trust import integration, jose, selectors
    from tests.factories import UserFactory

    token = issue(UserFactory()).jws
    integration.integrate()
    jwks = selectors.jwks()
    return rate(lambda: jose.jws_verify(token, jwks=jwks, typ=jose.RECEIPT_TYPE))


def synthetic_log(size: int) -> None:
    """Store the complete subtrees of a `size`-leaf log directly (issuing 10^5 receipts
    one by one would take minutes; proofs read only these nodes), and a tree head at each
    size proofs are asked for."""
    from apps.trust import merkle
    from apps.trust.models import LogNode, TreeHead

    nodes = {}
    for start in range(0, size, 5000):
        end = min(start + 5000, size)
        leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(start, end)]
        made = merkle.append({at: nodes[at] for at in merkle.frontier(start)}, start, leaves)
        nodes |= made
        LogNode.objects.bulk_create(
            LogNode(level=level, index=index, hash=digest)
            for (level, index), digest in made.items()
        )
    TreeHead.objects.bulk_create(
        TreeHead(size=n, root_hash=bytes(32), kid="bench", checkpoint="") for n in PROOF_SIZES
    )


def proof_times() -> dict[int, float]:
    from apps.trust import selectors
    from apps.trust.models import LogNode, TreeHead

    LogNode.objects.all().delete()
    TreeHead.objects.all().delete()
    synthetic_log(max(PROOF_SIZES))
    return {
        size: median_seconds(
            lambda size=size: selectors.inclusion_proof(index=size // 3, size=size), 50
        )
        for size in PROOF_SIZES
    }


def main() -> None:
    with test_database() as vendor:
        sign, verify = raw_ed25519()
        print(f"GeraOS trust benchmark on {vendor}")
        print(f"  raw Ed25519: {sign:,.0f} signs/s, {verify:,.0f} verifies/s")
        issuance()
        verified = verifications()
        print(
            f"  receipt verifications (JWS + JWKS lookup): {verified:,.0f}/s "
            f"= {verified / verify:.2f}x raw verifying"
        )
        times = proof_times()
        base = times[PROOF_SIZES[0]]
        for size, seconds in times.items():
            print(
                f"  inclusion proof at {size:>7,} leaves: {seconds * 1000:.2f} ms "
                f"= {seconds / base:.2f}x the 10^3 time"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["issue"]:
        issuer_main(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
