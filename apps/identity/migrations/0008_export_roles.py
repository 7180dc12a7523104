from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# Who downloads which lists as CSV (README "Roles"). Compliance exports all six lists and
# so may view the four it did not see; Support and Administrator export nothing.
EXPORTS = {
    "Finance": ["payments.export_payment", "payments.export_refund"],
    "Trust & Safety": ["trust.export_receipt", "trust.export_dispute"],
    "Compliance": [
        "core.export_auditevent",
        "payments.view_payment",
        "payments.export_payment",
        "payments.view_refund",
        "payments.export_refund",
        "dispatch.view_dispatchorder",
        "dispatch.export_dispatchorder",
        "trust.export_receipt",
        "trust.view_dispute",
        "trust.export_dispute",
    ],
}


def grant_exports(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.add(*permissions)


def revoke_exports(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.remove(*permissions)


def _role_permissions(apps, using):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _create_permissions(apps, using)
    for name, permissions in EXPORTS.items():
        yield (
            Group.objects.get(name=name),
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (permission.split(".") for permission in permissions)
            ],
        )


def _create_permissions(apps, using):
    """As in 0007: permissions are otherwise made only after every migration ran."""
    app_labels = {permission.split(".")[0] for names in EXPORTS.values() for permission in names}
    for app_label in sorted(app_labels):
        app_config = installed_apps.get_app_config(app_label)
        create_permissions(app_config, verbosity=0, using=using, apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0007_operator_roles"),
        ("core", "0004_export_permission"),
        ("dispatch", "0006_export_permission"),
        ("payments", "0015_export_permission"),
        ("trust", "0009_export_permission"),
    ]

    operations = [migrations.RunPython(grant_exports, revoke_exports)]
