"""An integrator killed mid-batch: `python -m tests.trust.integrate_and_die`. It hashes
the waiting receipts into the tree and is killed (SIGKILL) as it signs the checkpoint,
its transaction still open. DATABASE_URL must name the test database."""

import os
import signal

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from apps.trust import integration, jose  # noqa: E402


def killed(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    jose.checkpoint_sign = killed
    integration.integrate()
