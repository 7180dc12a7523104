"""The columns of the payments and refunds lists' CSV exports: ids, statuses, times and
money (amount and currency), never the payer's account or idempotency keys."""

from import_export.fields import Field

from apps.core.exports import ExportResource, Text
from apps.payments.models import Payment, Refund


class PaymentResource(ExportResource):
    rail = Field(attribute="rail__code", column_name="rail", widget=Text())

    class Meta:
        model = Payment
        name = "Payments"
        fields = [
            "id",
            "created_at",
            "updated_at",
            "status",
            "rail",
            "user",
            "reference",
            "local_amount",
            "local_amount_currency",
            "settled_amount",
            "settled_amount_currency",
            "rate",
            "captured_amount",
            "captured_amount_currency",
            "refunded_amount",
            "refunded_amount_currency",
            "provider_reference",
            "failure_code",
        ]


class RefundResource(ExportResource):
    rail = Field(attribute="payment__rail__code", column_name="rail", widget=Text())

    class Meta:
        model = Refund
        name = "Refunds"
        fields = [
            "id",
            "created_at",
            "updated_at",
            "payment",
            "rail",
            "status",
            "amount",
            "amount_currency",
            "reason",
            "provider_reference",
        ]
