from django.core.management.base import BaseCommand

from apps.trust.audit import audit_export_json


class Command(BaseCommand):
    help = (
        "Write the operator audit log with its chain hashes and newest signed head as JSON, "
        "for `python -m apps.trust.verify --audit`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", default="-", help="a file path, or - for standard output")

    def handle(self, *args, out: str, **options):
        document = audit_export_json()
        if out == "-":
            self.stdout.write(document)
        else:
            with open(out, "w", encoding="utf-8") as file:
                file.write(document + "\n")
            self.stderr.write(f"Wrote {out}")
