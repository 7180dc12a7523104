"""The columns of the receipts and disputes lists' CSV exports: ids, log index, key,
resolution or status, times and the amounts the receipt signed; never the signed token,
the receipt's source and subject, or a dispute's evidence and notes."""

from import_export.fields import Field

from apps.core.exports import ExportResource, Text
from apps.trust.models import Dispute, Receipt


def _signed(path: str, column: str) -> Field:
    """A value a receipt signed, by its path in the payload ("payload__amount__fx_rate")."""
    return Field(attribute=path, column_name=column, widget=Text(), readonly=True)


class ReceiptResource(ExportResource):
    rail = _signed("payload__rail", "rail")
    payment_ref = _signed("payload__payment_ref", "payment_ref")
    local_amount = _signed("payload__amount__local__amount", "local_amount")
    local_amount_currency = _signed("payload__amount__local__currency", "local_amount_currency")
    settled_amount = _signed("payload__amount__settled__amount", "settled_amount")
    settled_amount_currency = _signed(
        "payload__amount__settled__currency", "settled_amount_currency"
    )
    fx_rate = _signed("payload__amount__fx_rate", "fx_rate")

    class Meta:
        model = Receipt
        name = "Receipts"
        fields = [
            "id",
            "log_index",
            "issued_at",
            "resolution",
            "kid",
            "previous",
            "user",
            "agent_grant_id",
            "rail",
            "payment_ref",
            "local_amount",
            "local_amount_currency",
            "settled_amount",
            "settled_amount_currency",
            "fx_rate",
        ]


class DisputeResource(ExportResource):
    receipt_log_index = Field(attribute="receipt__log_index", column_name="receipt_log_index")
    local_amount = _signed("receipt__payload__amount__local__amount", "local_amount")
    local_amount_currency = _signed(
        "receipt__payload__amount__local__currency", "local_amount_currency"
    )
    settled_amount = _signed("receipt__payload__amount__settled__amount", "settled_amount")
    settled_amount_currency = _signed(
        "receipt__payload__amount__settled__currency", "settled_amount_currency"
    )

    class Meta:
        model = Dispute
        name = "Disputes"
        fields = [
            "id",
            "created_at",
            "updated_at",
            "status",
            "receipt",
            "receipt_log_index",
            "opened_by",
            "reason",
            "respond_by",
            "resolution_receipt",
            "local_amount",
            "local_amount_currency",
            "settled_amount",
            "settled_amount_currency",
        ]
