"""Sandbox can never reach production: a deploy check, run by `check --deploy` and by
the web entry points before they serve (apps.core.checks.SERVING)."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from apps.core.checks import SERVING
from apps.payments import selectors


@checks.register(checks.Tags.security, SERVING, deploy=True)
def sandbox_rails_not_allowed(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.GERAOS_SANDBOX_ALLOWED:
        return []
    # Reads the database although no `databases` were passed: which rails are in sandbox
    # is data, and a deploy check runs where the deployment's database is.
    try:
        sandboxed = selectors.sandbox_rail_names()
    except DatabaseError:
        # Before `migrate` there is no rail table, so no rail in sandbox; a database out
        # of reach cannot say, and the adapters refuse sandbox rails when used anyway.
        return []
    if not sandboxed:
        return []
    return [
        checks.Error(
            f"Rails are in sandbox mode but sandbox is not allowed here: {', '.join(sandboxed)}.",
            hint="Sandbox rails run simulators and believe a webhook secret published in the "
            "source. Give each rail its credentials and clear its sandbox flag (Payments -> "
            "Rails, once with GERAOS_SANDBOX_ALLOWED=true to reach the admin), or set "
            "GERAOS_SANDBOX_ALLOWED=true if this deployment is a sandbox on purpose.",
            id="payments.E001",
        )
    ]
