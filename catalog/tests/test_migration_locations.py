"""Migration 0010: a database with one pool of stock migrates to one place with every figure unchanged."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from catalog.ledger import all_problems

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("catalog", "0008_search_text_statistics_500"),
    ("tasks", "0002_alert_fillfactor"),
    ("accounts", "0007_phone_code_requested_from"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_todays_stock_becomes_the_main_pharmacys_with_every_figure_unchanged():
    old = migrate(BEFORE)
    Category, Manufacturer = old.get_model("catalog", "Category"), old.get_model("catalog", "Manufacturer")
    Medicine, Lot = old.get_model("catalog", "Medicine"), old.get_model("catalog", "Lot")
    StockMovement, Alert = old.get_model("catalog", "StockMovement"), old.get_model("tasks", "Alert")
    category = Category.objects.create(name="Analgesics", slug="analgesics")
    maker = Manufacturer.objects.create(name="Nobel")
    today = datetime.date.today()
    figures = {}
    for n, (units, sold) in enumerate([(10, 3), (7, 7), (0, 0)]):
        medicine = Medicine.objects.create(
            name=f"M{n}", slug=f"m{n}", sku=f"SKU{n}", manufacturer=maker, category=category,
            dosage_form="tablet", price=Decimal("1000"), sellable_quantity=units - sold,
            nearest_expiry=today + datetime.timedelta(days=90) if units - sold else None,
        )  # fmt: skip
        if units:
            lot = Lot.objects.create(
                medicine=medicine, lot_number=f"L{n}", expiry_date=today + datetime.timedelta(days=90),
                received_date=today, quantity=units - sold, purchase_price=Decimal("500"),
            )  # fmt: skip
            StockMovement.objects.create(lot=lot, kind="receipt", quantity=units, balance_after=units)
            if sold:
                StockMovement.objects.create(lot=lot, kind="dispense", quantity=-sold, balance_after=units - sold)
        figures[medicine.pk] = (units - sold, medicine.nearest_expiry)
    Alert.objects.create(
        kind="low_stock", severity="warning", medicine_id=min(figures), first_seen="2026-01-01T00:00Z",
        last_seen="2026-01-01T00:00Z",
    )  # fmt: skip

    try:
        call_command("migrate", verbosity=0)

        from catalog.models import Location, LotStock, MedicineStock
        from catalog.models import Medicine as NewMedicine
        from catalog.models import StockMovement as Moves
        from tasks.models import Alert as NewAlert

        main = Location.objects.get()
        assert (main.code, main.name) == ("main", "Main pharmacy")
        assert sorted(LotStock.objects.values_list("lot__lot_number", "location", "quantity")) == [
            ("L0", main.pk, 7),
            ("L1", main.pk, 0),
        ]
        assert set(Moves.objects.values_list("location", flat=True)) == {main.pk}
        for medicine in NewMedicine.objects.all():
            assert (medicine.sellable_quantity, medicine.nearest_expiry) == figures[medicine.pk]
        assert sorted(MedicineStock.objects.values_list("medicine", "sellable_quantity")) == [
            (min(figures), 7),
            (min(figures) + 1, 0),
        ]
        assert NewAlert.objects.get().location == main
        assert all_problems() == []
    finally:
        call_command("migrate", verbosity=0)
