from celery import shared_task

NOOP_TASK = "loadtest.noop"


@shared_task(name=NOOP_TASK)
def noop() -> None:
    """Does nothing: how many of these 2 workers run a second is what Celery and the broker
    allow at most, the yardstick for the dispatch pipeline's rate."""
