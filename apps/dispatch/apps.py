from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "apps.dispatch"
    label = "dispatch"
    verbose_name = "Dispatch"

    def ready(self) -> None:
        from apps.dispatch.receivers import carry_on_waiting_order, follow_dispute, follow_refund
        from apps.payments.signals import payment_status_changed
        from apps.trust.signals import dispute_changed

        payment_status_changed.connect(carry_on_waiting_order, dispatch_uid="dispatch.carry_on")
        payment_status_changed.connect(follow_refund, dispatch_uid="dispatch.follow_refund")
        dispute_changed.connect(follow_dispute, dispatch_uid="dispatch.follow_dispute")
