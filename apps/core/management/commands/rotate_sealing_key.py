from django.conf import settings
from django.utils.module_loading import import_string

from apps.core import sealing
from apps.core.management.key_rotation import KeyRotationCommand


class Command(KeyRotationCommand):
    help = (
        "Re-seal every two-factor secret and personal field with the primary sealing key "
        "(the first in GERAOS_SEALING_KEYS) and re-hash every keyed hash with the primary "
        "lookup key (the first in GERAOS_LOOKUP_KEYS). To rotate either: run with "
        "--generate, put the printed entry first in its setting keeping the old ones after "
        "it, restart, run this command, then drop the old keys."
    )

    def rotate(self) -> None:
        sealing_kid = sealing.keyring(sealing.SEALING_KEYS).primary_kid
        lookup_kid = sealing.keyring(sealing.LOOKUP_KEYS).primary_kid
        self.stdout.write(f"Moved to sealing key {sealing_kid!r} and lookup key {lookup_kid!r}:")
        for model, column in sealing.sealed_columns():
            moved = sealing.reseal_column(model, column)
            self.stdout.write(f"  {model._meta.label_lower}.{column}: {moved}")
        for name, dotted_path in settings.GERAOS_RESEALERS.items():
            self.stdout.write(f"  {name}: {import_string(dotted_path)()}")
        self.stdout.write(self.style.SUCCESS("Done: the old keys can be dropped."))
