from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from apps.payments import checks, sandbox_payer  # noqa: F401  (registers them)
        from apps.payments.refunds import refund_for_receipt
        from apps.trust.refunds import register_refund_handler

        # Trust resolves disputes as refunds through this; it cannot import payments.
        register_refund_handler(refund_for_receipt)
