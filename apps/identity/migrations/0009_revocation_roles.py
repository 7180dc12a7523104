from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# Who revokes what a user gave (README "Roles"): Support revokes a consent at the user's
# request, Trust & Safety an agent grant that is abused. Both pages are read-only otherwise:
# the change permission lets them revoke, never widen.
REVOCATIONS = {
    "Support": ["memory.view_consentgrant", "memory.change_consentgrant"],
    "Trust & Safety": ["identity.view_agentgrant", "identity.change_agentgrant"],
}


def grant_revocations(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.add(*permissions)


def take_back_revocations(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.remove(*permissions)


def _role_permissions(apps, using):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_label in ("identity", "memory"):  # as in 0007: made otherwise only after all ran
        create_permissions(
            installed_apps.get_app_config(app_label), verbosity=0, using=using, apps=apps
        )
    for name, permissions in REVOCATIONS.items():
        yield (
            Group.objects.get(name=name),
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (permission.split(".") for permission in permissions)
            ],
        )


class Migration(migrations.Migration):
    dependencies = [("identity", "0008_export_roles"), ("memory", "0003_evidence_is_never_deleted")]

    operations = [migrations.RunPython(grant_revocations, take_back_revocations)]
