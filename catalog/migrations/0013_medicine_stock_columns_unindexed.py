"""The chain's derived stock columns leave the medicine's indexes, and its pages get room (PostgreSQL).

A receipt import of 100,000 rows spent most of its confirmation rewriting
``catalog_medicine`` rows: ``sellable_quantity`` and ``nearest_expiry`` were
indexed, so every change of them wrote a new row version into all 18 indexes.
The figures per place live in ``catalog_medicinestock`` now; the chain's
columns stay on the row for the lists and the public API, unindexed, so with
free room on the page PostgreSQL updates them in place (HOT). The fillfactor
applies to pages written from now on (new catalogues, ``generate_catalog``, a
``VACUUM FULL``); an existing table gains it as its pages are rewritten.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_medicine SET (fillfactor = 80)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_medicine RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_importjob_location")]

    operations = [
        migrations.RemoveIndex(model_name="medicine", name="medicine_active_stock_idx"),
        migrations.RemoveIndex(model_name="medicine", name="medicine_nearest_expiry_idx"),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
