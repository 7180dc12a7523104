"""Queue a task once the transaction commits, without letting a broker outage fail the
request that committed the work."""

import functools
import logging

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args: str) -> None:
    """`task.delay(*args)` after commit. If the broker cannot be reached, the work is
    already in the database and a sweep queues it once the broker is back
    (`dispatch.resume_stuck`, `payments.reconcile_stuck`): the request still succeeds."""
    transaction.on_commit(functools.partial(_enqueue, task, args))


def _enqueue(task, args: tuple[str, ...]) -> None:
    try:
        task.delay(*args)
    except OperationalError as exc:
        logger.warning(
            "task.enqueue_failed task=%s args=%s: broker unreachable (%s); left for the sweep",
            task.name,
            list(args),
            exc,
        )
