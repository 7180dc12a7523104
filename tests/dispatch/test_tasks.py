"""Celery settings the pipeline's recovery depends on, and nothing published on rollback."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import DataError, IntegrityError, ProgrammingError, transaction

import apps.dispatch.tasks
import apps.payments.tasks
from apps.core.transient import TRANSIENT_ERRORS
from apps.dispatch import callbacks, outbound, selectors, services
from apps.dispatch.models import DispatchOrder
from geraos.celery import app as celery_app
from tests.dispatch.conftest import LEAK, PLUMBER
from tests.factories import UserFactory


def longest_wait(task) -> int:
    """The longest a message of this task can sit unacknowledged on a worker: its hard
    time limit plus its longest retry countdown (acks_late holds it while waiting)."""
    limit = task.time_limit or celery_app.conf.task_time_limit
    if getattr(task, "retry_backoff", False):
        countdown = getattr(task, "retry_backoff_max", 600)  # Celery's default maximum
    else:
        countdown = task.default_retry_delay
    return limit + countdown


def test_the_visibility_timeout_outlasts_every_task():
    # Redis redelivers an unacknowledged message after the visibility timeout; were it
    # shorter than a task's run or countdown, a healthy task would run twice (celery#4976).
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = [t for name, t in celery_app.tasks.items() if not name.startswith("celery.")]

    assert {"dispatch.fulfil", "dispatch.capture", "dispatch.resume_stuck"} <= {
        t.name for t in ours
    }
    assert all(longest_wait(task) < visibility for task in ours), [
        (task.name, longest_wait(task)) for task in ours if longest_wait(task) >= visibility
    ]


def test_every_pipeline_and_payments_task_retries_a_database_or_broker_that_blinked():
    ours = [
        task
        for name, task in celery_app.tasks.items()
        if name.startswith(("dispatch.", "payments."))
    ]
    refusals = (IntegrityError, DataError, ProgrammingError)

    assert {"dispatch.fulfil", "payments.reconcile", "payments.sandbox_pix_pay"} <= {
        task.name for task in ours
    }
    for task in ours:
        retried = tuple(getattr(task, "autoretry_for", ()))
        assert all(issubclass(error, retried) for error in TRANSIENT_ERRORS), task.name
        assert not any(issubclass(error, retried) for error in refusals), task.name
        assert task.max_retries, task.name


def test_the_stuck_order_sweep_runs_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE["dispatch-resume-stuck"]

    assert schedule["task"] == "dispatch.resume_stuck"
    assert schedule["schedule"] <= selectors.STUCK_AFTER.total_seconds()


def test_the_lost_callback_sweep_waits_out_a_deliverys_own_retries_and_its_whole_budget():
    deliver = apps.dispatch.tasks.deliver_callback
    pauses = [
        min(2 ** (attempt + 1), deliver.retry_backoff_max) for attempt in range(deliver.max_retries)
    ]
    posts = (deliver.max_retries + 1) * dt.timedelta(seconds=outbound.TIMEOUT_SECONDS)
    budget = dt.timedelta(seconds=sum(pauses)) + posts
    schedule = settings.CELERY_BEAT_SCHEDULE["dispatch-resume-lost-callbacks"]

    assert schedule["task"] == "dispatch.resume_lost_callbacks"
    assert schedule["schedule"] <= selectors.CALLBACK_LOST_AFTER.total_seconds()
    # Never taken up while its own next attempt is on the way,
    longest_pause = dt.timedelta(seconds=deliver.retry_backoff_max + outbound.TIMEOUT_SECONDS)
    assert longest_pause < selectors.CALLBACK_LOST_AFTER
    # and never given up before one whose task was lost once has spent its budget.
    assert budget + selectors.CALLBACK_LOST_AFTER < callbacks.GIVE_UP_AFTER


@pytest.mark.django_db
def test_a_rolled_back_dispatch_publishes_nothing(
    catalog, wednesday_morning, django_capture_on_commit_callbacks
):
    user = UserFactory(country="GB", preferred_currency="GBP")

    def dispatch_then_fail():
        with transaction.atomic():
            services.dispatch_create(
                user=user, grant=None, text=PLUMBER, details=LEAK, idempotency_key="rolled-back"
            )
            raise RuntimeError("the surrounding work failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as published,
        pytest.raises(RuntimeError),
    ):
        dispatch_then_fail()

    assert published == []
    assert not DispatchOrder.objects.exists()
