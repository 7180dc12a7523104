from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# The operators' roles as Django groups, each with the least its work needs; the README's
# "Roles" table lists the same permissions (a test checks the database against it).
# A role changes by a new migration, so every database and the README stay alike.
ROLES = {
    "Support": [
        "identity.view_user",
        "account.view_emailaddress",
        "identity.view_subscription",
        "identity.view_agentgrant",
        "dispatch.view_dispatchorder",
        "dispatch.view_dispatchtransition",
        "dispatch.view_callbackdelivery",
        "dispatch.retry_dispatchorder",
        "payments.view_payment",
        "payments.view_paymentevent",
        "trust.view_dispute",
    ],
    "Finance": [
        "payments.view_payment",
        "payments.view_paymentevent",
        "payments.refund_payment",
        "payments.view_refund",
        "payments.change_refund",
        "payments.view_quote",
        "exchange.view_rate",
        "payments.view_rail",
        "payments.change_rail",
        "payments.view_routingrule",
        "payments.add_routingrule",
        "payments.change_routingrule",
        "payments.delete_routingrule",
        "payments.view_providerevent",
    ],
    "Trust & Safety": [
        "trust.view_dispute",
        "trust.add_dispute",
        "trust.resolve_dispute",
        "trust.view_receipt",
        "trust.view_treehead",
        "trust.view_signingkey",
        "trust.rotate_signingkey",
    ],
    "Catalogue": [
        "catalog.view_product",
        "catalog.add_product",
        "catalog.change_product",
        "catalog.view_skill",
        "catalog.add_skill",
        "catalog.change_skill",
        "catalog.view_provider",
        "catalog.add_provider",
        "catalog.change_provider",
        "catalog.rotate_provider_secret",
    ],
    "Compliance": [
        "core.view_auditevent",
        "trust.view_auditcheckpoint",
        "memory.view_consentgrant",
        "memory.view_accesslogentry",
        "trust.view_receipt",
        "trust.view_treehead",
    ],
    "Administrator": [
        "identity.view_user",
        "identity.add_user",
        "identity.change_user",
        "account.view_emailaddress",
        "account.add_emailaddress",
        "account.change_emailaddress",
        "auth.view_group",
        "mfa.view_authenticator",
        "mfa.delete_authenticator",
    ],
}


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _create_permissions(apps, schema_editor.connection.alias)
    for name, permissions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (permission.split(".") for permission in permissions)
            ]
        )


def _create_permissions(apps, using):
    """Permissions are otherwise made after every migration ran (post_migrate), so on a
    fresh database they would not exist yet. Made here from this migration's models (the
    installed app config only tells create_permissions the app has models)."""
    app_labels = {permission.split(".")[0] for names in ROLES.values() for permission in names}
    for app_label in sorted(app_labels):
        app_config = installed_apps.get_app_config(app_label)
        create_permissions(app_config, verbosity=0, using=using, apps=apps)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0006_currency_choices_geraos_uses"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("catalog", "0007_skill_input_schema_validator"),
        ("core", "0003_audit_log"),
        ("dispatch", "0004_status_labels"),
        ("exchange", "0001_initial"),
        ("memory", "0003_evidence_is_never_deleted"),
        ("mfa", "0003_authenticator_type_uniq"),
        ("payments", "0014_evidence_is_never_deleted"),
        ("trust", "0007_evidence_is_never_deleted"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
