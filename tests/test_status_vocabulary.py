"""Every status a person reads has one label and one tone, declared beside its choices; a
new status field without them fails here."""

import pytest
from django.apps import apps

from apps.catalog.models import Skill
from apps.core.models import IdempotencyRecord
from apps.core.status import StatusVocabulary, Tone
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import CallbackDelivery, DispatchOrder
from apps.identity.models import AgentGrant, Subscription
from apps.memory import policy
from apps.memory.models import MemoryScope
from apps.payments.models import Payment, Refund
from apps.trust import services as trust_services
from apps.trust.models import Dispute, Receipt, SigningKey

STORED = {
    (DispatchOrder, "status"): DispatchOrder.statuses,
    (CallbackDelivery, "status"): CallbackDelivery.statuses,
    (Payment, "status"): Payment.statuses,
    (Refund, "status"): Refund.statuses,
    (Dispute, "status"): Dispute.statuses,
    (Receipt, "resolution"): Receipt.resolutions,
    (SigningKey, "status"): SigningKey.statuses,
    (Subscription, "status"): Subscription.statuses,
    (Skill, "status"): Skill.statuses,
    (MemoryScope, "sensitivity"): MemoryScope.sensitivities,
}
# Read from other fields, never stored.
DERIVED = {"agent grant state": AgentGrant.states, "memory read standing": policy.READ_STANDINGS}
# Bookkeeping no page shows.
NEVER_SHOWN = {(IdempotencyRecord, "status")}
STATE_FIELDS = {"status", "resolution", "sensitivity"}

VOCABULARIES = {
    **{f"{model.__name__}.{field}": vocabulary for (model, field), vocabulary in STORED.items()},
    **DERIVED,
}


@pytest.mark.parametrize(("model", "field"), list(STORED), ids=lambda v: getattr(v, "__name__", v))
def test_a_stored_status_uses_its_vocabularys_choices(model, field):
    assert model._meta.get_field(field).choices == STORED[(model, field)].choices.choices


def test_every_status_field_of_every_model_has_a_vocabulary():
    state_fields = {
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.name in STATE_FIELDS and getattr(field, "choices", None)
    }

    assert state_fields == set(STORED) | NEVER_SHOWN


@pytest.mark.parametrize("vocabulary", VOCABULARIES.values(), ids=VOCABULARIES.keys())
def test_every_value_has_a_label_in_words_and_a_tone(vocabulary: StatusVocabulary):
    for value, label in vocabulary.choices.choices:
        assert label[0].isupper(), label
        assert "_" not in label
        assert label != value
        assert vocabulary.tones[value] in Tone


def test_every_resolution_a_receipt_is_signed_with_has_a_label():
    written = {*dispatch_services.RESOLUTIONS.values(), *trust_services.DISPUTE_OUTCOMES.values()}

    assert written <= set(Receipt.Resolution.values)


def test_one_label_wears_one_tone_everywhere():
    tones: dict[str, dict[str, str]] = {}
    for name, vocabulary in VOCABULARIES.items():
        for value, label in vocabulary.choices.choices:
            tones.setdefault(label, {})[name] = str(vocabulary.tones[value])

    assert {label: seen for label, seen in tones.items() if len(set(seen.values())) > 1} == {}


def test_a_value_outside_the_choices_shows_as_it_is():
    assert str(Receipt.resolutions.badge("refund_partial")) == (
        '<span class="badge badge-neutral">refund_partial</span>'
    )
