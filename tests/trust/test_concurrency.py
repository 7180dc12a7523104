"""The log under real concurrency, on PostgreSQL: receipts issued at once from 8 processes
get indexes 0..n-1 with no gap or duplicate and end up in one tree whose checkpoints each
extend the one before; an integrator at work never holds up issuing; one killed mid-batch
loses nothing; and a receipt is in a checkpoint within the promised delay."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction

from apps.trust import integration, merkle, selectors, tasks
from apps.trust.models import LogNode, Receipt, TransparencyLog, TreeHead
from tests.conftest import requires_redis
from tests.factories import UserFactory, make_receipt
from tests.trust.test_log import assert_each_checkpoint_extends_the_one_before
from tests.trust.test_merkle import reference_root

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, EACH = 8, 40

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def database_url_of_the_test_db() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def run_module(module: str, *args: str, eager: bool = True) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_the_test_db(),
        "GERAOS_TEST_EAGER": "true" if eager else "false",
    }
    return subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finished(process: subprocess.Popen) -> int:
    _, errors = process.communicate(timeout=120)
    assert process.returncode in (0, -9), errors.decode()[-2000:]
    return process.returncode


def issued_receipts() -> list[Receipt]:
    return list(Receipt.objects.order_by("log_index"))


def test_eight_processes_issuing_at_once_make_one_contiguous_consistent_log():
    user = UserFactory()

    issuers = [
        run_module("tests.trust.issue_many", str(user.pk), str(EACH)) for _ in range(PROCESSES)
    ]
    for issuer in issuers:
        assert finished(issuer) == 0

    receipts = issued_receipts()
    assert [r.log_index for r in receipts] == list(range(PROCESSES * EACH))
    assert [r.payload["log_index"] for r in receipts] == list(range(PROCESSES * EACH))
    # Each process's commits integrated what it, and the others, had sequenced: nothing
    # is left waiting, though integrators ran in 8 processes at once.
    head = selectors.tree_head_latest()
    assert head.size == PROCESSES * EACH
    assert bytes(head.root_hash) == reference_root(
        [merkle.leaf_hash(r.jws.encode()) for r in receipts]
    )
    assert LogNode.objects.filter(level=0).count() == PROCESSES * EACH
    assert_each_checkpoint_extends_the_one_before()


def test_an_integrator_at_work_does_not_hold_up_issuing():
    user = UserFactory()
    make_receipt(user)
    holding, release = threading.Event(), threading.Event()

    def integrator_mid_batch():
        with transaction.atomic():
            TransparencyLog.objects.select_for_update().get(pk=1)
            holding.set()
            release.wait(10)
        connection.close()

    integrator = threading.Thread(target=integrator_mid_batch)
    integrator.start()
    holding.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            receipt = make_receipt(user, integrated=False)
    except OperationalError as waited:
        pytest.fail(f"issuing waited for the integrator: {waited}")
    finally:
        release.set()
        integrator.join()

    assert receipt.log_index == 1
    assert selectors.receipt_proof(receipt=receipt) is None
    assert integration.integrate().size == 2


def test_an_integrator_killed_mid_batch_loses_nothing():
    user = UserFactory()
    for _ in range(3):
        make_receipt(user)
    # Sequenced by a process whose integration never runs (no worker takes it).
    assert finished(run_module("tests.trust.issue_many", str(user.pk), "4", eager=False)) == 0
    assert TreeHead.objects.latest("size").size == 3

    assert finished(run_module("tests.trust.integrate_and_die")) == -9

    assert TransparencyLog.objects.get().size == 3
    assert list(TreeHead.objects.order_by("size").values_list("size", flat=True)) == [1, 2, 3]
    assert LogNode.objects.filter(level=0).count() == 3
    head = integrate_once_the_dead_session_is_gone()
    assert head.size == 7
    receipts = issued_receipts()
    assert bytes(head.root_hash) == reference_root(
        [merkle.leaf_hash(r.jws.encode()) for r in receipts]
    )
    assert assert_each_checkpoint_extends_the_one_before() == [1, 2, 3, 7]


def integrate_once_the_dead_session_is_gone(timeout: float = 10.0) -> TreeHead:
    """PostgreSQL rolls the killed integrator's batch back and frees the log as soon as it
    notices the connection is gone; until then the log is held and integrate() steps aside."""
    deadline = time.monotonic() + timeout
    while (head := integration.integrate()) is None:
        assert time.monotonic() < deadline, "the killed integrator's lock was never freed"
        time.sleep(0.05)
    return head


def test_while_receipts_keep_coming_the_log_signs_a_checkpoint_at_most_every_interval(
    monkeypatch,
):
    """However many runs integrate at once (a worker's pool, beat's run)."""
    user = UserFactory()
    monkeypatch.setattr(tasks.integrate_log, "delay", lambda: None)  # the runs below do it
    issuing = threading.Event()

    def issue_for(seconds: float):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            make_receipt(user, integrated=False)
            issuing.set()
        connection.close()

    def run():
        integration.integrate_pending(batch_interval=0.1)
        connection.close()

    issuer = threading.Thread(target=issue_for, args=(0.8,))
    issuer.start()
    issuing.wait(10)
    started = time.monotonic()
    runs = [threading.Thread(target=run) for _ in range(6)]
    for each in runs:  # one now and then, as a worker's pool takes queued runs
        each.start()
        time.sleep(0.05)
    for each in runs:
        each.join()
    elapsed = time.monotonic() - started
    issuer.join()
    integration.integrate()

    signed = TreeHead.objects.count() - 1  # the last one, after the runs
    assert signed <= elapsed / 0.1 + 1
    assert Receipt.objects.count() > 2 * signed  # batches, not a checkpoint a receipt
    assert_each_checkpoint_extends_the_one_before()


@requires_redis
def test_a_receipt_is_in_a_checkpoint_within_the_promised_delay(real_worker):
    user = UserFactory()
    promised = settings.GERAOS_LOG_MAX_INTEGRATION_DELAY

    receipts = []
    for _ in range(20):
        receipts.append(make_receipt(user, integrated=False))
        time.sleep(0.02)
    deadline = time.monotonic() + promised
    while selectors.tree_head_latest() is None or selectors.tree_head_latest().size < 20:
        assert time.monotonic() < deadline, "receipts not integrated within the promised delay"
        time.sleep(0.05)

    for receipt in receipts:
        first_covering = TreeHead.objects.filter(size__gt=receipt.log_index).earliest("size")
        assert (first_covering.created_at - receipt.issued_at).total_seconds() < promised
