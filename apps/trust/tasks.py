"""The transparency log's integrator as a Celery task: queued by the commit of the first
receipt issued since the last integration started (`services.issue_receipt`), and run by
beat every 5 s (settings: "trust-integrate-log") in case a queued one was lost."""

from celery import shared_task

from apps.core.transient import RETRY_SOON, TRANSIENT_ERRORS
from apps.trust import integration

# While receipts keep coming, the log signs a checkpoint at most this often, whichever runs
# integrate: larger batches for a little latency (eager mode, in development and tests,
# does not wait).
BATCH_INTERVAL = 0.1


@shared_task(bind=True, name="trust.integrate_log", autoretry_for=TRANSIENT_ERRORS, **RETRY_SOON)
def integrate_log(self) -> int:
    interval = 0.0 if self.request.is_eager else BATCH_INTERVAL
    return integration.integrate_pending(batch_interval=interval)
