"""The columns of the dispatch orders list's CSV export: ids, status, what was booked and
its price; never the intent's or details' free text, the payer's account or callbacks."""

from import_export.fields import Field

from apps.core.exports import DecimalText, ExportResource, Text
from apps.dispatch.models import DispatchOrder


class DispatchOrderResource(ExportResource):
    skill = Field(attribute="skill__capability", column_name="skill", widget=Text())
    local_amount = Field(
        attribute="quote__local_amount", column_name="local_amount", widget=DecimalText()
    )
    local_amount_currency = Field(
        attribute="quote__local_amount_currency", column_name="local_amount_currency", widget=Text()
    )

    class Meta:
        model = DispatchOrder
        name = "Dispatch orders"
        fields = [
            "id",
            "created_at",
            "updated_at",
            "status",
            "user",
            "grant",
            "skill",
            "skill_version",
            "provider",
            "local_amount",
            "local_amount_currency",
            "payment",
            "receipt",
            "failure_code",
            "failure_message",
        ]
