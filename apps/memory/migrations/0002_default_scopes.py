from django.db import migrations

# The memory scopes every GeraOS starts with, written out as they were when this
# migration was made; operators add and describe more in the admin. Only what is missing
# is created.
SCOPES = [
    ("preferences", "Preferences", "How you like things done: times, languages, brands.", "normal"),
    ("home", "Home", "Your home: address area, appliances, access notes.", "normal"),
    ("health", "Health", "Health context for consultations.", "sensitive"),
    ("payments", "Payments", "How you pay and past spending.", "sensitive"),
    ("conversations", "Conversations", "Summaries of past conversations with agents.", "normal"),
]


def create_scopes(apps, schema_editor):
    MemoryScope = apps.get_model("memory", "MemoryScope")
    for code, name, description, sensitivity in SCOPES:
        MemoryScope.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "sensitivity": sensitivity},
        )


class Migration(migrations.Migration):
    dependencies = [("memory", "0001_initial")]

    operations = [migrations.RunPython(create_scopes, migrations.RunPython.noop)]
