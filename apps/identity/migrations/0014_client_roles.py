from django.apps import apps as installed_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# Who registers Sign in with Gera's clients (README "Roles"): Catalogue, who registers
# the products, and Administrator, who manages access. Neither deletes one: its agents'
# grants keep naming it.
CLIENTS = ["allauth_idp_oidc.view_client", "allauth_idp_oidc.add_client", "allauth_idp_oidc.change_client"]
ROLES = {"Catalogue": CLIENTS, "Administrator": CLIENTS}


def grant_clients(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.add(*permissions)


def take_back_clients(apps, schema_editor):
    for group, permissions in _role_permissions(apps, schema_editor.connection.alias):
        group.permissions.remove(*permissions)


def _role_permissions(apps, using):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # As in 0007: permissions are otherwise made only after every migration ran.
    create_permissions(
        installed_apps.get_app_config("allauth_idp_oidc"), verbosity=0, using=using, apps=apps
    )
    for name, permissions in ROLES.items():
        yield (
            Group.objects.get(name=name),
            [
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (permission.split(".") for permission in permissions)
            ],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0013_agent_grants_by_oauth_client"),
        ("allauth_idp_oidc", "0003_client_allow_uri_wildcards"),
    ]

    operations = [migrations.RunPython(grant_clients, take_back_clients)]
