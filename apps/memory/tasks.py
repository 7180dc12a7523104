from celery import shared_task

from apps.memory import services


@shared_task(name="memory.purge_expired")
def purge_expired() -> int:
    """Delete memory items past their expiry (reads already ignore them)."""
    return services.memory_purge_expired()
