"""A stocktake counts against the book at the time of the count: stock that moves before confirmation stays moved."""

import threading

import pytest
from django.core.management import call_command
from django.db import connections

from catalog.imports.engine import import_job_check, import_job_confirm, import_job_create
from catalog.models import ImportState, Lot, MovementKind, StockMovement
from catalog.services import stock_dispense
from catalog.tests.factories import MedicineFactory, receive
from catalog.tests.import_helpers import csv_bytes, snapshot
from conftest import requires_postgres

STOCKTAKE = ["sku", "lot_number", "counted_quantity"]


def checked_stocktake(user, rows):
    job = import_job_create(
        kind="stocktake", filename="count.csv", data=csv_bytes([STOCKTAKE, *rows]), user=user, language="en"
    )
    return import_job_check(job_id=job.pk)


def ledger_balances() -> None:
    call_command("check_stock_ledger")  # raises CommandError on any mismatch


def sell_in_another_connection(medicine, quantity: int) -> None:
    """A sale at the till: its own connection and transaction, committed before the import goes on."""
    errors = []

    def sell():
        try:
            stock_dispense(medicine=medicine, quantity=quantity, reference="till-1")
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=sell)
    thread.start()
    thread.join(30)
    assert not errors, errors


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sale_between_the_preview_and_the_confirmation_is_not_erased_by_the_count(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 47, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "47"]])
    assert job.state == ImportState.READY and job.unchanged_rows == 1

    sell_in_another_connection(medicine, 2)
    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert lot.quantity == 45  # the two units sold are gone from the shelf and from the book
    assert not StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).exists()
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 45
    ledger_balances()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_shortfall_found_by_the_count_is_applied_on_top_of_later_sales(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 47, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "40"]])
    assert job.state == ImportState.READY and job.updated_rows == 1

    sell_in_another_connection(medicine, 2)
    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert lot.quantity == 38
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.quantity, adjustment.balance_after, adjustment.user) == (-7, 38, inventory_user)
    ledger_balances()


@pytest.mark.django_db
def test_a_count_that_later_sales_have_overtaken_is_refused_at_confirmation_and_writes_nothing(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    receive(medicine, 47, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "5"]])
    assert job.state == ImportState.READY
    stock_dispense(medicine=medicine, quantity=45)  # 2 left; the count said 42 were missing
    before = snapshot()

    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "counted_quantity")]
    assert "47" in job.errors[0]["message"] and "2" in job.errors[0]["message"]
    assert snapshot() == before
    assert Lot.objects.get().quantity == 2
    ledger_balances()


@pytest.mark.django_db
def test_a_receipt_between_the_preview_and_the_confirmation_is_kept_beside_the_count(inventory_user):
    from catalog.services import lot_receive

    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "9"]])
    lot_receive(
        medicine=medicine,
        lot_number="L1",
        expiry_date=lot.expiry_date,
        quantity=20,
        purchase_price=lot.purchase_price,
        supplier="",
    )

    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert lot.quantity == 29
    ledger_balances()
