from apps.core.management.key_rotation import KeyRotationCommand
from apps.memory import crypto, services


class Command(KeyRotationCommand):
    help = (
        "Re-encrypt every memory value with the primary key (the first in "
        "GERAOS_MEMORY_KEYS). To rotate: run with --generate, put the printed entry first "
        "in GERAOS_MEMORY_KEYS keeping the old ones after it, restart, run this command, "
        "then drop the old keys."
    )

    def rotate(self) -> None:
        moved = services.memory_reencrypt_all()
        primary = crypto.keyring().primary_kid
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {moved} memory values with key {primary!r}.")
        )
