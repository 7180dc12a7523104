from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Create the demo data (idempotent: a second run changes nothing)."

    def handle(self, *args, **options) -> None:
        if not settings.GERAOS_DEMO_ALLOWED:
            raise CommandError(
                "The demo accounts have published passwords: seed_demo runs only with DEBUG "
                "on or GERAOS_DEMO_ALLOWED=true."
            )
        with transaction.atomic():
            lines = [
                line
                for dotted_path in settings.GERAOS_DEMO_SEEDERS
                for line in import_string(dotted_path)()
            ]
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
