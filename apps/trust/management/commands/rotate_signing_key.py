from django.core.management.base import BaseCommand

from apps.trust import services


class Command(BaseCommand):
    help = "Retire the active receipt-signing key (it stays published) and activate a new one."

    def handle(self, *args, **options) -> None:
        key = services.signing_key_rotate()
        self.stdout.write(self.style.SUCCESS(f"New active signing key: {key.kid}"))
