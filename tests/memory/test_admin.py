import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.identity import selectors as identity_selectors
from apps.identity.models import Feature
from apps.memory import services
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem
from tests.helpers import audit_trail

pytestmark = pytest.mark.django_db

SECRET = "Takes warfarin daily"


@pytest.fixture
def health_item(user, geraclinic, scope):
    services.consent_set(user=user, product=geraclinic, scope=scope("health"), allow=True)
    return services.memory_write(
        user=user,
        product=geraclinic,
        scope=scope("health"),
        kind="preference",
        key="medication",
        value={"note": SECRET},
    )


def test_operators_never_see_memory_keys_or_values(operator_client, health_item):
    changelist = operator_client.get(reverse("admin:memory_memoryitem_changelist")).content.decode()
    change = operator_client.get(
        reverse("admin:memory_memoryitem_change", args=[health_item.pk])
    ).content.decode()

    for page in (changelist, change):
        assert "medication" not in page
        assert SECRET not in page
        assert health_item.value_encrypted not in page
        assert "encrypted; only the user can see it" in page


def test_operator_revokes_consent_after_giving_a_reason_in_one_audit_event(
    operator_client, operator, user, health_item
):
    consent = ConsentGrant.objects.get(user=user)
    chosen = {"action": "revoke_on_user_request", ACTION_CHECKBOX_NAME: [str(consent.pk)]}
    changelist = reverse("admin:memory_consentgrant_changelist")

    asked = operator_client.post(changelist, chosen).content.decode()
    still_allowed = ConsentGrant.objects.get(pk=consent.pk).can_read
    operator_client.post(changelist, {**chosen, "reason": "the user asked by email"})

    assert 'name="reason"' in asked
    assert still_allowed
    consent.refresh_from_db()
    assert not consent.can_read
    assert (consent.revoked_by, consent.revoke_reason) == (operator, "the user asked by email")
    assert audit_trail() == [
        (
            "memory.consent_revoke",
            f"memory.consentgrant:{consent.pk}",
            {"can_read": [True, False], "can_write": [True, False]},
            "the user asked by email",
            operator,
        )
    ]


def test_a_user_switching_consent_off_writes_no_operator_audit_event(
    user, geraclinic, scope, health_item
):
    services.consent_set(user=user, product=geraclinic, scope=scope("health"), allow=False)

    assert not ConsentGrant.objects.get(user=user).can_read
    assert audit_trail() == []


@pytest.mark.parametrize("model", ["memoryscope", "consentgrant", "accesslogentry", "memoryitem"])
def test_memory_changelists_render_and_search(operator_client, user, health_item, model):
    response = operator_client.get(f"/admin/memory/{model}/?q={user.email}")

    assert response.status_code == 200


def test_scopes_show_their_sensitivity_as_a_badge(operator_client):
    page = operator_client.get("/admin/memory/memoryscope/").content.decode()

    assert '<span class="badge badge-warning">Sensitive</span>' in page
    assert '<span class="badge badge-neutral">Normal</span>' in page


def items_in_use(user) -> int:
    _, summary = identity_selectors.entitlement_summary(user=user)
    return next(entry.used for entry in summary if entry.feature == Feature.MEMORY_ITEMS)


def test_deleting_an_item_in_the_admin_gives_the_users_place_back(
    operator_client, user, health_item
):
    assert items_in_use(user) == 1

    operator_client.post(
        reverse("admin:memory_memoryitem_delete", args=[health_item.pk]), {"post": "yes"}
    )

    assert not MemoryItem.objects.exists()
    assert items_in_use(user) == 0
    erased = AccessLogEntry.objects.get(action=AccessLogEntry.Action.ERASE)
    assert erased.item_ids == [health_item.pk]
    assert erased.purpose.startswith("deleted by operator ")
    # The audit log (which never changes) names the item, never its key.
    assert "medication" not in str(list(AuditEvent.objects.values_list("object_repr")))


def test_deleting_selected_items_gives_each_users_place_back(
    operator_client, user, other_user, geraclinic, scope, health_item
):
    services.consent_set(user=other_user, product=geraclinic, scope=scope("health"), allow=True)
    other = services.memory_write(
        user=other_user,
        product=geraclinic,
        scope=scope("health"),
        kind="preference",
        key="allergy",
        value={"note": "penicillin"},
    )

    operator_client.post(
        reverse("admin:memory_memoryitem_changelist"),
        {
            "action": "delete_selected",
            "post": "yes",
            ACTION_CHECKBOX_NAME: [str(health_item.pk), str(other.pk)],
        },
    )

    assert not MemoryItem.objects.exists()
    assert (items_in_use(user), items_in_use(other_user)) == (0, 0)
