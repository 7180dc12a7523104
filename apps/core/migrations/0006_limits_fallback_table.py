"""The table of the `limits_fallback` cache (Django's DatabaseCache), where the sign-in
limits on guessing a password or a code count while Redis is away. Made by Django's own
`createcachetable`, which leaves an existing table alone."""

from django.core.management import call_command
from django.db import migrations

TABLE = "core_limits_fallback"


def create_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


def drop_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("core", "0005_seal_sessions")]

    operations = [migrations.RunPython(create_table, drop_table)]
