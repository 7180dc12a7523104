"""/me/memory/: the consent grid, items with edit and delete, the access log, export
and erasure."""

import json

import pytest
from django.urls import reverse

from apps.memory import selectors, services
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_item(user, gerahome, scope):
    return services.memory_write(
        user=user,
        product=gerahome,
        scope=scope("home"),
        kind="preference",
        key="boiler",
        value={"make": "Ideal"},
    )


def test_page_shows_grid_items_and_plain_language_log(
    user_client, user, gerahome, home_item, scope
):
    services.memory_read(
        user=user, product=gerahome, scope=scope("home"), purpose="booking a plumber"
    )

    page = user_client.get(reverse("memory:home")).content.decode()

    assert "Let GeraHome use Health" in page
    assert "boiler" in page
    assert "Ideal" in page
    assert "GeraHome read Home on" in page
    assert "booking a plumber" in page


def test_toggle_without_javascript_sets_consent(user_client, user, geraclinic, scope):
    response = user_client.post(
        reverse("memory:consent"), {"product": "geraclinic", "scope": "health", "allow": "1"}
    )

    assert response.status_code == 302
    consent = ConsentGrant.objects.get(user=user, product=geraclinic, scope=scope("health"))
    assert consent.can_read
    assert consent.can_write


def test_toggle_with_javascript_answers_json(user_client, geraclinic):
    response = user_client.post(
        reverse("memory:consent"),
        {"product": "geraclinic", "scope": "health", "allow": "0"},
        HTTP_ACCEPT="application/json",
    )

    assert response.json() == {
        "product": "geraclinic",
        "scope": "health",
        "state": "off",
        "label": "Off",
        "tone": "danger",
    }


def test_each_cell_and_sensitive_scope_shows_its_state_as_a_badge(user_client, geraclinic):
    user_client.post(
        reverse("memory:consent"), {"product": "geraclinic", "scope": "home", "allow": "1"}
    )

    page = user_client.get(reverse("memory:home")).content.decode()

    assert '<span class="badge badge-warning">Sensitive</span>' in page
    assert '<span class="badge badge-success">On</span>' in page  # GeraClinic, Home
    assert '<span class="badge badge-danger">Off</span>' in page  # Health: sensitive
    assert '<span class="badge badge-neutral">Own items only</span>' in page


def test_unknown_cell_changes_nothing(user_client):
    response = user_client.post(
        reverse("memory:consent"),
        {"product": "nope", "scope": "health", "allow": "1"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert not ConsentGrant.objects.exists()


def test_nul_in_a_consent_cell_is_refused_without_a_server_error(user_client, gerahome):
    user_client.raise_request_exception = False

    response = user_client.post(
        reverse("memory:consent"), {"product": "gera\x00home", "scope": "home", "allow": "1"}
    )

    assert response.status_code < 500
    assert not ConsentGrant.objects.exists()


def test_edit_and_delete_an_item(user_client, user, home_item):
    user_client.post(
        reverse("memory:item-edit", args=[home_item.pk]), {"value": '{"make": "Baxi"}'}
    )
    assert selectors.memory_item_get(user=user, item_id=home_item.pk).value == {"make": "Baxi"}

    user_client.post(reverse("memory:item-delete", args=[home_item.pk]))
    user_client.post(reverse("memory:item-delete", args=[home_item.pk]))  # a double submit
    assert not MemoryItem.objects.exists()
    erased = AccessLogEntry.objects.get(action=AccessLogEntry.Action.ERASE)
    assert (erased.scope.code, erased.item_ids) == ("home", [home_item.pk])
    page = user_client.get(reverse("memory:home")).content.decode()
    assert "An item of Home was deleted on" in page
    assert "deleted at the user&#x27;s request" in page


def test_invalid_json_edit_changes_nothing(user_client, user, home_item):
    response = user_client.post(
        reverse("memory:item-edit", args=[home_item.pk]), {"value": "{broken"}, follow=True
    )

    assert "Not valid JSON" in response.content.decode()
    assert selectors.memory_item_get(user=user, item_id=home_item.pk).value == {"make": "Ideal"}


def test_another_users_item_is_not_found(user_client, other_user, gerahome, scope):
    theirs = services.memory_write(
        user=other_user,
        product=gerahome,
        scope=scope("home"),
        kind="preference",
        key="x",
        value={"x": 1},
    )

    assert (
        user_client.post(reverse("memory:item-edit", args=[theirs.pk]), {"value": "{}"}).status_code
        == 404
    )
    assert user_client.post(reverse("memory:item-delete", args=[theirs.pk])).status_code == 404
    assert MemoryItem.objects.filter(pk=theirs.pk).exists()


def test_export_contains_exactly_the_users_items(
    user_client, user, other_user, gerahome, scope, home_item
):
    services.memory_write(
        user=other_user,
        product=gerahome,
        scope=scope("home"),
        kind="preference",
        key="not-mine",
        value={"x": 1},
    )

    response = user_client.get(reverse("memory:export"))

    assert "attachment" in response["Content-Disposition"]
    exported = json.loads(response.content)
    assert [(i["key"], i["value"]) for i in exported["items"]] == [("boiler", {"make": "Ideal"})]


def test_erase_needs_confirmation_then_deletes_every_item_and_logs_it(
    user_client, user, gerahome, home_item, scope
):
    services.memory_read(user=user, product=gerahome, scope=scope("home"))

    unconfirmed = user_client.post(reverse("memory:erase"), {})
    assert unconfirmed.status_code == 200
    assert MemoryItem.objects.filter(user=user).exists()

    user_client.post(reverse("memory:erase"), {"confirm": "on"})

    assert not MemoryItem.objects.filter(user=user).exists()
    # The access log is evidence: it keeps the read, and the erasure after it.
    log = AccessLogEntry.objects.filter(user=user).order_by("at", "pk")
    assert [entry.action for entry in log] == ["write", "read", "erase"]


@pytest.mark.parametrize(
    "typed",
    ["NaN", "1e400", "1" * 5000, "[" * 100_000, "x" * 20_000, '"\\ud800"'],
    ids=str.__len__,
)
def test_json_memory_could_not_keep_is_refused_on_the_page(user, user_client, home_item, typed):
    user_client.raise_request_exception = False

    response = user_client.post(reverse("memory:item-edit", args=[home_item.pk]), {"value": typed})

    assert response.status_code == 302
    assert selectors.memory_item_get(user=user, item_id=home_item.pk).value == {"make": "Ideal"}
