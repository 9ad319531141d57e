"""The search vocabulary: every distinct word of Medicine.search_text (PostgreSQL only).

A misspelt query is first corrected against this table of short words (the
most similar word with the same first letter and a similar length, a few
thousand similarity() calls at most), then searched as a plain substring,
which the GIN index on search_text serves with a cheap recheck. Running the
word-similarity operator on every medicine of a common substance would cost
~0.1 ms per row; a trigram index on the words themselves reads long posting
lists (~70 ms on 150,000 words). Table and index exist only on PostgreSQL; they are
kept out of the model state (no ORM model: only catalog.selectors and
catalog.services read and write it with SQL).
"""

from django.db import migrations, models

from catalog.migrations._postgres import PostgresOnlySQL


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0004_image_validators"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=[
                "CREATE TABLE IF NOT EXISTS catalog_search_term (term text PRIMARY KEY)",
                # "Is it a word or the start of one?" (typing in progress), whatever the collation.
                "CREATE INDEX IF NOT EXISTS search_term_prefix_idx ON catalog_search_term (term text_pattern_ops)",
                # Correction candidates: same first letter, similar length (typos rarely hit the first letter).
                "CREATE INDEX IF NOT EXISTS search_term_bucket_idx ON catalog_search_term (left(term, 1), length(term))",
                "INSERT INTO catalog_search_term (term) "
                "SELECT DISTINCT w FROM catalog_medicine, regexp_split_to_table(search_text, ' ') AS w "
                "WHERE length(w) >= 3 AND w !~ '[0-9]' ON CONFLICT DO NOTHING",
                # LIKE '%word%' estimates come from the column's histogram: with
                # 1,000 entries the planner sees that a substance matches
                # thousands of rows and walks the name index for a page of them.
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS 1000",
            ],
            reverse_sql=[
                "ALTER TABLE catalog_medicine ALTER COLUMN search_text SET STATISTICS -1",
                "DROP TABLE IF EXISTS catalog_search_term",
            ],
        ),
        migrations.AddIndex(
            model_name="medicine",
            index=models.Index(fields=["name", "id"], name="medicine_name_idx"),
        ),
    ]
