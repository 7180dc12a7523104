from django.core.management.base import BaseCommand

from apps.core import sealing
from apps.memory import crypto, services


class Command(BaseCommand):
    help = (
        "Re-encrypt every memory value with the primary key (the first in "
        "GERAOS_MEMORY_KEYS). To rotate: run with --generate, put the printed entry first "
        "in GERAOS_MEMORY_KEYS keeping the old ones after it, restart, run this command, "
        "then drop the old keys."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--generate", metavar="KID", help="print a new key entry and stop")

    def handle(self, *args, generate: str | None = None, **options) -> None:
        if generate:
            self.stdout.write(sealing.generate_key_entry(generate))
            return
        moved = services.memory_reencrypt_all()
        primary = crypto.keyring().primary_kid
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {moved} memory values with key {primary!r}.")
        )
