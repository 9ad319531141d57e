import datetime
import os
import subprocess
import sys
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Lot, LotStock, Medicine, StockMovement
from catalog.stock import stock_dispense, stock_write_off

from .factories import MedicineFactory, receive

pytestmark = pytest.mark.django_db


def run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("check_stock_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def stocked():
    medicine = MedicineFactory(name="Aspirin")
    lot = receive(medicine, 10, lot_number="ASP-1")
    stock_dispense(medicine=medicine, quantity=3)
    stock_write_off(lot=lot, quantity=1, reason="Broken")
    return medicine, lot


def test_a_ledger_written_by_the_services_balances(stocked):
    out, err = run()
    assert "balances" in out and err == ""


def test_a_lot_quantity_changed_behind_the_services_back_is_reported(stocked):
    _, lot = stocked
    Lot.objects.filter(pk=lot.pk).update(quantity=9)

    with pytest.raises(CommandError) as caught:
        run()

    assert "stock ledger problem" in str(caught.value)


def test_the_report_names_the_lot_and_both_figures(stocked):
    _, lot = stocked
    Lot.objects.filter(pk=lot.pk).update(quantity=9)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert f"[lot_sum] #{lot.pk}: lot ASP-1 of Aspirin: quantity 9, places hold 6" in report


def test_the_report_names_the_place_where_a_lots_stock_disagrees_with_its_movements(stocked):
    _, lot = stocked
    LotStock.objects.filter(lot=lot).update(quantity=9)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert "lot ASP-1 of Aspirin at Main pharmacy: stock 9, movements there sum to 6" in report
    assert "last balance_after 6, stock 9" in report


def test_a_broken_balance_chain_is_reported(stocked):
    _, lot = stocked
    movement = StockMovement.objects.filter(lot=lot).order_by("pk")[1]
    StockMovement.objects.filter(pk=movement.pk).update(balance_after=8)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("check_stock_ledger", stdout=StringIO(), stderr=err)
    assert f"movement #{movement.pk}: balance_after 8, expected 7" in err.getvalue()


def test_stale_derived_columns_are_reported_and_fixed_on_request(stocked):
    medicine, _ = stocked
    Medicine.objects.filter(pk=medicine.pk).update(sellable_quantity=100)

    with pytest.raises(CommandError):
        run()
    out = StringIO()
    call_command("check_stock_ledger", "--fix-derived", stdout=out, stderr=StringIO())

    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 6
    assert "balances" in out.getvalue()


def test_a_lot_past_its_expiry_before_the_sweep_shows_as_a_derived_mismatch(stocked):
    with time_machine.travel(timezone.now() + datetime.timedelta(days=400), tick=False):
        with pytest.raises(CommandError) as caught:
            run()
    # Stale at its one place and for the chain.
    assert "2 in medicines' derived columns" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_from_the_shell_on_a_mismatch(settings):
    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("the in-memory SQLite test database is invisible to another process")
    medicine = MedicineFactory()
    lot = receive(medicine, 5)
    Lot.objects.filter(pk=lot.pk).update(quantity=4)
    env_db = settings.DATABASES["default"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check_stock_ledger"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": _database_url(env_db), "DJANGO_SETTINGS_MODULE": "backoffice.settings.test"},
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "quantity 4, places hold 5" in result.stderr


def _database_url(db) -> str:
    if "sqlite" in db["ENGINE"]:
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
