import sys

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import sealing
        from apps.core.management.key_rotation import printing_a_key_only

        try:
            sealing.keys_check()
        except sealing.DevelopmentKeySeals:
            if not printing_a_key_only(sys.argv):
                raise
