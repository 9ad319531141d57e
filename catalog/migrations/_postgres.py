"""Helpers for the catalogue's migrations (the leading underscore keeps Django from loading this as one)."""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that runs only on PostgreSQL (trigram search, the search vocabulary, statistics targets)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
