"""The transparency log's integrator as a Celery task: queued by the commit of the first
receipt issued since the last integration started (`services.issue_receipt`), and run by
beat every GERAOS_LOG_INTEGRATION_PERIOD seconds in case a queued one was lost."""

from celery import shared_task

from apps.core.transient import RETRY_SOON, TRANSIENT_ERRORS
from apps.trust import integration


@shared_task(name="trust.integrate_log", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def integrate_log() -> int:
    return integration.integrate_pending()
