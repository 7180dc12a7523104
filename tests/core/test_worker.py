"""Email is sent by a real Celery worker consuming from the real Redis broker."""

import logging
import time

import pytest
from django.core import mail
from django.core.mail import send_mail
from django.db import transaction

from apps.core.tasks import send_email
from tests.conftest import requires_redis

QUEUED = "apps.core.email_backend.CeleryEmailBackend"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def wait_for_outbox(count: int, timeout: float = 15.0) -> list:
    deadline = time.monotonic() + timeout
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return mail.outbox


@pytest.fixture
def queued_email(settings):
    settings.EMAIL_BACKEND = QUEUED
    settings.GERAOS_EMAIL_DELIVERY_BACKEND = LOCMEM


@requires_redis
@pytest.mark.worker
def test_worker_delivers_email_queued_through_redis(queued_email, real_worker):
    send_mail("Welcome", "Hello from GeraOS", None, ["ada@example.com"])

    (message,) = wait_for_outbox(1)
    assert message.subject == "Welcome"
    assert message.to == ["ada@example.com"]


@requires_redis
@pytest.mark.worker
def test_task_result_travels_back_through_the_broker(queued_email, real_worker):
    payload = {
        "subject": "Receipt",
        "body": "Plain",
        "from_email": "ops@gera.example",
        "to": ["buyer@example.com"],
        "cc": [],
        "bcc": [],
        "reply_to": [],
        "headers": {},
        "content_subtype": "plain",
        "alternatives": [["<p>Rich</p>", "text/html"]],
    }

    result = send_email.apply_async(args=[payload], ignore_result=False)

    assert result.get(timeout=15) == 1
    (message,) = mail.outbox
    assert message.alternatives[0].content == "<p>Rich</p>"


@requires_redis
@pytest.mark.worker
def test_a_worker_in_the_test_process_leaves_its_logging_alone(real_worker, caplog):
    logging.getLogger("apps.core.enqueue").warning("task.enqueue_failed, as a test expects")

    assert "task.enqueue_failed, as a test expects" in caplog.text


@pytest.mark.django_db
def test_rolled_back_transaction_sends_nothing(queued_email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                send_mail("Never", "sent", None, ["nobody@example.com"])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_committed_email_is_queued_once(queued_email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_mail("Hello", "there", None, ["ada@example.com"])

    assert len(callbacks) == 1
    assert [m.subject for m in mail.outbox] == ["Hello"]
