from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils import timezone
from djmoney.contrib.exchange.models import Rate
from djmoney.money import Money
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from apps.core.admin import (
    Audited,
    Exported,
    NeverDeleted,
    ReadOnlyAdmin,
    ask_reason,
    asked_amount,
    asked_reason,
    badge_column,
    masked,
)
from apps.core.errors import ApplicationError
from apps.core.status import Tone, badge
from apps.payments import quotes, refunds, routing, selectors
from apps.payments.exports import PaymentResource, RefundResource
from apps.payments.forms import RailForm, RouteSimulationForm
from apps.payments.models import (
    Payment,
    PaymentEvent,
    ProviderEvent,
    Quote,
    Rail,
    Refund,
    RoutingRule,
)


@admin.register(Rail)
class RailAdmin(Audited, ModelAdmin):
    form = RailForm
    list_display = [
        "name",
        "code",
        "enabled_badge",
        "sandbox",
        "countries",
        "currencies",
        "min_amount",
        "max_amount",
        "fee_percent",
        "fee_fixed",
    ]
    list_filter = ["enabled", "sandbox"]
    search_fields = ["code", "name"]
    readonly_fields = ["enabled"]  # switched by the actions: disabling asks why
    actions = ["enable", "disable"]

    @display(description="Enabled", ordering="enabled")
    def enabled_badge(self, rail: Rail) -> str:
        return badge("Enabled", Tone.SUCCESS) if rail.enabled else badge("Disabled", Tone.DANGER)

    @action(description="Enable selected rails", permissions=["change"])
    def enable(self, request, queryset) -> None:
        for rail in queryset:
            routing.rail_set_enabled(
                rail=rail, enabled=True, request=request, reason=asked_reason(request)
            )
        self.message_user(request, "Enabled; routing uses them at once.", messages.SUCCESS)

    @action(
        description="Disable selected rails (routing falls back at once)", permissions=["change"]
    )
    def disable(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            return ask_reason(
                self,
                request,
                queryset,
                action="disable",
                title="Disable these rails?",
                explanation="Payments routed to them fall back to their fallback rails at once.",
            )
        for rail in queryset:
            routing.rail_set_enabled(rail=rail, enabled=False, request=request, reason=reason)
        self.message_user(request, "Disabled; routing falls back at once.", messages.WARNING)
        return None


@admin.register(RoutingRule)
class RoutingRuleAdmin(Audited, ModelAdmin):
    list_display = [
        "__str__",
        "country",
        "currency",
        "min_amount",
        "max_amount",
        "priority",
        "rail",
        "fallback_rail",
    ]
    list_filter = ["rail", "country"]
    search_fields = ["country", "rail__code"]
    list_select_related = ["rail", "fallback_rail"]
    actions_list = ["simulate"]

    @action(description="Simulate routing", url_path="simulate", permissions=["view"])
    def simulate(self, request):
        form = RouteSimulationForm(request.GET or None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Routing simulator",
            "opts": self.model._meta,
            "form": form,
        }
        if form.is_valid():
            context["route"] = quotes.route_simulation(
                country=form.cleaned_data["country"],
                amount=Money(form.cleaned_data["amount"], form.cleaned_data["currency"]),
            )
        return TemplateResponse(request, "admin/payments/routing_simulator.html", context)


@admin.register(Quote)
class QuoteAdmin(Audited, ModelAdmin):
    list_display = [
        "id",
        "user",
        "rail",
        "local_amount",
        "settlement_amount",
        "fees",
        "created_at",
        "expires_at",
    ]
    list_filter = ["rail"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user", "rail"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(Rate)


@admin.register(Rate)
class RateAdmin(Audited, ModelAdmin):
    list_display = ["currency", "value", "backend", "age"]
    list_select_related = ["backend"]
    search_fields = ["currency"]

    @display(description="Age")
    def age(self, rate: Rate) -> str:
        minutes = int((timezone.now() - rate.backend.last_update).total_seconds() // 60)
        return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PaymentEventInline(TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "cause", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(Exported, Audited, NeverDeleted, ModelAdmin):
    list_display = [
        "id",
        "user",
        "rail",
        "status_badge",
        "local_amount",
        "settled_amount",
        "refunded_amount",
        "country",
        "created_at",
    ]
    list_filter = ["rail", "status", "user__country", "created_at"]
    search_fields = ["id", "user__email", "provider_reference", "reference"]
    list_select_related = ["user", "rail"]
    inlines = [PaymentEventInline]
    actions = ["refund"]
    readonly_fields = ["masked_payer_account"]
    status_badge = badge_column(Payment.statuses)
    resource_classes = [PaymentResource]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_refund_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("payments.refund_payment")

    @display(description="Country")
    def country(self, payment: Payment) -> str:
        return payment.user.country.code

    @display(description="Payer account")
    def masked_payer_account(self, payment: Payment) -> str:
        return masked(payment.payer_account)

    @action(description="Refund in full or in part (asks the rail now)", permissions=["refund"])
    def refund(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            # Money leaves: show what would be refunded and ask why, once more.
            one = queryset.first() if queryset.count() == 1 else None
            return ask_reason(
                self,
                request,
                queryset.select_related("rail"),
                action="refund",
                title="Refund these payments?",
                explanation="The rail is asked now to refund each payment's remaining captured "
                "amount (or, for one payment, the amount given). This cannot be undone.",
                amount_currency=str(one.local_amount.currency) if one else "",
            )
        try:
            amount = asked_amount(request, queryset)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        for payment in queryset:
            self._refund(request, payment, amount=amount, reason=reason)
        return None

    def _refund(self, request, payment: Payment, *, amount, reason: str) -> None:
        try:
            refund = refunds.refund_create(
                payment_id=payment.pk, amount=amount, reason=reason, request=request
            )
        except ApplicationError as error:
            self.message_user(request, f"{payment.pk}: {error.message}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"{payment.pk}: refund {refund.get_status_display().lower()}.",
                messages.SUCCESS,
            )


@admin.register(Refund)
class RefundAdmin(Exported, Audited, NeverDeleted, ModelAdmin):
    """Refunds; one made by hand in a rail's back office is confirmed here with the rail's
    reference (the only field an operator may edit)."""

    list_display = ["id", "payment", "amount", "status_badge", "provider_reference", "created_at"]
    list_filter = ["status", "payment__rail", "created_at"]
    search_fields = ["id", "payment__id", "provider_reference"]
    list_select_related = ["payment__rail"]
    status_badge = badge_column(Refund.statuses)
    resource_classes = [RefundResource]
    fields = [
        "payment",
        "amount",
        "reason",
        "status",
        "provider_reference",
        "send_started_at",
        "send_interrupted_at",
        "created_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        editable = obj is not None and obj.status == Refund.Status.PENDING
        return [f for f in self.fields if not (editable and f == "provider_reference")]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj: Refund, form, change) -> None:
        try:
            refunds.refund_confirm_manual(
                refund_id=obj.pk, reference=obj.provider_reference, operator=request.user
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)


class RailFilter(admin.SimpleListFilter):
    """Rail notices name their rail by code; the filter offers the rails' names."""

    title = "rail"
    parameter_name = "rail"

    def lookups(self, request, model_admin):
        return Rail.objects.values_list("code", "name")

    def queryset(self, request, queryset):
        return queryset.filter(rail=self.value()) if self.value() else queryset


class HeldFilter(admin.SimpleListFilter):
    title = "held"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("unmatched", "Matching no payment after an hour"), ("yes", "Held now")]

    def queryset(self, request, queryset):
        if self.value() == "unmatched":
            return queryset & selectors.notices_unmatched()
        if self.value() == "yes":
            return queryset.filter(pending_result__isnull=False)
        return queryset


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    """Every rail notice applied or held; a held one its payment never claimed is money a
    rail may have taken that no payment records."""

    list_display = ["received_at", "rail_name", "event_id", "provider_reference", "held"]
    list_filter = [RailFilter, HeldFilter, "received_at"]
    search_fields = ["event_id", "provider_reference"]
    fields = ["received_at", "rail_name", "event_id", "provider_reference", "pending_result"]
    readonly_fields = fields

    def get_queryset(self, request):
        rail_names = Rail.objects.filter(code=OuterRef("rail")).values("name")[:1]
        # A notice of a rail whose code was changed since still names the code it came with.
        rail_name = Coalesce(Subquery(rail_names), "rail")
        return super().get_queryset(request).annotate(rail_name=rail_name)

    @display(description="Rail", ordering="rail_name")
    def rail_name(self, event: ProviderEvent) -> str:
        return event.rail_name

    @display(description="Held", boolean=True)
    def held(self, event: ProviderEvent) -> bool:
        return event.pending_result is not None
