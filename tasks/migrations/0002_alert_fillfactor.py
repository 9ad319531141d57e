"""Room in every page of tasks_alert for each scan's rewrite of last_seen (PostgreSQL).

Every scan updates last_seen on every open alert. With full pages each update
is a new tuple on another page plus an entry in every index; with free room
on the page and no indexed column changed, PostgreSQL updates in place (HOT)
and touches no index. SQLite rewrites rows in place anyway: nothing to do.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tasks_alert SET (fillfactor = 50)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE tasks_alert RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("tasks", "0001_initial")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
