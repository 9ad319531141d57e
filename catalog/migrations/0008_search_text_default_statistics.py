"""Back to the default statistics target (100) for Medicine.search_text (PostgreSQL only).

Migration 0005 raised it to 1,000 so that the planner would see how many
medicines a word matches. Measured on the 100,000-medicine catalogue, the
default histogram estimates as well where the choice of plan turns (a word in
a few thousand medicines: estimated 5,900 for 4,800; a word in 60,000: 60,400)
and the plans are the same, while every search query was planned against ten
times as many histogram entries: 0.65 ms of planning per query instead of 0.19,
more than most searches take to run.
"""

from django.db import migrations

from catalog.migrations._postgres import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0007_ordering_indexes_with_id"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=[
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS -1",
                "ANALYZE catalog_medicine (search_text)",
            ],
            reverse_sql=[
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS 1000",
                "ANALYZE catalog_medicine (search_text)",
            ],
        ),
    ]
