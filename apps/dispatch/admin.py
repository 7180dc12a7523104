"""Operator screens for dispatch: orders are read-only (their status moves only through
`dispatch.services`), with the state history and callback deliveries inline, and one
action that re-enqueues the step an order is waiting on."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import action, display

from apps.core.admin import (
    Exported,
    ReadOnlyAdmin,
    ReadOnlyInline,
    badge_column,
    masked,
    pretty_json,
)
from apps.core.errors import ApplicationError
from apps.dispatch import selectors, services
from apps.dispatch.exports import DispatchOrderResource
from apps.dispatch.models import CallbackDelivery, DispatchOrder, DispatchTransition


def _admin_link(url_name: str, obj) -> str:
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), obj)


class DispatchTransitionInline(ReadOnlyInline):
    """The order's state history, oldest first."""

    model = DispatchTransition
    verbose_name = "transition"
    verbose_name_plural = "State history"
    fields = ["at", "from_status", "to_status", "actor", "reason", "data"]
    readonly_fields = fields


class CallbackDeliveryInline(ReadOnlyInline):
    model = CallbackDelivery
    verbose_name_plural = "Callback deliveries"
    fields = [
        "created_at",
        "event_status",
        "status_badge",
        "attempts",
        "last_response",
        "delivered_at",
    ]
    readonly_fields = fields
    status_badge = badge_column(CallbackDelivery.statuses, description="Delivery")

    @display(description="Event status")
    def event_status(self, delivery: CallbackDelivery) -> str:
        return DispatchOrder.Status(delivery.event["status"]).label


class StuckFilter(admin.SimpleListFilter):
    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Stuck now (unmoved for two minutes)")]

    def queryset(self, request, queryset):
        return queryset & selectors.orders_stuck() if self.value() == "yes" else queryset


@admin.register(DispatchOrder)
class DispatchOrderAdmin(Exported, ReadOnlyAdmin):
    list_display = [
        "short_id",
        "user",
        "skill_capability",
        "provider",
        "status_badge",
        "local_amount",
        "failure_code",
        "created_at",
        "updated_at",
    ]
    list_filter = [StuckFilter, "status", "skill__product", "provider__city", "created_at"]
    search_fields = ["id", "user__email", "provider__name", "failure_code"]
    list_select_related = ["user", "skill", "provider", "quote"]
    inlines = [DispatchTransitionInline, CallbackDeliveryInline]
    actions = ["retry_step"]
    resource_classes = [DispatchOrderResource]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "status_badge",
                    "user",
                    "grant",
                    "idempotency_key",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (
            "What was asked",
            {"fields": ["skill", "skill_version", "provider", "pretty_intent", "pretty_details"]},
        ),
        (
            "Money",
            {"fields": ["quote", "local_amount", "masked_payer_account", "payment_link"]},
        ),
        (
            "Outcome",
            {
                "fields": [
                    "failure_code",
                    "failure_message",
                    "pretty_confirmation",
                    "receipt_link",
                    "callback_url",
                ]
            },
        ),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]
    status_badge = badge_column(DispatchOrder.statuses)

    @display(description="Order", ordering="created_at")
    def short_id(self, order: DispatchOrder) -> str:
        """Enough of the id to tell orders apart; search takes the whole id."""
        return str(order.pk)[:8]

    @display(description="Skill", ordering="skill__capability")
    def skill_capability(self, order: DispatchOrder) -> str:
        return order.skill.capability

    @display(description="Local amount")
    def local_amount(self, order: DispatchOrder):
        return order.quote.local_amount

    @display(description="Intent")
    def pretty_intent(self, order: DispatchOrder) -> str:
        return pretty_json(order.intent)

    @display(description="Details")
    def pretty_details(self, order: DispatchOrder) -> str:
        return pretty_json(order.details)

    @display(description="Payer account")
    def masked_payer_account(self, order: DispatchOrder) -> str:
        return masked(order.payer_account)

    @display(description="Provider confirmation")
    def pretty_confirmation(self, order: DispatchOrder) -> str:
        return pretty_json(order.confirmation)

    @display(description="Payment")
    def payment_link(self, order: DispatchOrder) -> str:
        return _admin_link("admin:payments_payment_change", order.payment)

    @display(description="Receipt")
    def receipt_link(self, order: DispatchOrder) -> str:
        return _admin_link("admin:trust_receipt_change", order.receipt)

    def has_retry_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("dispatch.retry_dispatchorder")

    @action(description="Retry the step it is waiting on", permissions=["retry"])
    def retry_step(self, request, queryset) -> None:
        actor = f"operator:{request.user.email}"
        for order in queryset:
            try:
                step = services.order_resume(order_id=order.pk, actor=actor, request=request)
            except ApplicationError as error:
                self.message_user(request, f"{order.pk}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{order.pk}: queued {step}.", messages.SUCCESS)
