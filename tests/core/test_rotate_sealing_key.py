"""The sealing and lookup keys rotate without losing a secret: `rotate_sealing_key` moves
every sealed value and keyed hash to the new keys, after which the old ones can go."""

import re
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.core import sealing
from apps.dispatch.models import DispatchOrder
from apps.memory import selectors as memory_selectors
from apps.memory import services as memory_services
from apps.memory.models import MemoryItem
from apps.payments.models import Payment
from tests.dispatch.conftest import ANYTIME, Agent
from tests.factories import UserFactory
from tests.helpers import TOTP_SECRET, give_totp, stored_row, totp_code

pytestmark = pytest.mark.django_db

PHONE = "254711223344"
DETAILS = {"problem": "Burst pipe", "address_area": "14 Ngong Road, Kilimani"}


@pytest.fixture
def kenyan(catalog, django_capture_on_commit_callbacks):
    """A Kenyan's M-Pesa dispatch (payer's phone, details) and a memory item, sealed and
    hashed under the test keys."""
    agent = Agent(
        UserFactory(country="KE", preferred_currency=""),
        on_commit=django_capture_on_commit_callbacks,
        scopes=["dispatch:create", "dispatch:read", "memory:write:home"],
    )
    agent.dispatch(text=ANYTIME.replace("Lagos", "Nairobi"), details=DETAILS, payer_account=PHONE)
    remember(agent, {"code": "4417"})
    give_totp(agent.user)
    RecoveryCodes.activate(agent.user)
    return agent


def remember(agent: Agent, value: dict) -> None:
    response = agent.post(
        "/api/v1/memory",
        {"product": "gerahome", "scope": "home", "kind": "preference", "key": "gate_code",
         "value": value},
    )  # fmt: skip
    assert response.status_code == 201, response.json()


def new_keys_first(settings) -> None:
    for name, kid in (("GERAOS_SEALING_KEYS", "k2"), ("GERAOS_LOOKUP_KEYS", "l2")):
        setattr(settings, name, f"{sealing.generate_key_entry(kid)},{getattr(settings, name)}")


def old_keys_dropped(settings) -> None:
    for name in ("GERAOS_SEALING_KEYS", "GERAOS_LOOKUP_KEYS"):
        setattr(settings, name, getattr(settings, name).split(",")[0])


def test_rotation_moves_every_secret_and_hash_to_the_new_keys(settings, kenyan):
    new_keys_first(settings)

    output = StringIO()
    call_command("rotate_sealing_key", stdout=output)

    order = DispatchOrder.objects.get()
    rows = stored_row(DispatchOrder, order.pk) + stored_row(Payment, order.payment_id)
    assert rows.count("v1.k2.") == 3
    assert "v1.test1." not in rows
    assert MemoryItem.objects.get().key_hash.startswith("l2:")
    for authenticator in Authenticator.objects.all():
        assert str(authenticator.data).count("v1.k2.") == 1
    assert "payments.payment.payer_account_sealed: 1" in output.getvalue()
    assert "two-factor secrets: 2" in output.getvalue()
    assert "memory keys' hashes: 1" in output.getvalue()
    assert "Done: the old keys can be dropped." in output.getvalue()


def test_after_rotation_the_old_keys_can_go(settings, kenyan):
    codes = RecoveryCodes.activate(kenyan.user).generate_codes()
    new_keys_first(settings)
    call_command("rotate_sealing_key", stdout=StringIO())

    old_keys_dropped(settings)

    order = DispatchOrder.objects.get()
    assert (order.payer_account, order.details) == (PHONE, DETAILS)
    assert Payment.objects.get().payer_account == PHONE
    totp = Authenticator.objects.get(type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(totp_code(TOTP_SECRET))
    assert RecoveryCodes.activate(kenyan.user).validate_code(codes[0])
    remember(kenyan, {"code": "9021"})  # found by its new hash: replaced, not added
    (item,) = memory_selectors.memory_items_for_user(user=kenyan.user)
    assert (item.key, item.value) == ("gate_code", {"code": "9021"})


def test_before_rotation_values_under_the_old_keys_still_open_and_are_found(settings, kenyan):
    new_keys_first(settings)

    remember(kenyan, {"code": "9021"})

    (item,) = memory_selectors.memory_items_for_user(user=kenyan.user)
    assert item.value == {"code": "9021"}
    assert item.key_hash.startswith("l2:")  # the write moved it
    assert DispatchOrder.objects.get().details == DETAILS


def moved_counts(output: str) -> list[int]:
    return [int(count) for count in re.findall(r": (\d+)$", output, re.MULTILINE)]


def test_a_second_rotation_has_nothing_to_move(settings, kenyan):
    new_keys_first(settings)
    call_command("rotate_sealing_key", stdout=StringIO())

    output = StringIO()
    call_command("rotate_sealing_key", stdout=output)

    assert moved_counts(output.getvalue()) == [0, 0, 0, 0, 0, 0]


def test_a_signed_in_user_stays_signed_in_after_the_old_keys_go(settings, user):
    client = Client()
    client.force_login(user)
    new_keys_first(settings)

    call_command("rotate_sealing_key", stdout=StringIO())
    old_keys_dropped(settings)

    assert client.get(reverse("identity:me")).status_code == 200


def test_a_value_an_old_process_seals_during_the_rotation_fails_it(settings, kenyan, monkeypatch):
    old_keys = settings.GERAOS_SEALING_KEYS
    new_keys_first(settings)
    new_keys, reseal_column = settings.GERAOS_SEALING_KEYS, sealing.reseal_column

    def a_process_not_restarted_seals_meanwhile(model, column, **kwargs):
        moved = reseal_column(model, column, **kwargs)
        if model is Payment:
            settings.GERAOS_SEALING_KEYS = old_keys  # its primary is still the old key
            payment = Payment.objects.get()
            payment.payer_account = "254799000111"
            payment.save(update_fields=["payer_account_sealed"])
            settings.GERAOS_SEALING_KEYS = new_keys
        return moved

    monkeypatch.setattr(sealing, "reseal_column", a_process_not_restarted_seals_meanwhile)
    output = StringIO()

    with pytest.raises(CommandError, match=r"payments\.payment\.payer_account_sealed: 1"):
        call_command("rotate_sealing_key", stdout=output)

    assert "Done" not in output.getvalue()
    assert Payment.objects.get().payer_account == "254799000111"  # still opens: keep the key


def test_a_memory_value_an_old_process_seals_during_the_rotation_fails_it(
    settings, kenyan, monkeypatch
):
    old_keys = settings.GERAOS_MEMORY_KEYS
    settings.GERAOS_MEMORY_KEYS = f"{sealing.generate_key_entry('m2')},{old_keys}"
    new_keys, reencrypt_all = settings.GERAOS_MEMORY_KEYS, memory_services.memory_reencrypt_all

    def a_process_not_restarted_writes_meanwhile():
        moved = reencrypt_all()
        settings.GERAOS_MEMORY_KEYS = old_keys
        remember(kenyan, {"code": "9021"})
        settings.GERAOS_MEMORY_KEYS = new_keys
        return moved

    monkeypatch.setattr(
        memory_services, "memory_reencrypt_all", a_process_not_restarted_writes_meanwhile
    )
    output = StringIO()

    with pytest.raises(CommandError, match="memory items: 1"):
        call_command("rotate_memory_key", stdout=output)

    assert "Done" not in output.getvalue()


def test_generate_prints_a_key_entry_that_seals(settings):
    output = StringIO()

    call_command("rotate_sealing_key", generate="k9", stdout=output)

    settings.GERAOS_SEALING_KEYS = output.getvalue().strip()
    sealed = sealing.seal_text("254711223344", context="c")
    assert sealed.startswith("v1.k9.")
    assert sealing.open_text(sealed, context="c") == "254711223344"
