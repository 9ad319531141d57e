import django.db.models.deletion
from django.db import migrations, models


def set_fillfactor(apps, schema_editor):
    """Room on every page for the rewrite of a per-place row on each sale (PostgreSQL HOT updates)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_medicinestock SET (fillfactor = 70)")
        schema_editor.execute("ALTER TABLE catalog_lotstock SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE catalog_medicinestock RESET (fillfactor)")
        schema_editor.execute("ALTER TABLE catalog_lotstock RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0010_stock_in_main_location")]

    operations = [
        migrations.AlterField(
            model_name="stockmovement",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="catalog.location",
                verbose_name="location",
            ),
        ),
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
