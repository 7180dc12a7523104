"""Issue receipts from a separate process: `python -m tests.trust.issue_many USER_ID COUNT`.
Used by the concurrency tests; DATABASE_URL must name the test database. Each receipt is
only sequenced here: its commit queues the integration (in eager mode, runs it)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from apps.identity.models import User  # noqa: E402
from tests.factories import make_receipt  # noqa: E402

if __name__ == "__main__":
    user = User.objects.get(pk=int(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        make_receipt(user, integrated=False)
