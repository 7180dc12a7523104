"""Email leaves the request: messages are queued on commit and sent by a Celery worker.

Django (allauth, password resets, admin) sends through EMAIL_BACKEND; this backend turns
each message into a JSON payload and the `core.send_email` task hands it to the real
backend named by GERAOS_EMAIL_DELIVERY_BACKEND. A rolled-back transaction sends nothing.
"""

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from apps.core.mail import message_to_payload
from apps.core.tasks import send_email


class CeleryEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        for message in email_messages:
            send_email.delay_on_commit(message_to_payload(message))
        return len(email_messages)
