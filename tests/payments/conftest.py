import pytest

from apps.payments import fx
from apps.payments.models import Rail, RoutingRule
from apps.payments.rails import ensure_default_rails


@pytest.fixture(autouse=True)
def rails_and_rates(db):
    ensure_default_rails(Rail, RoutingRule)
    fx.import_rates()
