"""System checks a web process runs before it serves.

Django runs system checks in management commands only (never under gunicorn or uvicorn),
and deploy checks only with `check --deploy`. Checks tagged SERVING are deploy checks the
WSGI and ASGI entry points run too (`geraos/wsgi.py`, `asgi.py`; runserver loads the
same application), so a process refuses to serve while one of them fails.
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

SERVING = "serving"


def refuse_to_serve_unless_serving_checks_pass() -> None:
    messages = _in_a_thread(_serving_checks) if _in_an_event_loop() else _serving_checks()
    problems = [message for message in messages if message.is_serious()]
    if problems:
        raise ImproperlyConfigured("\n".join(str(problem) for problem in problems))


def _in_an_event_loop() -> bool:
    """uvicorn imports the application inside its running event loop, where Django
    refuses synchronous database work."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_a_thread(work):
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(work).result()


def _serving_checks() -> list[checks.CheckMessage]:
    with _closing_connections_it_opens():
        return checks.run_checks(tags=[SERVING], include_deployment_checks=True)


@contextmanager
def _closing_connections_it_opens() -> Iterator[None]:
    """A connection opened here would be shared by every worker gunicorn forks after
    loading the application (--preload): closed before that happens."""
    open_before = {db.alias for db in connections.all(initialized_only=True) if db.connection}
    try:
        yield
    finally:
        for db in connections.all(initialized_only=True):
            if db.alias not in open_before:
                db.close()
