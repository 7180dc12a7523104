"""CSV exports of operator lists (apps.core.admin.Exported): columns a spreadsheet reads
as they were written, and the audit log's own export."""

import datetime as dt

from djmoney.money import Money
from import_export import resources, widgets

from apps.core.models import AuditEvent

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class DecimalText(widgets.Widget):
    """A decimal, or a Money's amount, as written: never a float, no exponent, no locale."""

    def render(self, value, obj=None, **kwargs) -> str:
        if value is None:
            return ""
        return format(value.amount if isinstance(value, Money) else value, "f")


class IsoDateTime(widgets.Widget):
    def render(self, value, obj=None, **kwargs) -> str:
        return value.astimezone(dt.UTC).isoformat() if value else ""


class Text(widgets.CharWidget):
    """Text shown as text: references and messages come from API callers and rails, so one
    that would start a formula gets a leading apostrophe (OWASP's advice)."""

    def render(self, value, obj=None, **kwargs) -> str:
        text = "" if value is None else str(value)
        return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class ExportResource(resources.ModelResource):
    """Columns from model fields rendered as above; a money field is its amount, and its
    `<name>_currency` field the currency beside it."""

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "CharField": Text,
        "TextField": Text,
        "DecimalField": DecimalText,
        "DateTimeField": IsoDateTime,
    }


class AuditEventResource(ExportResource):
    class Meta:
        model = AuditEvent
        name = "Audit log"
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
            "changes",
            "reason",
            "previous_hash",
            "hash",
        ]
