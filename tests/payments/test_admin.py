import datetime as dt
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from apps.core.errors import ApplicationError
from apps.core.models import AuditEvent
from apps.payments import lifecycle, quotes, refunds
from apps.payments.models import Payment, ProviderEvent, Rail, Refund
from tests.factories import UserFactory, make_payment
from tests.helpers import dashboard_cards, dashboard_numbers

pytestmark = pytest.mark.django_db


def test_the_rail_form_cannot_switch_a_rail_off_without_the_reason_the_action_asks(
    operator_client,
):
    mpesa = Rail.objects.get(code="mpesa")
    change = reverse("admin:payments_rail_change", args=[mpesa.pk])
    form = operator_client.get(change).context["adminform"].form
    posted = {name: form[name].value() for name in form.fields if name != "enabled"}
    posted.pop("fee_fixed")
    posted.update({"countries": '["KE"]', "currencies": '["KES"]'})
    posted.update({"fee_fixed_0": "0", "fee_fixed_1": "GBP"})

    saved = operator_client.post(change, posted)  # "enabled" unticked: not posted

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert Rail.objects.get(code="mpesa").enabled


def test_operator_disables_a_rail_and_simulation_shows_the_fallback(operator_client):
    mpesa = Rail.objects.get(code="mpesa")
    operator_client.post(
        reverse("admin:payments_rail_changelist"),
        {"action": "disable", ACTION_CHECKBOX_NAME: [mpesa.pk], "reason": "Daraja outage"},
    )

    page = operator_client.get(
        reverse("admin:payments_routingrule_simulate") + "?country=KE&amount=50", follow=True
    ).content.decode()

    assert not Rail.objects.get(code="mpesa").enabled
    assert "M-Pesa is disabled; fallback Stripe card" in page


def test_disabling_a_rail_asks_why_and_the_switch_and_its_reason_are_one_audit_event(
    operator_client, operator
):
    mpesa = Rail.objects.get(code="mpesa")
    changelist = reverse("admin:payments_rail_changelist")

    asked = operator_client.post(
        changelist, {"action": "disable", ACTION_CHECKBOX_NAME: [mpesa.pk]}
    ).content.decode()
    still_enabled = Rail.objects.get(code="mpesa").enabled
    operator_client.post(
        changelist,
        {"action": "disable", ACTION_CHECKBOX_NAME: [mpesa.pk], "reason": "Daraja outage"},
    )
    operator_client.post(changelist, {"action": "enable", ACTION_CHECKBOX_NAME: [mpesa.pk]})

    assert 'name="reason"' in asked
    assert still_enabled
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [(e.action, e.changes, e.reason) for e in events] == [
        ("payments.rail_disable", {"enabled": [True, False]}, "Daraja outage"),
        ("payments.rail_enable", {"enabled": [False, True]}, ""),
    ]
    assert {(e.object_id, e.actor) for e in events} == {(str(mpesa.pk), operator)}
    assert Rail.objects.get(code="mpesa").enabled


def test_the_simulator_is_a_form_that_shows_every_rule_walked_and_what_it_did(
    operator_client,
):
    form = operator_client.get(reverse("admin:payments_routingrule_simulate")).content.decode()
    page = operator_client.get(
        reverse("admin:payments_routingrule_simulate"),
        {"country": "KE", "amount": "5000", "currency": "KES"},
    ).content.decode()

    assert 'name="country"' in form
    assert 'name="currency"' in form
    assert "Rules that matched" not in form  # nothing simulated yet
    assert "M-Pesa: routing rule for country KE" in page
    assert "Rules that matched, in the order they are walked" in page
    assert "Not reached: an earlier rule decided." in page  # the catch-all card rule
    assert "£30.45 in the home currency" in page  # 5,000 shillings at 164.20 a pound


def test_the_simulator_refuses_what_it_cannot_price_and_says_why(operator_client):
    page = operator_client.get(
        reverse("admin:payments_routingrule_simulate"),
        {"country": "KE", "amount": "50", "currency": "CHF"},
    ).content.decode()
    invalid = operator_client.get(
        reverse("admin:payments_routingrule_simulate"), {"country": "KE", "amount": "-3"}
    ).content.decode()

    assert "Not payable" in page
    assert "No exchange rate from CHF to GBP." in page
    assert "greater than or equal to 0.01" in invalid


def test_simulation_reports_limits(operator_client):
    page = operator_client.get(
        reverse("admin:payments_routingrule_simulate") + "?country=KE&amount=5000", follow=True
    ).content.decode()

    assert "takes at most" in page


@pytest.mark.parametrize("model", ["rail", "routingrule", "quote"])
def test_payment_screens_render(operator_client, model):
    assert operator_client.get(f"/admin/payments/{model}/").status_code == 200


def test_fx_rates_screen_shows_their_age(operator_client):
    page = operator_client.get("/admin/exchange/rate/").content.decode()

    assert "KES" in page
    assert " min" in page


def test_import_command_refuses_rates_in_another_base(tmp_path):
    source = tmp_path / "rates.json"
    source.write_text('{"base": "USD", "rates": {"EUR": "0.9"}}')

    with pytest.raises(ApplicationError, match="not GBP"):
        call_command("import_fx_rates", source=str(source))


def test_dashboard_shows_each_rails_volume_and_failure_rate(operator_client, user):
    ok = make_payment(user)
    lifecycle.payment_authorize(payment_id=ok.pk)
    lifecycle.payment_capture(payment_id=ok.pk)
    lifecycle.payment_authorize(payment_id=make_payment(user, amount="50.51").pk)  # declined

    kpis = dashboard_cards(operator_client)

    assert (kpis["Stripe card"]["value"], kpis["Stripe card"]["trend"]) == (
        "£50.00",
        "1 captured · 50% failed",
    )
    assert (kpis["M-Pesa"]["value"], kpis["M-Pesa"]["trend"]) == (
        "nothing captured",
        "0 captured · 0% failed",
    )


def test_operator_refunds_a_payment_in_part_then_in_full_giving_a_reason(operator_client, user):
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)

    changelist = reverse("admin:payments_payment_changelist")
    chosen = {"action": "refund", ACTION_CHECKBOX_NAME: [str(payment.pk)]}

    confirmation = operator_client.post(changelist, chosen)
    assert "Refund these payments?" in confirmation.content.decode()
    assert "Amount to refund, in GBP" in confirmation.content.decode()
    assert Payment.objects.get().status == Payment.Status.CAPTURED

    operator_client.post(changelist, {**chosen, "reason": "late", "amount": "12.5"})
    assert Payment.objects.get().refunded_amount == Money("12.50", "GBP")
    operator_client.post(changelist, {**chosen, "reason": "never came", "amount": ""})
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert (
        operator_client.get(reverse("admin:payments_payment_change", args=[payment.pk])).status_code
        == 200
    )


def test_payments_and_refunds_show_their_status_and_rail_in_words(operator_client, user):
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    lifecycle.payment_capture(payment_id=payment.pk)
    captured = operator_client.get(reverse("admin:payments_payment_changelist")).content.decode()
    refunds.refund_create(payment_id=payment.pk, reason="test")

    refunded = operator_client.get(reverse("admin:payments_refund_changelist")).content.decode()
    change = operator_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    assert '<span class="badge badge-success">Captured</span>' in captured
    assert '<span class="badge badge-success">Succeeded</span>' in refunded
    assert "via Stripe card (Refunded)" in refunded
    assert "via stripe" not in refunded
    assert "Captured → Refunded (refund)" in change  # the payment's history, in words


def test_rails_show_whether_they_are_enabled_as_a_badge(operator_client):
    Rail.objects.filter(code="upi").update(enabled=False)

    page = operator_client.get(reverse("admin:payments_rail_changelist")).content.decode()

    assert page.count('<span class="badge badge-success">Enabled</span>') == 5
    assert page.count('<span class="badge badge-danger">Disabled</span>') == 1


def test_rail_notices_name_their_rail_and_filter_by_it(operator_client):
    ProviderEvent.objects.create(rail="mpesa", event_id="ws_CO_1:captured")
    ProviderEvent.objects.create(rail="upi", event_id="upi_1:captured")

    listed = operator_client.get("/admin/payments/providerevent/?rail=mpesa").content.decode()

    assert re.search(r'class="[^"]*field-rail_name[^"]*"[^>]*>\s*M-Pesa\s*<', listed)
    assert "ws_CO_1:captured" in listed
    assert "upi_1:captured" not in listed


def test_rail_notices_no_payment_claimed_are_counted_and_listed(operator_client):
    ProviderEvent.objects.create(
        rail="mpesa",
        event_id="ws_CO_orphan:captured",
        provider_reference="ws_CO_orphan",
        pending_result={"status": "captured"},
    )
    ProviderEvent.objects.update(received_at=timezone.now() - dt.timedelta(hours=2))
    ProviderEvent.objects.create(
        rail="mpesa", event_id="fresh", pending_result={"status": "captured"}
    )

    kpis = dashboard_numbers(operator_client)
    listed = operator_client.get("/admin/payments/providerevent/?held=unmatched")

    assert kpis["Rail notices matching no payment"] == 1
    assert "ws_CO_orphan" in listed.content.decode()
    assert "fresh" not in listed.content.decode()


def test_failed_refunds_of_payments_not_refunded_since_are_counted(operator_client, user):
    payment = make_payment(user)
    lifecycle.payment_authorize(payment_id=payment.pk)
    payment = lifecycle.payment_capture(payment_id=payment.pk)
    Refund.objects.create(
        payment=payment,
        amount=payment.captured_amount,
        provider_idempotency_key="k-failed",
        status=Refund.Status.FAILED,
    )

    assert dashboard_numbers(operator_client)["Failed refunds not made since"] == 1


def test_every_admin_page_says_sandbox_while_a_rail_takes_sandbox_money(operator_client):
    Rail.objects.exclude(code__in=["mpesa", "pix"]).update(sandbox=False)
    sandboxed = operator_client.get("/admin/").content.decode()
    Rail.objects.update(sandbox=False)
    live = operator_client.get("/admin/").content.decode()

    assert "Sandbox: M-Pesa, PIX" in sandboxed
    assert "Sandbox:" not in live


def test_a_notice_whose_rail_code_matches_no_rail_still_names_it(operator_client):
    ProviderEvent.objects.create(rail="oldrail", event_id="x2")

    assert "oldrail" in operator_client.get("/admin/payments/providerevent/").content.decode()


@pytest.mark.parametrize(
    ("country", "amount", "refusal"),
    [("NL", Money("0.10", "EUR"), "leave nothing"), ("KE", Money("100.5", "JPY"), "finer")],
)
def test_the_simulator_refuses_what_a_quote_would_refuse(country, amount, refusal):
    route = quotes.route_simulation(country=country, amount=amount)

    assert refusal in route.problem


def test_an_amount_is_for_one_payment_and_with_several_chosen_nothing_is_refunded(
    operator_client, user
):
    chosen = []
    for _ in range(2):
        payment = make_payment(user)
        lifecycle.payment_authorize(payment_id=payment.pk)
        lifecycle.payment_capture(payment_id=payment.pk)
        chosen.append(str(payment.pk))
    changelist = reverse("admin:payments_payment_changelist")
    both = {"action": "refund", ACTION_CHECKBOX_NAME: chosen}

    asked = operator_client.post(changelist, both).content.decode()
    refused = operator_client.post(changelist, {**both, "reason": "r", "amount": "5"}, follow=True)

    assert "Amount to refund" not in asked
    assert "An amount refunds one at a time" in refused.content.decode()
    assert not Refund.objects.exists()


def test_a_payment_shows_operators_only_the_end_of_the_payers_phone(operator_client):
    user = UserFactory(country="KE")
    payment = lifecycle.payment_create(
        user=user,
        quote=quotes.quote_create(user=user, amount=Money("10.00", "GBP")),
        reference="plumber",
        idempotency_key="masked",
        payer_account="254711223344",
    )

    page = operator_client.get(
        reverse("admin:payments_payment_change", args=[payment.pk])
    ).content.decode()

    assert "254711223344" not in page
    assert "••••••••3344" in page
