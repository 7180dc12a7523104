from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from apps.identity import mfa, two_factor
        from apps.identity.oidc import checks  # noqa: F401  (registers it)

        mfa.connect_signals()
        authenticator_added.connect(
            two_factor.activation_step_record, dispatch_uid="totp-activation-step"
        )
