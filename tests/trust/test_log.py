"""The transparency log sequences a receipt as it is issued and integrates receipts in
batches: one signed checkpoint per batch, each consistent with the one before, resuming
from the tree it has, and soon after the commit that issued them."""

import logging
from itertools import pairwise

import pytest
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from apps.trust import integration, jose, merkle, selectors, tasks
from apps.trust.models import LogNode, Receipt, SigningKey, TreeHead
from tests.factories import make_receipt
from tests.trust.test_merkle import reference_root

pytestmark = pytest.mark.django_db


def sequenced(user, count: int) -> list[Receipt]:
    return [make_receipt(user, integrated=False) for _ in range(count)]


def leaves(receipts) -> list[bytes]:
    return [merkle.leaf_hash(receipt.jws.encode()) for receipt in receipts]


def assert_each_checkpoint_extends_the_one_before() -> list[int]:
    """Every tree head is signed, and proven consistent with the one before; their sizes."""
    heads = list(TreeHead.objects.order_by("size"))
    for head in heads:
        key = SigningKey.objects.get(kid=head.kid)
        _, size, root = jose.checkpoint_verify(
            head.checkpoint, name=settings.GERAOS_LOG_ORIGIN, public_key=bytes(key.public_key)
        )
        assert (size, root) == (head.size, bytes(head.root_hash))
    for first, second in pairwise(heads):
        proof = selectors.consistency_proof(first=first.size, second=second.size)
        assert merkle.verify_consistency(
            first.size, second.size, bytes(first.root_hash), bytes(second.root_hash), proof
        ), (first.size, second.size)
    return [head.size for head in heads]


def test_issuing_sequences_and_one_checkpoint_is_signed_for_the_whole_batch(user):
    receipts = sequenced(user, 5)
    assert [r.log_index for r in receipts] == [0, 1, 2, 3, 4]
    assert not TreeHead.objects.exists()
    assert not LogNode.objects.exists()

    head = integration.integrate()

    assert head.size == 5
    assert list(TreeHead.objects.values_list("size", flat=True)) == [5]
    assert bytes(head.root_hash) == reference_root(leaves(receipts))
    for receipt in receipts:
        proven_head, proof = selectors.receipt_proof(receipt=receipt)
        assert proven_head == head
        leaf = merkle.leaf_hash(receipt.jws.encode())
        assert merkle.verify_inclusion(leaf, receipt.log_index, 5, proof, bytes(head.root_hash))


class LaterStepFailed(Exception):
    pass


def issue_in_a_transaction_that_fails(user) -> None:
    with transaction.atomic():
        make_receipt(user, integrated=False)
        raise LaterStepFailed


def test_an_index_a_rollback_gives_back_is_the_next_receipts(user):
    make_receipt(user)
    with pytest.raises(LaterStepFailed):
        issue_in_a_transaction_that_fails(user)

    after = make_receipt(user)

    indexes = Receipt.objects.order_by("log_index").values_list("log_index", flat=True)
    assert list(indexes) == [0, 1]
    assert after.log_index == after.payload["log_index"] == 1


def test_each_checkpoint_is_consistent_with_the_one_before(user):
    receipts = []
    for batch in (1, 3, 4, 7, 1, 16, 2):
        receipts += sequenced(user, batch)
        integration.integrate()

    assert assert_each_checkpoint_extends_the_one_before() == [1, 4, 8, 15, 16, 32, 34]
    assert bytes(selectors.tree_head_latest().root_hash) == reference_root(leaves(receipts))


def test_integration_resumes_from_the_size_the_tree_has(user):
    receipts = sequenced(user, 5)

    assert integration.integrate(limit=3).size == 3
    assert integration.integrate(limit=3).size == 5
    assert integration.integrate() is None

    assert assert_each_checkpoint_extends_the_one_before() == [3, 5]
    assert LogNode.objects.filter(level=0).count() == 5
    assert bytes(selectors.tree_head_latest().root_hash) == reference_root(leaves(receipts))


def test_with_nothing_sequenced_integration_signs_nothing(user):
    make_receipt(user)

    assert integration.integrate() is None
    assert TreeHead.objects.count() == 1


def test_the_commit_that_issues_a_receipt_integrates_it_in_eager_mode(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = make_receipt(user, integrated=False)

    assert selectors.receipt_proof(receipt=receipt)[0].size == 1


def test_one_integration_is_queued_for_the_receipts_committed_before_it_starts(
    user, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.integrate_log, "delay", lambda: queued.append("run"))

    with django_capture_on_commit_callbacks(execute=True):
        sequenced(user, 3)
    assert queued == ["run"]

    tasks.integrate_log()  # it starts: what commits next queues another
    with django_capture_on_commit_callbacks(execute=True):
        sequenced(user, 1)
    assert queued == ["run", "run"]


def test_beat_integrates_receipts_whose_commit_queued_nothing(user):
    receipts = sequenced(user, 3)  # this test's transaction never commits: nothing queued
    entry = settings.CELERY_BEAT_SCHEDULE["trust-integrate-log"]

    tasks.integrate_log.apply()

    assert entry["task"] == tasks.integrate_log.name
    assert entry["schedule"] <= settings.GERAOS_LOG_MAX_INTEGRATION_DELAY / 2
    assert all(selectors.receipt_proof(receipt=r) for r in receipts)


def test_a_broker_out_of_reach_fails_no_issuing_and_leaves_the_receipt_to_beat(
    user, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def unreachable():
        raise BrokerUnreachable("Connection refused")

    monkeypatch.setattr(tasks.integrate_log, "delay", unreachable)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        receipt = make_receipt(user, integrated=False)

    assert Receipt.objects.filter(pk=receipt.pk).exists()
    assert "task.enqueue_failed task=trust.integrate_log" in caplog.text
    tasks.integrate_log.apply()
    assert selectors.receipt_proof(receipt=receipt) is not None
