"""The Celery application. Configuration comes from Django settings (CELERY_ prefix)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geraos.settings")

app = Celery("geraos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def patient_publishing_in_workers(**_signal) -> None:
    from django.conf import settings

    app.conf.task_publish_retry_policy = settings.GERAOS_WORKER_PUBLISH_RETRY_POLICY
