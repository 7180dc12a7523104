"""Operator screens for memory. Operators never see memory keys or values: that is the
privacy boundary. Items show only where they are and who wrote them."""

from django.contrib import admin, messages
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from apps.core.admin import (
    Audited,
    NeverDeleted,
    ReadOnlyAdmin,
    ask_reason,
    asked_reason,
    badge_column,
)
from apps.memory import services
from apps.memory.models import AccessLogEntry, ConsentGrant, MemoryItem, MemoryScope


@admin.register(MemoryScope)
class MemoryScopeAdmin(Audited, ModelAdmin):
    list_display = ["name", "code", "sensitivity_badge", "description"]
    list_filter = ["sensitivity"]
    search_fields = ["code", "name"]
    sensitivity_badge = badge_column(
        MemoryScope.sensitivities, field="sensitivity", description="Sensitivity"
    )


@admin.register(MemoryItem)
class MemoryItemAdmin(Audited, ModelAdmin):
    list_display = ["user", "scope", "kind", "product", "masked_value", "updated_at"]
    list_filter = ["scope", "kind", "product"]
    search_fields = ["user__email"]
    list_select_related = ["user", "scope", "product"]
    fields = [
        "user",
        "scope",
        "kind",
        "product",
        "masked_value",
        "expires_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @display(description="Key and value")
    def masked_value(self, item: MemoryItem) -> str:
        return "•••••• (encrypted; only the user can see it)"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # Deleting through the service gives the user's quota place back and logs it.
    def delete_model(self, request, obj: MemoryItem) -> None:
        services.memory_item_delete(user=obj.user, item=obj, purpose=_deleted_by(request))

    def delete_queryset(self, request, queryset) -> None:
        for item in queryset.select_related("user", "scope"):
            services.memory_item_delete(user=item.user, item=item, purpose=_deleted_by(request))


def _deleted_by(request) -> str:
    return f"deleted by operator {request.user.email} at the user's request"


@admin.register(ConsentGrant)
class ConsentGrantAdmin(Audited, NeverDeleted, ModelAdmin):
    list_display = [
        "user",
        "product",
        "scope",
        "can_read",
        "can_write",
        "granted_at",
        "revoked_at",
        "revoked_by",
    ]
    list_filter = ["product", "scope", "can_read", "revoked_at"]
    search_fields = ["user__email", "product__code", "scope__code"]
    list_select_related = ["user", "product", "scope", "revoked_by"]
    readonly_fields = [
        "user",
        "product",
        "scope",
        "can_read",
        "can_write",
        "granted_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    actions = ["revoke_on_user_request"]

    def has_add_permission(self, request) -> bool:
        return False  # consent is the user's to give

    @action(description="Revoke on the user's request", permissions=["change"])
    def revoke_on_user_request(self, request, queryset):
        consents = queryset.select_related("user", "product", "scope")
        reason = asked_reason(request)
        if not reason:
            return ask_reason(
                self,
                request,
                consents,
                action="revoke_on_user_request",
                title="Revoke these consents?",
                explanation="Only at the user's request: the products lose access to these "
                "scopes from their next read.",
            )
        for consent in consents:
            services.consent_revoke(consent=consent, request=request, reason=reason)
        self.message_user(request, f"Revoked {queryset.count()} consent(s).", messages.SUCCESS)
        return None


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "product", "action", "scope", "allowed", "purpose", "agent_grant"]
    list_filter = ["allowed", "action", "product", "scope"]
    search_fields = ["user__email", "purpose", "product__code", "scope__code"]
    list_select_related = ["user", "product", "scope", "agent_grant__user"]
    date_hierarchy = "at"
