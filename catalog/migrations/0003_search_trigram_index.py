"""Trigram search on Medicine.search_text (PostgreSQL only).

pg_trgm's GIN index serves the ``%>`` (word similarity) operator that
``catalog.selectors.medicine_search`` filters with, so a typo-tolerant search
stays an index scan on a large catalogue. Both operations do nothing on
SQLite, whose fallback search needs neither. The index is kept out of the
model state on purpose: a GinIndex in ``Medicine.Meta`` would be created on
SQLite too.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from catalog.migrations._postgres import PostgresOnlySQL

INDEX_NAME = "medicine_search_trgm_idx"


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_importjob"),
    ]

    operations = [
        # No-op on other vendors (CreateExtension checks the vendor itself).
        TrigramExtension(),
        PostgresOnlySQL(
            sql=f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON catalog_medicine USING gin (search_text gin_trgm_ops)",
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX_NAME}",
        ),
    ]
