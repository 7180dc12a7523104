from django.conf import settings
from django.utils.module_loading import import_string

from apps.core import sealing
from apps.core.management.key_rotation import KeyRotationCommand


class Command(KeyRotationCommand):
    help = (
        "Re-seal every two-factor secret and personal field with the primary sealing key "
        "(the first in GERAOS_SEALING_KEYS) and re-hash every keyed hash with the primary "
        "lookup key (the first in GERAOS_LOOKUP_KEYS); fails if anything is still under an "
        "old key afterwards. To rotate either: run with --generate, add the printed entry "
        "after the others everywhere, then move it first everywhere, then run this command, "
        "then drop the old keys."
    )

    def rotate(self) -> None:
        sealing_kid = sealing.keyring(sealing.SEALING_KEYS).primary_kid
        lookup_kid = sealing.keyring(sealing.LOOKUP_KEYS).primary_kid
        self.stdout.write(f"Moved to sealing key {sealing_kid!r} and lookup key {lookup_kid!r}:")
        for model, column in sealing.sealed_columns():
            moved = sealing.reseal_column(model, column)
            self.stdout.write(f"  {model._meta.label_lower}.{column}: {moved}")
        for name, (reseal, _) in settings.GERAOS_RESEALERS.items():
            self.stdout.write(f"  {name}: {import_string(reseal)()}")

    def under_old_keys(self) -> dict[str, int]:
        columns = {
            f"{model._meta.label_lower}.{column}": sealing.column_under_old_keys(model, column)
            for model, column in sealing.sealed_columns()
        }
        others = {
            name: import_string(count)() for name, (_, count) in settings.GERAOS_RESEALERS.items()
        }
        return columns | others
