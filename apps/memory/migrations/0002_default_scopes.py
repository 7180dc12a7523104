from django.db import migrations

from apps.memory.scopes import ensure_default_scopes


def create_scopes(apps, schema_editor):
    ensure_default_scopes(apps.get_model("memory", "MemoryScope"))


class Migration(migrations.Migration):
    dependencies = [("memory", "0001_initial")]

    operations = [migrations.RunPython(create_scopes, migrations.RunPython.noop)]
