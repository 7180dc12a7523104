"""Trust's data migrations, run against today's tables."""

from importlib import import_module

import pytest
from django.apps import apps as installed_apps

from apps.trust.models import LogSequence, TransparencyLog
from tests.factories import make_receipt
from tests.trust.test_log import assert_each_checkpoint_extends_the_one_before

pytestmark = pytest.mark.django_db
log_sequence = import_module("apps.trust.migrations.0010_log_sequence")


def test_a_log_whose_receipts_were_integrated_as_issued_is_sequenced_on_from_its_last(user):
    for _ in range(3):
        make_receipt(user)
    LogSequence.objects.all().delete()  # as it was before the migration

    log_sequence.sequence_from_the_log(installed_apps, None)

    assert LogSequence.objects.get().next_index == 3
    assert make_receipt(user).log_index == 3
    assert assert_each_checkpoint_extends_the_one_before() == [1, 2, 3, 4]


def test_an_empty_log_starts_at_index_zero(db):
    log_sequence.sequence_from_the_log(installed_apps, None)

    assert LogSequence.objects.get().next_index == 0
    assert TransparencyLog.objects.get().size == 0
