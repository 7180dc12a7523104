from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection

from apps.core import idempotency
from apps.core.mail import payload_to_message


@shared_task(
    name="core.send_email",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
)
def send_email(payload: dict) -> int:
    connection = get_connection(backend=settings.GERAOS_EMAIL_DELIVERY_BACKEND)
    return payload_to_message(payload, connection).send()


@shared_task(name="core.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Forget Idempotency-Key outcomes older than 24 hours."""
    return idempotency.purge_expired_records()
