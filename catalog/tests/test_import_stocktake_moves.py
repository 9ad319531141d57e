"""A stocktake counts against the book at the time of the count: stock that moves before confirmation stays moved."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from catalog.imports.engine import ImportNotAllowed, import_job_check, import_job_confirm, import_job_create
from catalog.models import ImportJob, ImportState, Lot, MovementKind, StockMovement
from catalog.stock import stock_adjust, stock_dispense
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
    from catalog.stock import lot_receive

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


# --- A count taken against a book another count has changed since -----------------------------------


def adjust_in_another_connection(lot, counted_quantity: int) -> None:
    """A count entered by hand (the lot's stocktake form): its own connection, committed before the import goes on."""
    errors = []

    def adjust():
        try:
            stock_adjust(lot=Lot.objects.get(pk=lot.pk), counted_quantity=counted_quantity, reason="shelf recount")
        except Exception as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=adjust)
    thread.start()
    thread.join(30)
    assert not errors, errors


def counted_again_errors(job) -> list[tuple[int, str]]:
    return [(e["line"], e["column"]) for e in job.errors if "counted again" in e["message"]]


@pytest.mark.django_db
def test_a_recount_checked_before_the_first_count_was_applied_is_refused_and_the_lot_keeps_the_first_count(
    inventory_user,
):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    other = receive(medicine, 10, lot_number="L2")
    first = checked_stocktake(inventory_user, [["PARA-1", "L1", "47"]])
    recount = checked_stocktake(inventory_user, [["PARA-1", "L1", "48"], ["PARA-1", "L2", "9"]])
    assert first.state == recount.state == ImportState.READY

    first = import_job_confirm(job=first, user=inventory_user)
    assert first.state == ImportState.DONE, first.errors or first.message
    before = snapshot()
    recount = import_job_confirm(job=recount, user=inventory_user)

    assert recount.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in recount.errors] == [(2, "counted_quantity")]
    assert recount.errors[0]["message"] == (
        "Lot L1 was counted again since this file was checked: upload the file again."
    )
    assert snapshot() == before  # all or nothing: L2's line, fine by itself, is not written either
    lot.refresh_from_db()
    other.refresh_from_db()
    assert (lot.quantity, other.quantity) == (47, 10)
    ledger_balances()


@pytest.mark.django_db
def test_the_same_file_confirmed_again_after_it_was_applied_is_refused_for_its_lots(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    rows = [["PARA-1", "L1", "47"]]
    first = checked_stocktake(inventory_user, rows)
    again = checked_stocktake(inventory_user, rows)
    assert import_job_confirm(job=first, user=inventory_user).state == ImportState.DONE
    with pytest.raises(ImportNotAllowed):
        import_job_confirm(job=again, user=inventory_user)
    before = snapshot()

    again.refresh_from_db()
    again = import_job_confirm(job=again, user=inventory_user, confirm_duplicate=True)

    assert again.state == ImportState.INVALID
    assert counted_again_errors(again) == [(2, "counted_quantity")]
    assert snapshot() == before
    lot.refresh_from_db()
    assert lot.quantity == 47  # counted once: not 44
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 1
    ledger_balances()


@pytest.mark.django_db
def test_a_count_entered_by_hand_between_the_check_and_the_confirmation_refuses_the_file(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "50"]])  # matched the book when checked
    stock_adjust(lot=lot, counted_quantity=49, user=inventory_user, reason="shelf recount")
    before = snapshot()

    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.INVALID
    assert counted_again_errors(job) == [(2, "counted_quantity")]
    assert snapshot() == before
    lot.refresh_from_db()
    assert lot.quantity == 49
    ledger_balances()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_count_entered_by_hand_at_another_desk_before_the_confirmation_refuses_the_file(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "47"]])
    assert job.state == ImportState.READY

    adjust_in_another_connection(lot, 48)
    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.INVALID
    assert counted_again_errors(job) == [(2, "counted_quantity")]
    lot.refresh_from_db()
    assert lot.quantity == 48
    assert StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).count() == 1
    ledger_balances()


@pytest.mark.django_db
def test_a_lot_counted_before_the_check_and_sold_from_after_it_still_takes_the_counts_difference(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    stock_adjust(lot=lot, counted_quantity=49, user=inventory_user, reason="last month's count")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "45"]])  # 4 missing since that count
    stock_dispense(medicine=medicine, quantity=3)

    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert lot.quantity == 42
    latest = StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).latest("pk")
    assert (latest.quantity, latest.balance_after) == (-4, 42)
    ledger_balances()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_recount_applied_at_another_desk_refuses_the_file_and_a_sale_does_not(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    counted = receive(medicine, 50, lot_number="L1")
    sold = receive(medicine, 30, lot_number="L2", expires_in_days=30)  # sold first: nearest expiry
    recount = checked_stocktake(inventory_user, [["PARA-1", "L2", "29"]])
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "47"], ["PARA-1", "L2", "30"]])

    sell_in_another_connection(medicine, 2)
    assert import_job_confirm(job=recount, user=inventory_user).state == ImportState.DONE
    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.INVALID
    assert counted_again_errors(job) == [(3, "counted_quantity")]
    counted.refresh_from_db()
    sold.refresh_from_db()
    assert (counted.quantity, sold.quantity) == (50, 27)
    ledger_balances()


@pytest.mark.django_db
def test_the_check_reads_the_last_count_of_every_counted_lot_in_one_query(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lots = [receive(medicine, 20, lot_number=f"L{n}") for n in range(1, 6)]
    for lot in lots[:3]:
        stock_adjust(lot=lot, counted_quantity=19, reason="last month's count")
    job = import_job_create(
        kind="stocktake",
        filename="count.csv",
        data=csv_bytes([STOCKTAKE, *[["PARA-1", f"L{n}", "18"] for n in range(1, 6)]]),
        user=inventory_user,
        language="en",
    )

    with CaptureQueriesContext(connection) as queries:
        job = import_job_check(job_id=job.pk)

    assert job.state == ImportState.READY
    movement_table = StockMovement._meta.db_table
    assert len([q for q in queries.captured_queries if movement_table in q["sql"]]) == 1


@pytest.mark.django_db
def test_a_file_checked_without_the_lots_last_counts_is_refused_with_upload_again(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 50, lot_number="L1")
    job = checked_stocktake(inventory_user, [["PARA-1", "L1", "47"]])
    # As a job checked before the check recorded each lot's last count holds it: the book quantities only.
    preview = job.preview
    preview["basis"] = {"book": preview["basis"]["book"]}
    ImportJob.objects.filter(pk=job.pk).update(preview=preview)
    before = snapshot()

    job = import_job_confirm(job=job, user=inventory_user)

    assert job.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "counted_quantity")]
    assert "upload the file again" in job.errors[0]["message"]
    assert snapshot() == before
    lot.refresh_from_db()
    assert lot.quantity == 50
