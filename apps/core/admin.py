"""Shared admin bases: records operators read but never edit (receipts, logs, orders whose
state only services move), records never deleted (evidence), how such records show their
documents, status badges, and the operator audit log."""

import json

from django.contrib import admin
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from apps.core.models import AuditEvent
from apps.core.status import StatusVocabulary


def preformatted(text: str) -> str:
    """Text as written, wrapped: signatures and ids are long single tokens that would
    otherwise widen the page."""
    return format_html('<pre style="white-space: pre-wrap; overflow-wrap: anywhere">{}</pre>', text)


def pretty_json(value) -> str:
    if value is None:
        return "-"
    return preformatted(json.dumps(value, indent=2, default=str))


def badge_column(
    vocabulary: StatusVocabulary,
    *,
    field: str = "status",
    description: str = "Status",
    sortable: bool = True,
):
    """A column showing `field` as the badge the user pages show (a ModelAdmin attribute,
    named in list_display or fields)."""

    @display(description=description, ordering=field if sortable else None)
    def column(model_admin, obj) -> str:
        return vocabulary.badge(getattr(obj, field))

    return column


class NeverDeleted:
    """No Delete button and no bulk delete, superusers included: for read-only records and
    for those that are evidence (payments, refunds, disputes, consents, logs), whose DELETE
    PostgreSQL refuses too."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NeverDeleted, ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The operator audit log: read-only for everyone, superusers included."""

    list_display = ["sequence", "at", "actor_email", "actor_used_mfa", "action", "target", "reason"]
    list_filter = [
        ("at", RangeDateTimeFilter),
        "action",
        "object_type",
        ("actor", admin.RelatedOnlyFieldListFilter),
    ]
    list_filter_submit = True
    search_fields = ["=object_id", "object_repr", "=request_id", "actor_email"]
    list_select_related = ["actor"]
    date_hierarchy = None
    fields = [
        "sequence",
        "at",
        "actor_email",
        "actor_used_mfa",
        "address",
        "request_id",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes_shown",
        "reason",
        "previous_hash",
        "hash",
    ]
    readonly_fields = fields

    @display(description="Object")
    def target(self, event: AuditEvent) -> str:
        return f"{event.object_type} {event.object_repr}"

    @display(description="Changes (before, after)")
    def changes_shown(self, event: AuditEvent) -> str:
        return pretty_json(event.changes)
