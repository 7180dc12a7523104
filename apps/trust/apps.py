from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "apps.trust"
    label = "trust"
    verbose_name = "Trust"

    def ready(self) -> None:
        from apps.core.signals import audit_appended
        from apps.trust.audit import sign_audit_head

        # Every append to the operator audit log gets its head signed, in its transaction.
        audit_appended.connect(sign_audit_head, dispatch_uid="trust.sign_audit_head")
