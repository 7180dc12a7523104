"""Test settings: the production settings, with a throw-away secret and plain HTTP.

`make test` points DATABASE_URL and REDIS_URL at throw-away PostgreSQL and Redis servers;
without them the suite runs on SQLite and local memory, skipping what needs Redis.
"""

import os

from tests.keys import new_oidc_key

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("GERAOS_TRUST_KEY_SECRET", "dGVzdC1vbmx5LXRydXN0LXNlYWxpbmcta2V5LTMyYnk")
os.environ.setdefault("GERAOS_MEMORY_KEYS", "test1:dGVzdC1vbmx5LW1lbW9yeS1rZXktMzItYnl0ZXMhISE")
os.environ.setdefault("GERAOS_SEALING_KEYS", "test1:dGVzdC1vbmx5LXNlYWxpbmcta2V5LTMyLWJ5dGVzISE")
os.environ.setdefault("GERAOS_LOOKUP_KEYS", "test1:dGVzdC1vbmx5LWxvb2t1cC1rZXktMzItYnl0ZXMhISE")
# The ID-token key: made for this run (processes the suite starts inherit it).
if "GERAOS_OIDC_PRIVATE_KEY" not in os.environ:
    os.environ["GERAOS_OIDC_PRIVATE_KEY"] = new_oidc_key()

from geraos.settings import *  # noqa: F403

# Tests reach the site over plain HTTP on the test client's host.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Serve static files from the finders; tests never run collectstatic.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Tasks run in-process unless a test starts a real worker (see tests/core/test_worker.py);
# worker processes started by tests and benchmarks set GERAOS_TEST_EAGER=false.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("GERAOS_TEST_EAGER", "true") == "true"

# Tests call the API far faster than any agent may; tests/core/test_throttling.py checks
# the limits themselves.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"caller": "100000/min", "money": "100000/min"},
}

# Tests seed the demo data (tests/core/test_seed_demo.py checks the production refusal).
GERAOS_DEMO_ALLOWED = True

# The suite's rails are sandbox rails (tests/payments/test_sandbox.py checks the refusal).
GERAOS_SANDBOX_ALLOWED = True

# Fake providers and agents listen on this machine (tests/dispatch/test_outbound.py
# checks the production refusal).
GERAOS_OUTBOUND_PRIVATE_ALLOWED = True

# The rails' callback secrets (in DEBUG they have development defaults).
IDRAM_SECRET_KEY = "test-idram-secret"
UPI_WEBHOOK_SECRET = "test-upi-secret"
