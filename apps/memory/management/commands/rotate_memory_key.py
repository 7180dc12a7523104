from apps.core.management.key_rotation import KeyRotationCommand
from apps.memory import crypto, services


class Command(KeyRotationCommand):
    help = (
        "Re-encrypt every memory key and value with the primary key (the first in "
        "GERAOS_MEMORY_KEYS); fails if any is still under an old key afterwards. To rotate: "
        "run with --generate, add the printed entry after the others in GERAOS_MEMORY_KEYS "
        "everywhere, then move it first everywhere, then run this command, then drop the "
        "old keys."
    )

    def rotate(self) -> None:
        moved = services.memory_reencrypt_all()
        primary = crypto.keyring().primary_kid
        self.stdout.write(f"Re-encrypted {moved} memory items with key {primary!r}.")

    def under_old_keys(self) -> dict[str, int]:
        return {"memory items": services.memory_items_under_old_keys()}
