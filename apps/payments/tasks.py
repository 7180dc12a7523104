from celery import shared_task

from apps.payments import fx


@shared_task(
    name="payments.import_fx_rates", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def import_fx_rates() -> int:
    return fx.import_rates()
