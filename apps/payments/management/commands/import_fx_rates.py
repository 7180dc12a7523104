from django.core.management.base import BaseCommand

from apps.payments import fx


class Command(BaseCommand):
    help = "Import exchange rates from GERAOS_FX_SOURCE (or --source PATH_OR_HTTPS_URL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="a JSON file or https URL: {base, rates}")

    def handle(self, *args, source: str | None = None, **options) -> None:
        count = fx.import_rates(source)
        self.stdout.write(self.style.SUCCESS(f"Imported rates for {count} currencies."))
