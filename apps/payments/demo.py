"""Rails in sandbox mode, default routes and demo FX rates, for `manage.py seed_demo`."""

from apps.payments import fx
from apps.payments.models import Rail, RoutingRule
from apps.payments.rails import ensure_default_rails


def seed() -> list[str]:
    ensure_default_rails(Rail, RoutingRule)
    count = fx.import_rates()
    rails = ", ".join(Rail.objects.values_list("name", flat=True))
    return [f"{'payment rails':20} {rails} (sandbox)", f"{'fx rates':20} {count} currencies"]
