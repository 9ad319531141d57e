"""A statistics target of 500 rather than 1,000 for Medicine.search_text (PostgreSQL only).

Migration 0005 raised it to 1,000 so that the planner would see how many
medicines a word matches: a word in thousands of medicines is served by
walking the (name, id) index for a page, a rare one by the trigram index and a
sort. The planner checks every histogram entry against the LIKE pattern, so
each search query paid ~0.65 ms of planning, more than most searches take to
run. Measured on the 100,000-medicine catalogue (bench/bench_catalog.py and
bench/bench_api.py):

- 1,000: planning ~0.65 ms; medicine_search p50 3.0 ms, p95 4.1 ms;
- 500: planning ~0.38 ms; p50 2.8 ms, p95 4.0 ms; the API's uncached search
  0.16x -> 0.19x of a bare Django response (PostgreSQL 1.8 -> 1.4 ms of CPU per request);
- 300 or the default 100: planning down to ~0.19 ms, but a rare word (about a
  hundred medicines) is estimated at 1% of the catalogue, the planner walks
  the name index through most of the table, and p95 rises to 13 ms with single
  searches of 50 ms.
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
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS 500",
                "ANALYZE catalog_medicine (search_text)",
            ],
            reverse_sql=[
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS 1000",
                "ANALYZE catalog_medicine (search_text)",
            ],
        ),
    ]
