"""200 receipts issued concurrently from several processes get log indexes 0..199 with
no gap or duplicate, and the stored tree is the RFC 9162 tree of those leaves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from apps.trust import merkle, selectors
from apps.trust.models import Receipt
from tests.factories import UserFactory
from tests.trust.test_merkle import reference_root

ROOT = Path(__file__).resolve().parents[2]
PROCESSES, EACH = 4, 50


def database_url_of_the_test_db() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_concurrent_issuance_never_forks_skips_or_reuses_an_index():
    user = UserFactory()
    env = {**os.environ, "DATABASE_URL": database_url_of_the_test_db()}
    workers = [
        subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "tests.trust.issue_many", str(user.pk), str(EACH)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors.decode()[-2000:]

    receipts = list(Receipt.objects.order_by("log_index"))
    assert [r.log_index for r in receipts] == list(range(PROCESSES * EACH))
    assert [r.payload["log_index"] for r in receipts] == list(range(PROCESSES * EACH))
    head = selectors.tree_head_latest()
    leaves = [merkle.leaf_hash(r.jws.encode()) for r in receipts]
    assert head.size == PROCESSES * EACH
    assert bytes(head.root_hash) == reference_root(leaves)
