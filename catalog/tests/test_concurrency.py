"""Real concurrent transactions against PostgreSQL: row locks, not mocks.

Each thread has its own database connection; a barrier releases them at the
same moment so their transactions overlap.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from catalog.exceptions import InsufficientStock
from catalog.ledger import all_problems
from catalog.models import MovementKind, StockMovement
from catalog.stock import stock_adjust, stock_dispense, stock_dispense_lines, stock_write_off
from conftest import requires_postgres
from conftest import run_at_once as run_together

from .factories import MedicineFactory, receive

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def run_at_once(jobs):
    """Run each callable in its own thread, all released together; returns outcome names."""
    return [
        "short"
        if isinstance(outcome, InsufficientStock)
        else f"{type(outcome).__name__}: {outcome}"
        if isinstance(outcome, Exception)
        else "ok"
        for outcome in run_together(jobs)
    ]


def test_concurrent_dispenses_never_sell_more_than_the_stock():
    medicine = MedicineFactory()
    lots = [receive(medicine, 17, expires_in_days=30 + i) for i in range(3)]  # 51 units

    outcomes = run_at_once([lambda: stock_dispense(medicine=medicine, quantity=3) for _ in range(THREADS)])

    counts = Counter(outcomes)
    assert set(counts) <= {"ok", "short"}, counts
    assert counts["ok"] == 17 and counts["short"] == THREADS - 17  # 17 x 3 = 51
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 0
    assert medicine.number_sold == 51
    for lot in lots:
        lot.refresh_from_db()
        assert lot.quantity == 0
    assert -sum(StockMovement.objects.filter(kind=MovementKind.DISPENSE).values_list("quantity", flat=True)) == 51
    assert [str(p) for p in all_problems()] == []


def test_crossing_orders_write_offs_and_counts_on_the_same_rows_neither_deadlock_nor_oversell():
    first, second = MedicineFactory(), MedicineFactory()
    first_lots = [receive(first, 20, expires_in_days=60 + i) for i in range(2)]
    second_lots = [receive(second, 20, expires_in_days=90 + i) for i in range(2)]

    jobs = []
    for i in range(THREADS):
        if i % 4 == 0:
            jobs.append(lambda: stock_dispense_lines(lines=[(first, 2), (second, 2)]))
        elif i % 4 == 1:
            jobs.append(lambda: stock_dispense_lines(lines=[(second, 2), (first, 2)]))
        elif i % 4 == 2:
            lot = (first_lots + second_lots)[i % 3]
            jobs.append(lambda lot=lot: stock_write_off(lot=lot, quantity=1, reason="Damaged in transit"))
        else:
            lot = second_lots[-1]
            jobs.append(lambda lot=lot: stock_adjust(lot=lot, counted_quantity=lot.quantity, reason="Spot count"))

    outcomes = run_at_once(jobs)

    assert set(outcomes) <= {"ok", "short"}, Counter(outcomes)
    for medicine in (first, second):
        medicine.refresh_from_db()
        assert medicine.sellable_quantity >= 0
    assert [str(p) for p in all_problems()] == []


def test_sales_and_transfers_of_the_same_lots_across_two_places_neither_deadlock_nor_go_negative():
    """20 threads: sales at the warehouse and at a branch, transfers both ways and their receipts, same lots."""
    from catalog.models import LotStock, MedicineStock
    from catalog.stock import transfer_create, transfer_receive, transfer_send

    from .factories import LocationFactory, main_location

    main, branch = main_location(), LocationFactory(code="chilonzor", name="Chilonzor")
    first, second = MedicineFactory(), MedicineFactory()
    for medicine in (first, second):
        for i in range(2):
            lot = receive(medicine, 15, expires_in_days=60 + i, location=main)
            receive(medicine, 15, expires_in_days=60 + i, location=branch, lot_number=lot.lot_number)
    # Transfers drafted up front; half of them are sent and received by the threads.
    drafts = [
        transfer_create(source=source, destination=destination, lines=[(first, 3), (second, 2)])
        for source, destination in [(main, branch), (branch, main)] * 5
    ]

    def move(transfer):
        def job():
            transfer_send(transfer=transfer)
            transfer_receive(transfer=transfer)

        return job

    jobs = []
    for i in range(20):
        if i % 2 == 0:
            jobs.append(move(drafts[i // 2]))
        else:
            place = main if i % 4 == 1 else branch
            lines = [(first, 2), (second, 1)] if i % 3 else [(second, 1), (first, 2)]
            jobs.append(lambda place=place, lines=lines: stock_dispense_lines(lines=lines, location=place))

    outcomes = run_at_once(jobs)

    assert set(outcomes) <= {"ok", "short"}, Counter(outcomes)
    assert not LotStock.objects.filter(quantity__lt=0).exists()
    assert not LotStock.objects.filter(location__kind="transit", quantity__gt=0).exists()  # every transfer arrived
    for medicine in (first, second):
        medicine.refresh_from_db()
        places = MedicineStock.objects.filter(medicine=medicine).values_list("sellable_quantity", flat=True)
        assert medicine.sellable_quantity == sum(places)
    assert all(outcomes[i] == "ok" for i in range(0, 20, 2))  # every transfer had the stock to travel
    sales = sum(1 for i in range(1, 20, 2) if outcomes[i] == "ok")
    sold = -sum(StockMovement.objects.filter(kind=MovementKind.DISPENSE).values_list("quantity", flat=True))
    assert sold == 3 * sales
    assert [str(p) for p in all_problems()] == []


def test_two_tills_at_one_branch_selling_different_medicines_do_not_wait_for_each_other():
    """A sale locks its own rows only, never the branch's row its 'sellable' filter joins (nor the lot's)."""
    from django.db import transaction

    from .factories import main_location

    branch = main_location()
    first, second = MedicineFactory(), MedicineFactory()
    receive(first, 5, location=branch)
    receive(second, 5, location=branch)
    first_holds, second_done = threading.Event(), threading.Event()
    outcome = {}

    def till_one():
        try:
            with transaction.atomic():
                stock_dispense(medicine=first, quantity=1, location=branch)
                first_holds.set()
                second_done.wait(timeout=10)  # the transaction, and its locks, stay open meanwhile
        finally:
            connection.close()

    def till_two():
        try:
            first_holds.wait(timeout=10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                stock_dispense(medicine=second, quantity=1, location=branch)
            outcome["second"] = "ok"
        except Exception as exc:
            outcome["second"] = f"{type(exc).__name__}: {exc}"
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=till_one), threading.Thread(target=till_two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcome == {"second": "ok"}
