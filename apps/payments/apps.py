from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Trust resolves disputes as refunds through this; it cannot import payments.
        from apps.payments.services import refund_for_receipt
        from apps.trust.refunds import register_refund_handler

        register_refund_handler(refund_for_receipt)
