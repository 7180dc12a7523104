"""System checks a web process runs before it serves.

Django runs system checks in management commands only (never under gunicorn or uvicorn),
and deploy checks only with `check --deploy`. Checks tagged SERVING are deploy checks the
WSGI and ASGI entry points run too (`geraos/wsgi.py`, `asgi.py`; runserver loads the
same application), so a process refuses to serve while one of them fails.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

SERVING = "serving"


def refuse_to_serve_unless_serving_checks_pass() -> None:
    with _closing_connections_it_opens():
        messages = checks.run_checks(tags=[SERVING], include_deployment_checks=True)
    problems = [message for message in messages if message.is_serious()]
    if problems:
        raise ImproperlyConfigured("\n".join(str(problem) for problem in problems))


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
