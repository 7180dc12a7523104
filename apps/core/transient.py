"""Errors that say "not now" rather than "no": PostgreSQL or Redis dropped a connection (a
restart, a failover) or PostgreSQL rolled a transaction back to break a deadlock. Every
pipeline and payments task retries them a few seconds later; its step is idempotent (it
rechecks where it is under a lock, and rails and providers are asked again with the same
idempotency key, or, a rail that has none, not at all), so running it again is safe
(docs/DESIGN.md "Transient failures")."""

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS = (
    # Django wraps the driver's errors: a refused or terminated connection, a deadlock, a
    # serialization failure or a lock timeout is an OperationalError; a connection the
    # server closed is an InterfaceError when next used. Never IntegrityError, DataError
    # or ProgrammingError: those say "no", and would say it again.
    OperationalError,
    InterfaceError,
    # The broker still unreachable once publishing a task gave up retrying.
    kombu.exceptions.OperationalError,
    # The cache (the sandbox rails keep their state there). BusyLoadingError, which Redis
    # answers while it loads its data after a restart, is a ConnectionError.
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

# For tasks with no retry schedule of their own: about 1, 2, 4... seconds (jittered), as
# a restart takes a second or two; longer outages are left to the stuck-order sweep.
RETRY_SOON = {"max_retries": 8, "retry_backoff": 1, "retry_backoff_max": 60, "retry_jitter": True}


def retry_as_next_attempt(task, error: Exception, subject_id: str, *, attempt: int) -> str:
    """Ask the rail, provider or receiver that failed again after an exponential backoff,
    as a new message carrying the next attempt's number, which the task gives up on,
    rather than as a Celery retry: Celery's retry count, which sets the backoff and the
    limit for a blip (autoretry_for TRANSIENT_ERRORS), then counts only the blips since
    this attempt, so a blip neither spends an attempt nor waits as long as a late attempt
    would. In eager mode (the zero-setup default) the next attempt runs at once and its
    outcome is returned."""
    longest = getattr(task, "retry_backoff_max", 600)  # 600 s: Celery's default
    queued = task.apply_async(
        args=[subject_id],
        kwargs={"attempt": attempt + 1},
        countdown=min(2 ** (attempt + 1), longest),
    )
    if task.request.is_eager:  # already run: nothing to wait for
        return queued.get(disable_sync_subtasks=False)
    return f"attempt {attempt + 1} queued: {error}"
