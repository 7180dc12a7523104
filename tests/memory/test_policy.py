"""The consent policy, as a matrix: scope sensitivity x writer x consent x plan."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from apps.identity import selectors as identity_selectors
from apps.identity import services as identity_services
from apps.identity.errors import QuotaExceeded
from apps.identity.models import Feature, PlanEntitlement
from apps.memory import selectors, services
from apps.memory.errors import ConsentRequired
from apps.memory.models import AccessLogEntry, MemoryItem, MemoryScope
from apps.memory.tasks import purge_expired
from tests.factories import UserFactory, put_on_plan
from tests.factories import product as make_product

pytestmark = pytest.mark.django_db


def write(user, product, scope, key="k"):
    return services.memory_write(
        user=user, product=product, scope=scope, kind="preference", key=key, value={"v": key}
    )


def items_in_use(user) -> int:
    _, summary = identity_selectors.entitlement_summary(user=user)
    return next(entry.used for entry in summary if entry.feature == Feature.MEMORY_ITEMS)


def readable_keys(user, product, scope) -> set[str] | str:
    try:
        return {item.key for item in services.memory_read(user=user, product=product, scope=scope)}
    except ConsentRequired:
        return "refused"


@pytest.mark.parametrize(
    ("scope_code", "consent", "plan", "expected"),
    [
        # normal scope: own items by default; others' only with consent AND Studio
        ("preferences", None, "free", {"home-key"}),
        ("preferences", True, "free", {"home-key"}),
        ("preferences", True, "studio", {"home-key", "clinic-key"}),
        ("preferences", False, "studio", "refused"),
        # sensitive scope: nothing without consent, whatever the plan
        ("health", None, "studio", "refused"),
        ("health", True, "free", {"home-key"}),
        ("health", True, "studio", {"home-key", "clinic-key"}),
        ("health", False, "free", "refused"),
    ],
)
def test_policy_matrix(user, gerahome, geraclinic, scope, scope_code, consent, plan, expected):
    target = scope(scope_code)
    # Products write a sensitive scope only with consent: a user who said nothing has no
    # items there (and is refused before any item is looked at).
    if consent is not None or not target.is_sensitive:
        for product, key in ((gerahome, "home-key"), (geraclinic, "clinic-key")):
            if target.is_sensitive:
                services.consent_set(user=user, product=product, scope=target, allow=True)
            write(user, product, target, key)
    if consent is not None:
        services.consent_set(user=user, product=gerahome, scope=target, allow=consent)
    if plan == "studio":
        put_on_plan(user, "studio")

    assert readable_keys(user, gerahome, target) == expected


def test_sensitive_scope_refuses_writes_without_consent(user, gerahome, scope):
    with pytest.raises(ConsentRequired) as refused:
        write(user, gerahome, scope("health"))

    assert refused.value.extra == {"product": "gerahome", "scope": "health", "action": "write"}
    assert AccessLogEntry.objects.get().allowed is False


def test_every_read_is_logged_with_items_and_purpose(user, gerahome, scope):
    item = write(user, gerahome, scope("home"))

    services.memory_read(user=user, product=gerahome, scope=scope("home"), purpose="booking")

    entry = AccessLogEntry.objects.filter(action="read").get()
    assert (entry.allowed, entry.item_ids, entry.purpose) == (True, [item.pk], "booking")


def test_refused_read_is_logged(user, geraclinic, scope):
    with pytest.raises(ConsentRequired):
        services.memory_read(user=user, product=geraclinic, scope=scope("health"))

    entry = AccessLogEntry.objects.get()
    assert (entry.action, entry.allowed, entry.product) == ("read", False, geraclinic)


def test_one_user_never_reads_another_users_memory(user, other_user, gerahome, scope):
    write(other_user, gerahome, scope("home"), "theirs")
    put_on_plan(user, "studio")
    services.consent_set(user=user, product=gerahome, scope=scope("home"), allow=True)

    assert readable_keys(user, gerahome, scope("home")) == set()


def test_memory_items_count_against_the_plan(user, gerahome, scope):
    PlanEntitlement.objects.filter(plan__code="free", feature=Feature.MEMORY_ITEMS).update(quota=1)
    write(user, gerahome, scope("home"), "first")
    write(user, gerahome, scope("home"), "first")  # replacing an item is not a new one

    with pytest.raises(QuotaExceeded):
        write(user, gerahome, scope("home"), "second")


def test_deleting_an_item_twice_gives_its_place_back_once(user, gerahome, scope):
    write(user, gerahome, scope("home"), "stays")
    gone = write(user, gerahome, scope("home"), "deleted")
    # Two requests (a double submit) that both found the item before either deleted it.
    found_twice = [selectors.memory_item_get(user=user, item_id=gone.pk) for _ in range(2)]

    for item in found_twice:
        services.memory_item_delete(user=user, item=item)

    assert items_in_use(user) == 1


def test_two_summaries_in_the_same_microsecond_are_both_kept(user, gerahome, monkeypatch):
    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)

    for text in ("Booked a plumber.", "Asked about the boiler."):
        services.memory_append_summary(user=user, product=gerahome, summary=text)

    assert MemoryItem.objects.filter(user=user, kind="conversation_summary").count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_a_key_created_by_a_concurrent_write_is_replaced(monkeypatch):
    user, gerahome = UserFactory(), make_product("gerahome")
    home = MemoryScope.objects.get(code="home")
    consume = identity_services.require_entitlement

    def concurrent_write() -> None:
        try:
            write(user, gerahome, home, "boiler")
        finally:
            connection.close()

    def other_write_commits_first(**kwargs) -> None:
        # Runs after this write found no item under the key and before it inserts one.
        monkeypatch.setattr(identity_services, "require_entitlement", consume)
        other = threading.Thread(target=concurrent_write)
        other.start()
        other.join()
        consume(**kwargs)

    monkeypatch.setattr(identity_services, "require_entitlement", other_write_commits_first)

    services.memory_write(
        user=user, product=gerahome, scope=home, kind="preference", key="boiler", value="ours"
    )

    (item,) = selectors.memory_items_for_user(user=user)
    assert item.value == "ours"
    assert items_in_use(user) == 1


def test_expired_items_are_not_read_and_are_purged(user, gerahome, scope):
    write(user, gerahome, scope("home"), "stays")
    gone = write(user, gerahome, scope("home"), "expires")
    MemoryItem.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - dt.timedelta(1))

    assert readable_keys(user, gerahome, scope("home")) == {"stays"}
    assert purge_expired.delay().get() == 1
    assert [item.key for item in selectors.memory_items_for_user(user=user)] == ["stays"]
