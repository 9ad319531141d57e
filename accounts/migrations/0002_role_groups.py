"""Create the staff role groups from accounts/roles.py.

Permissions of apps migrated later are added by the post-migrate sync
(accounts.apps), which runs at the end of every ``migrate``.
"""

from django.db import migrations


def create_role_groups(apps, schema_editor):
    from accounts.roles import ROLE_PERMISSIONS, group_name

    group_model = apps.get_model("auth", "Group")
    for role in ROLE_PERMISSIONS:
        group_model.objects.get_or_create(name=group_name(role))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
