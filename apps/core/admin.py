"""Shared admin bases: records operators read but never edit (receipts, logs, orders whose
state only services move), and how such records show their documents."""

import json

from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline


def preformatted(text: str) -> str:
    """Text as written, wrapped: signatures and ids are long single tokens that would
    otherwise widen the page."""
    return format_html('<pre style="white-space: pre-wrap; overflow-wrap: anywhere">{}</pre>', text)


def pretty_json(value) -> str:
    if value is None:
        return "-"
    return preformatted(json.dumps(value, indent=2, default=str))


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
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
