"""What every key rotation command shares: `--generate KID` prints a new key entry to put
first in its setting; without it, the command moves everything to the primary key."""

from django.core.management.base import BaseCommand

from apps.core import sealing


class KeyRotationCommand(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument("--generate", metavar="KID", help="print a new key entry and stop")

    def handle(self, *args, generate: str | None = None, **options) -> None:
        if generate:
            self.stdout.write(sealing.generate_key_entry(generate))
            return
        self.rotate()

    def rotate(self) -> None:
        raise NotImplementedError
