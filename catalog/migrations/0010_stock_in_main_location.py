"""Today's one pool of stock becomes the stock of one place, "Main pharmacy", with no figure changed.

Every lot's quantity becomes its stock there, every ledger movement names it,
and every medicine that has lots gets its per-place derived row with the
values its chain columns hold (one place: the same numbers). Set-based SQL, so
a catalogue of 100,000 medicines migrates in seconds. ``check_stock_ledger``
passes before and after (``catalog/tests/test_migration_locations.py``).
"""

from django.db import migrations

MAIN = {"name": "Main pharmacy", "code": "main", "kind": "branch"}


def forwards(apps, schema_editor):
    Location = apps.get_model("catalog", "Location")
    Lot = apps.get_model("catalog", "Lot")
    if not Lot.objects.exists() and not Location.objects.exists():
        return  # a new database: places are created by their owners (or the demo)
    main = Location.objects.filter(code=MAIN["code"]).first() or Location.objects.create(**MAIN)
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote('catalog_lotstock')} (lot_id, location_id, quantity) "
            f"SELECT id, %s, quantity FROM {quote('catalog_lot')}",
            [main.pk],
        )
        cursor.execute(f"UPDATE {quote('catalog_stockmovement')} SET location_id = %s", [main.pk])
        cursor.execute(
            f"INSERT INTO {quote('catalog_medicinestock')} (medicine_id, location_id, sellable_quantity, nearest_expiry) "
            f"SELECT m.id, %s, m.sellable_quantity, m.nearest_expiry FROM {quote('catalog_medicine')} m "
            f"WHERE EXISTS (SELECT 1 FROM {quote('catalog_lot')} l WHERE l.medicine_id = m.id)",
            [main.pk],
        )


def backwards(apps, schema_editor):
    LotStock = apps.get_model("catalog", "LotStock")
    MedicineStock = apps.get_model("catalog", "MedicineStock")
    Location = apps.get_model("catalog", "Location")
    if Location.objects.exclude(code=MAIN["code"]).exclude(kind="transit").exists():
        raise RuntimeError("Stock is in more than one place: it cannot be put back into one pool.")
    MedicineStock.objects.all().delete()
    LotStock.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0009_locations")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
