import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.identity import selectors as identity_selectors
from apps.identity.models import Feature
from apps.memory import services
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem

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


def test_operators_never_see_memory_values(operator_client, health_item):
    changelist = operator_client.get(reverse("admin:memory_memoryitem_changelist")).content.decode()
    change = operator_client.get(
        reverse("admin:memory_memoryitem_change", args=[health_item.pk])
    ).content.decode()

    for page in (changelist, change):
        assert "medication" in page
        assert SECRET not in page
        assert health_item.value_encrypted not in page
        assert "encrypted; only the user can see it" in page


def test_operator_revokes_consent_recording_who_and_why(
    operator_client, operator, user, health_item
):
    consent = ConsentGrant.objects.get(user=user)

    operator_client.post(
        reverse("admin:memory_consentgrant_changelist"),
        {"action": "revoke_on_user_request", ACTION_CHECKBOX_NAME: [str(consent.pk)]},
    )

    consent.refresh_from_db()
    assert not consent.can_read
    assert consent.revoked_by == operator
    assert "user's request" in consent.revoke_reason


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
