"""Shared admin bases: records operators read but never edit (receipts, logs, orders whose
state only services move), records never deleted (evidence), lists exported as CSV, how
such records show their documents, status badges, and the operator audit log."""

import json
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.contrib.import_export.forms import SelectableFieldsExportForm
from unfold.decorators import display

from apps.core import audit
from apps.core.errors import ApplicationError
from apps.core.exports import AuditEventResource
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


def masked(personal: str) -> str:
    """A personal value (a payer's phone or UPI id) as operators see it: its last four
    characters, enough to match what a caller reads out, and nothing more."""
    return "•" * max(len(personal) - 4, 0) + personal[-4:] if personal else "-"


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


class Audited:
    """Every add, change and delete an operator makes through the admin's forms writes one
    audit event in the admin's own transaction, with the fields changed (before, after;
    secrets only as changed), and an object's History is its audit events."""

    def save_form(self, request, form, change):
        request.audit_changes = _form_changes(form)
        return super().save_form(request, form, change)

    def log_addition(self, request, obj, message):
        _record(request, obj, "add")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if getattr(request, "audit_changes", None):  # a save that changed nothing is no event
            _record(request, obj, "change")
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit.record(request=request, action=f"{obj._meta.label_lower}.delete", obj=obj)
        return super().log_deletions(request, queryset)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        audit_log = reverse("admin:core_auditevent_changelist")
        label = self.model._meta.label_lower
        return redirect(f"{audit_log}?{urlencode({'object_type': label, 'object_id': object_id})}")


# A field whose name holds one of these is recorded as changed, never with its values.
SECRET_FIELD_WORDS = ("secret", "password", "token", "key", "value")


def _record(request, obj, verb: str) -> None:
    changes = getattr(request, "audit_changes", {})
    audit.record(
        request=request, action=f"{obj._meta.label_lower}.{verb}", obj=obj, changes=changes
    )


def _form_changes(form) -> dict[str, tuple]:
    """(before, after) of each field the form changed; the audit log makes them text."""
    return {
        name: audit.SECRET_CHANGE
        if _is_secret(name)
        else (form.initial.get(name), form.cleaned_data.get(name))
        for name in form.changed_data
    }


def _is_secret(name: str) -> bool:
    return any(word in name for word in SECRET_FIELD_WORDS)


class Exported(ExportMixin):
    """The list, filtered and searched as the operator left it, downloads as CSV (the
    model's resource_classes say the columns) for staff who may view it and hold
    `<app>.export_<model>`. Each download is one audit event, `<app>.<model>.export`,
    with the rows, columns and filters it held; showing the form writes none."""

    export_form_class = SelectableFieldsExportForm

    def has_export_permission(self, request) -> bool:
        # A list the operator may not see, they may not download either.
        may_see = self.has_view_or_change_permission(request)
        return may_see and super().has_export_permission(request)

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:  # a filter the list refuses too: as the list does
            changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return redirect(f"{changelist}?{ERROR_FLAG}=1")

    def get_data_for_export(self, request, queryset, **kwargs):
        request.exported = super().get_data_for_export(request, queryset, **kwargs)
        return request.exported

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # The file is written first and the event after, in its own short transaction: the
        # chain's head stays locked for the append only, not while a large file is built.
        # If the event cannot be written, no file is returned.
        exported = super().get_export_data(file_format, request, queryset, **kwargs)
        audit.record(
            request=request,
            action=f"{self.opts.label_lower}.export",
            obj=self.model,
            changes={
                "rows": (None, len(request.exported)),
                "columns": (None, ", ".join(request.exported.headers)),
                "filters": (None, request.GET.urlencode()),
            },
        )
        return exported


def ask_reason(
    model_admin,
    request,
    queryset,
    *,
    action: str,
    title: str,
    explanation: str,
    amount_currency: str = "",
):
    """The page an admin action shows first when it needs the operator's reason (money and
    trust actions): the objects it will act on, the reason box, and the action again. With
    `amount_currency`, an amount box too (a refund in part, of one object), empty meaning
    all that is left."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "explanation": explanation,
        "objects": queryset,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": model_admin.model._meta,
        "amount_currency": amount_currency,
    }
    return TemplateResponse(request, "admin/action_reason.html", context)


def asked_reason(request) -> str:
    """The reason the reason page was given; empty before it was shown."""
    return request.POST.get("reason", "").strip()


def asked_amount(request, queryset) -> Decimal | None:
    """The amount the reason page was given: None when left empty (all that is left). An
    amount is for one object: refunding several, each gets all that is left."""
    text = request.POST.get("amount", "").strip()
    if not text:
        return None
    if queryset.count() != 1:
        raise ApplicationError(
            "An amount refunds one at a time; choose one, or leave it empty.",
            code="amount_for_one",
            status=400,
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ApplicationError(f"{text!r} is not an amount.", code="invalid_amount", status=400)
    return amount


class NeverDeleted:
    """No Delete button and no bulk delete, superusers included: for read-only records and
    for those that are evidence (payments, refunds, disputes, consents, logs), whose DELETE
    PostgreSQL refuses too."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(Audited, NeverDeleted, ModelAdmin):
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
class AuditEventAdmin(Exported, ReadOnlyAdmin):
    """The operator audit log: read-only for everyone, superusers included."""

    resource_classes = [AuditEventResource]

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
