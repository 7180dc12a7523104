"""What every key rotation command shares: `--generate KID` prints a new key entry for its
setting; without it, the command moves everything to the primary key, then counts what is
still under an old key, and fails naming it rather than say the old keys can go."""

from abc import ABCMeta, abstractmethod

from django.core.management.base import BaseCommand, CommandError

from apps.core import sealing

KEY_ROTATION_COMMANDS = ("rotate_sealing_key", "rotate_memory_key")


def printing_a_key_only(argv: list[str]) -> bool:
    """Whether the process is `manage.py <a key rotation command> --generate KID`, which
    seals nothing, so runs even where a development key still seals: to replace it."""
    command, options = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    generating = any(option.partition("=")[0] == "--generate" for option in options)
    return command in KEY_ROTATION_COMMANDS and generating


class KeyRotationCommand(BaseCommand, metaclass=ABCMeta):
    def add_arguments(self, parser) -> None:
        parser.add_argument("--generate", metavar="KID", help="print a new key entry and stop")

    def handle(self, *args, generate: str | None = None, **options) -> None:
        if generate:
            self.stdout.write(sealing.generate_key_entry(generate))
            return
        self.rotate()
        left = {name: count for name, count in self.under_old_keys().items() if count}
        if left:
            counts = ", ".join(f"{name}: {count}" for name, count in left.items())
            raise CommandError(
                f"Still under an old key after the move ({counts}): a process that still "
                "seals with the old primary key wrote them. Keep the old keys, restart every "
                "process with the new key first, and run this again."
            )
        self.stdout.write(self.style.SUCCESS("Done: the old keys can be dropped."))

    @abstractmethod
    def rotate(self) -> None:
        """Moves everything the command's keyring seals to its primary key."""

    @abstractmethod
    def under_old_keys(self) -> dict[str, int]:
        """What is still sealed (or hashed) with a key other than the primary, by name."""
