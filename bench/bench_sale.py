"""The counter sale on the 100,000-medicine catalogue over 10 places.

- **One 3-line sale** (``orders.services.counter_sale_complete``: the shift's lock, the prices read
  fresh, the order, its lines, the stock core's FEFO dispense of every line, the lots per line, the
  cash payment): p50 and p95 of 300 sales, each of one unit of three different medicines at a
  branch, rolled back like ``bench_stock`` so the catalogue stays as it is. The baseline, measured
  interleaved with it: the stock core alone (``stock_dispense_lines``) taking the same kind of three
  lines at the same place, rolled back too: what the order adds to the stock it moves.
- **20 cashiers at once**: 20 processes (forked, as a server's worker processes are: threads of one
  Python process would queue on its interpreter lock, which no deployment of 20 tills does), each with
  its own connection (warmed by a few rolled-back sales, as a server's worker has served requests before)
  and its own open shift at one branch, selling 3-line sales of the same 10 medicines
  (two lots each at that branch) until every unit is gone; committed, the receipt's fiscal task run on
  commit as ``make run`` does (eagerly, console backend). Twice: back to back (the machine saturated),
  then each cashier pausing ~1 s between sales (about half of what the machine completes). Sales per
  second, p50 and p95 of a sale up to its commit (the fiscal task after it is not counted) and the part
  of it spent waiting for row locks, beside 30 sales made by one cashier alone just before. Then the
  checks: nothing oversold, no deadlock or other error, the ledger of every lot balanced
  (``catalog.ledger``, what ``check_stock_ledger`` runs), the derived stock columns right, every shift's
  Z-report figures (``orders.selectors.shift_figures``) equal to the sum of its orders and payments.
  Timings never fail a benchmark; a failed check is printed as ``FAILED`` and summed up in capitals at
  the end (without stopping the modules after this one).

The ten medicines and the cashiers are the bench's own (``bench-sale-*``), made once and reused; each run
receives fresh lots of the ten and closes every shift it opened.
"""

from __future__ import annotations

import datetime
import multiprocessing
import queue
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import OperationalError, connection, connections, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from bench.common import Figure, ensure_catalog, median, percentile, report

REPEAT = 300
CASHIERS = 20
HOT_MEDICINES = 10
LOTS_EACH = 2
UNITS_PER_LOT = 45  # 10 medicines x 2 lots x 45 = 900 units: about 300 sales of 3 units
LINES = 3
# The second round: each cashier pauses ~1 s between sales, 20 sales/s offered, about half of what the two
# cores complete back to back; a real till sells every minute or two.
PACE = 1.0
WARM_UP = 6  # rolled-back sales each cashier makes on its own connection before the round starts
CASHIER_PHONE = "+99897770{:04d}"  # the bench's own cashiers, found again by their numbers


class _Rollback(Exception):
    pass


@dataclass
class _Till:
    """One cashier's run: what they sold, what was refused, what went wrong."""

    shift: object
    seconds: list[float] = field(default_factory=list)
    lock_waits: list[float] = field(default_factory=list)
    orders: list[tuple[int, Decimal]] = field(default_factory=list)  # (order id, total)
    shortages: int = 0
    deadlocks: int = 0
    errors: list[str] = field(default_factory=list)


def run() -> None:
    import logging

    from catalog.models import Location, LocationKind, LotStock, Medicine

    # The console fiscal backend and the eager task runner log every receipt at INFO: hundreds of lines.
    for name in ("orders.fiscal", "celery.app.trace", "kombu"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ensure_catalog()
    branch = Location.objects.get(
        pk=LotStock.objects.filter(location__kind=LocationKind.BRANCH, quantity__gt=0)
        .values_list("location_id", flat=True)
        .first()
    )
    stocked = list(
        LotStock.objects.filter(
            location=branch,
            quantity__gt=0,
            lot__status="available",
            lot__expiry_date__gt=datetime.date.today() + datetime.timedelta(days=2),
            lot__medicine__is_active=True,
            lot__medicine__is_prescription=False,
            lot__medicine__is_controlled=False,
        )
        .values_list("lot__medicine_id", flat=True)
        .distinct()[:5000]
    )
    picked = random.Random(15).sample(stocked, min(len(stocked), 2 * LINES * (REPEAT + 10)))
    medicines = Medicine.objects.in_bulk(picked)
    print(f"lot-location rows: {LotStock.objects.count():,}; sales at {branch.name} (#{branch.pk})")

    failures: list[str] = []
    one_sale(branch, [medicines[pk] for pk in picked], failures)
    many_cashiers(branch, failures, pace=0)
    many_cashiers(branch, failures, pace=PACE)
    if failures:
        print(f"\n!!! {len(failures)} CORRECTNESS FAILURE(S) IN THE COUNTER SALE !!!")
        for failure in failures:
            print(f"  FAILED: {failure}")
        return
    print("every correctness check passed")


# --- helpers --------------------------------------------------------------------------------------


def _cashier(n: int, branch):
    """The bench's cashier ``n``: a pharmacist working at ``branch``, with no shift left open."""
    from accounts.models import User
    from accounts.roles import Role
    from orders.models import Shift, ShiftState
    from orders.services import shift_close

    user = User.objects.filter(phone=CASHIER_PHONE.format(n)).first()
    if user is None:
        user = User.objects.create_user(
            phone=CASHIER_PHONE.format(n), password=None, role=Role.PHARMACIST, first_name=f"Bench {n}"
        )
    user.locations.set([branch])
    # A run stopped half-way leaves its shifts open: close them so this run opens its own.
    for shift in Shift.objects.filter(cashier=user, state=ShiftState.OPEN):
        shift_close(shift=shift, user=user, counted_cash=Decimal("0"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions or places from before


def _sale(medicines, quantity: int = 1):
    """The lines and the exact cash payment a till sends for one unit of each medicine, at its shelf price."""
    from orders.rules import line_figures
    from orders.services import SaleLine
    from payments.services import PaymentIn

    lines, total = [], Decimal("0")
    for medicine in medicines:
        figures = line_figures(
            quantity=quantity,
            parts_per_pack=medicine.parts_per_pack,
            pack_price=medicine.price,
            part_price=medicine.unit_price,
            discount=Decimal("0"),
            vat_rate=medicine.vat_rate,
        )
        lines.append(SaleLine(medicine_id=medicine.pk, quantity=quantity, expected_amount=figures.amount))
        total += figures.total
    return lines, [PaymentIn(method="cash", amount=total, tendered=total)]


def _close(shift, user) -> None:
    from orders.selectors import shift_figures
    from orders.services import shift_close

    shift_close(shift=shift, user=user, counted_cash=shift_figures(shift).expected_cash)


# --- a) one 3-line sale ---------------------------------------------------------------------------


def one_sale(branch, medicines, failures: list[str]) -> None:
    from catalog.stock import stock_dispense_lines
    from orders.services import counter_sale_complete, shift_open

    user = _cashier(0, branch)
    shift = shift_open(location=branch, user=user, opening_cash=Decimal("0"))
    triples = [medicines[i : i + LINES] for i in range(0, len(medicines) - LINES + 1, LINES)]

    def sale(triple):
        lines, payments_in = _sale(triple)
        try:
            with transaction.atomic():
                counter_sale_complete(shift=shift, lines=lines, payments_in=payments_in, user=user)
                raise _Rollback
        except _Rollback:
            pass

    def dispense(triple):
        try:
            with transaction.atomic():
                stock_dispense_lines(lines=[(m, 1) for m in triple], location=branch, user=user, reference="bench")
                raise _Rollback
        except _Rollback:
            pass

    def timed(fn, triple) -> float:
        start = time.perf_counter()
        fn(triple)
        return time.perf_counter() - start

    for triple in triples[:5]:  # warm-up: compiled reads, permissions and places cached on the user
        sale(triple)
        dispense(triple)
    with CaptureQueriesContext(connection) as sale_queries:
        sale(triples[5])
    with CaptureQueriesContext(connection) as dispense_queries:
        dispense(triples[6])
    sales, dispenses = [], []
    # Interleaved, each on its own three medicines, taking turns at going first: a noisy neighbour or
    # a warm cache costs both the same.
    for n in range(REPEAT):
        first, second = triples[7 + 2 * n], triples[8 + 2 * n]
        if n % 2:
            sales.append(timed(sale, first))
            dispenses.append(timed(dispense, second))
        else:
            dispenses.append(timed(dispense, first))
            sales.append(timed(sale, second))
    shift.refresh_from_db()
    if shift.documents != 0 or shift.orders.exists():
        failures.append(f"rolled-back sales left documents behind in shift #{shift.pk}")
    _close(shift, user)

    # Statements inside the transaction (SAVEPOINT/RELEASE of the nested atomic blocks included).
    print(
        f"statements of one 3-line sale: {len(sale_queries)}; of the stock core's dispense alone: "
        f"{len(dispense_queries)}"
    )
    report(
        Figure(
            "3-line counter sale, p50", median(sales) * 1000, "ms", "stock core 3 lines p50", median(dispenses) * 1000
        )
    )
    report(
        Figure(
            "3-line counter sale, p95",
            percentile(sales, 95) * 1000,
            "ms",
            "stock core 3 lines p95",
            percentile(dispenses, 95) * 1000,
            "<= 40 ms",
        )
    )


# --- b) 20 cashiers, the same 10 medicines ---------------------------------------------------------


def _hot_medicines(branch):
    """The bench's ten medicines, each with two fresh lots at ``branch`` and nothing left anywhere else."""
    from catalog.models import Category, LotStock, Manufacturer, Medicine
    from catalog.stock import lot_receive, stock_write_off

    category, manufacturer = Category.objects.order_by("pk").first(), Manufacturer.objects.order_by("pk").first()
    hot = []
    for n in range(HOT_MEDICINES):
        medicine, _created = Medicine.objects.get_or_create(
            sku=f"BENCH-SALE-{n:02d}",
            defaults={
                "name": f"Bench sale medicine {n:02d}",
                "slug": f"bench-sale-{n:02d}",
                "category": category,
                "manufacturer": manufacturer,
                "dosage_form": "tablet",
                "pack_size": 20,
                "price": Decimal("9000") + 1000 * n,
            },
        )
        hot.append(medicine)
    # What an earlier run left (none, unless it stopped half-way) is written off, so "until stock runs out"
    # is this run's lots.
    for stock in LotStock.objects.filter(lot__medicine__in=hot, quantity__gt=0).select_related("lot"):
        stock_write_off(lot=stock.lot, quantity=None, location=stock.location_id, reason="bench: a fresh start")
    stamp = time.strftime("%Y%m%d%H%M%S")
    today = datetime.date.today()
    lots = []
    for medicine in hot:
        for k in range(LOTS_EACH):
            lots.append(
                lot_receive(
                    medicine=medicine,
                    lot_number=f"B{stamp}-{k}",
                    expiry_date=today + datetime.timedelta(days=200 + 100 * k),
                    quantity=UNITS_PER_LOT,
                    purchase_price=Decimal("5000"),
                    location=branch,
                )
            )
    return [Medicine.objects.get(pk=m.pk) for m in hot], lots


def _till_process(till: _Till, user, hot, seed: int, barrier, pace: float, results) -> None:
    """A forked cashier: sells (``_sell_until_out``) on a connection of its own and sends its run back."""
    connections.close_all()  # never the parent's socket: the fork inherited it, the child opens its own
    try:
        _sell_until_out(till, user, hot, seed, barrier, pace)
    finally:
        results.put((seed, till.seconds, till.lock_waits, till.orders, till.shortages, till.deadlocks, till.errors))


def _sell_until_out(till: _Till, user, hot, seed: int, barrier, pace: float) -> None:
    """Sell 3-line sales of the medicines this till still believes in stock; a shortage drops the short ones.

    ``pace``: the mean pause between two sales of this cashier (0: back to back).
    """
    from catalog.exceptions import InsufficientStock
    from orders.services import counter_sale_complete

    chooser = random.Random(seed)
    left = {m.pk: m for m in hot}
    waited = [0.0]

    def time_lock_waits(execute, sql, params, many, context):
        # Row-lock statements (the shift, the medicines, their sellable stock): under contention their time
        # is the wait for another till's commit.
        if "FOR NO KEY UPDATE" not in sql:
            return execute(sql, params, many, context)
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - start

    try:
        # A worker that has served requests before: its connection's backend and the prepared statements
        # warm, as a server keeps them between a till's requests. Rolled back: no stock moves, no receipt.
        for _ in range(WARM_UP):
            lines, payments_in = _sale(chooser.sample(hot, LINES))
            try:
                with transaction.atomic():
                    counter_sale_complete(shift=till.shift, lines=lines, payments_in=payments_in, user=user)
                    raise _Rollback
            except _Rollback:
                pass
        barrier.wait(timeout=60)
        with connection.execute_wrapper(time_lock_waits):
            while left:
                if pace:
                    time.sleep(chooser.uniform(0, 2 * pace))
                chosen = chooser.sample(sorted(left), min(LINES, len(left)))
                lines, payments_in = _sale([left[pk] for pk in chosen])
                committed: list[float] = []
                waited[0] = 0.0
                start = time.perf_counter()
                try:
                    with transaction.atomic():
                        # Runs first after the commit, before the fiscal task's send the sale registers.
                        transaction.on_commit(lambda committed=committed: committed.append(time.perf_counter()))
                        order = counter_sale_complete(shift=till.shift, lines=lines, payments_in=payments_in, user=user)
                except InsufficientStock as shortage:
                    till.shortages += 1
                    for line in shortage.lines:
                        if line.available == 0:  # one unit asked: short means none left
                            left.pop(line.medicine_id, None)
                    continue
                except OperationalError as error:
                    if "deadlock" in str(error).lower():
                        till.deadlocks += 1
                    else:
                        till.errors.append(f"{type(error).__name__}: {error}")
                    continue
                till.seconds.append(committed[0] - start)
                till.lock_waits.append(waited[0])
                till.orders.append((order.pk, order.total))
    except Exception as error:  # noqa: BLE001 - any other failure is reported, never swallowed
        till.errors.append(f"{type(error).__name__}: {error}")
    finally:
        connections.close_all()


def _alone(branch, user, hot) -> list[float]:
    """The same sale made by one cashier with nobody else at the till: 30 of them, committed."""
    from orders.services import counter_sale_complete

    chooser = random.Random(99)
    seconds = []
    shift = _open(branch, user)
    for _ in range(30):
        lines, payments_in = _sale(chooser.sample(hot, LINES))
        committed: list[float] = []
        start = time.perf_counter()
        with transaction.atomic():
            transaction.on_commit(lambda committed=committed: committed.append(time.perf_counter()))
            counter_sale_complete(shift=shift, lines=lines, payments_in=payments_in, user=user)
        seconds.append(committed[0] - start)
    _close(shift, user)
    return seconds


def _open(branch, user):
    from orders.services import shift_open

    return shift_open(location=branch, user=user, opening_cash=Decimal("100000"))


def many_cashiers(branch, failures: list[str], *, pace: float) -> None:
    """``CASHIERS`` tills selling the ten medicines out, each pausing ``pace`` seconds on average between sales."""
    from catalog.ledger import balance_chain_problems, derived_problems, lot_sum_problems
    from catalog.models import LotStock, Medicine, MovementKind, StockMovement
    from orders.models import LineLot, Order, OrderLine, OrderStatus
    from orders.selectors import shift_figures
    from payments.models import Payment

    users = [_cashier(n, branch) for n in range(1, CASHIERS + 1)]
    hot, lots = _hot_medicines(branch)
    alone = _alone(branch, users[0], hot)
    # The stock those lone sales left is what the 20 cashiers sell out.
    units = LotStock.objects.filter(lot__in=lots).aggregate(total=Sum("quantity"))["total"]
    sold_before = dict(Medicine.objects.filter(pk__in=[m.pk for m in hot]).values_list("pk", "number_sold"))

    tills = [_Till(shift=_open(branch, user)) for user in users]
    forking = multiprocessing.get_context("fork")
    barrier, results = forking.Barrier(CASHIERS), forking.Queue()
    connections.close_all()  # forked below: each cashier opens its own connection
    processes = [
        forking.Process(target=_till_process, args=(till, user, hot, n, barrier, pace, results))
        for n, (till, user) in enumerate(zip(tills, users, strict=True))
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    for _ in processes:
        try:
            n, *run = results.get(timeout=600)
        except queue.Empty:
            break
        till = tills[n]
        till.seconds, till.lock_waits, till.orders, till.shortages, till.deadlocks, till.errors = run
    wall = time.perf_counter() - start
    for process in processes:
        process.join(timeout=5)
    stuck = sum(process.is_alive() for process in processes)
    if stuck:
        failures.append(f"{stuck} cashier(s) still running after 600 s: a lock wait that never ends")
        for process in processes:
            process.kill()

    seconds = [s for till in tills for s in till.seconds]
    waits = [w for till in tills for w in till.lock_waits]
    orders = [order for till in tills for order in till.orders]
    deadlocks = sum(till.deadlocks for till in tills)
    errors = [error for till in tills for error in till.errors]
    how = "back to back" if not pace else f"one sale per ~{pace:g} s each"
    print(
        f"{CASHIERS} cashiers at {branch.name} ({how}), {HOT_MEDICINES} medicines x {LOTS_EACH} lots, "
        f"{units} units: {len(orders)} sales, {sum(t.shortages for t in tills)} refused as short, "
        f"{deadlocks} deadlocks, {len(errors)} other errors, {wall:.1f} s; waiting for row locks per sale "
        f"p50 {median(waits) * 1000:.1f} ms, p95 {percentile(waits, 95) * 1000:.1f} ms"
    )
    name = f"{CASHIERS} cashiers {how}"
    report(Figure(f"{name}, sales/s", len(orders) / wall, "/s", "one alone, sales/s", len(alone) / sum(alone)))
    report(Figure(f"{name}, sale to commit p50", median(seconds) * 1000, "ms", "one alone p50", median(alone) * 1000))
    report(
        Figure(
            f"{name}, sale to commit p95",
            percentile(seconds, 95) * 1000,
            "ms",
            "one alone p95",
            percentile(alone, 95) * 1000,
            "<= 40 ms",
        )
    )

    def check(ok: bool, what: str) -> None:
        print(f"  {'ok    ' if ok else 'FAILED'} {what}")
        if not ok:
            failures.append(what)

    lot_ids = [lot.pk for lot in lots]
    hot_ids = [m.pk for m in hot]
    order_ids = [pk for pk, _total in orders]
    sold = OrderLine.objects.filter(order_id__in=order_ids).aggregate(total=Sum("quantity"))["total"] or 0
    dispensed = -(
        StockMovement.objects.filter(
            kind=MovementKind.DISPENSE, reference__in=Order.objects.filter(pk__in=order_ids).values("number")
        ).aggregate(total=Sum("quantity"))["total"]
        or 0
    )
    number_sold = dict(Medicine.objects.filter(pk__in=hot_ids).values_list("pk", "number_sold"))
    check(deadlocks == 0, f"0 deadlocks ({deadlocks})")
    check(not errors, f"0 other errors ({Counter(errors).most_common(3)})")
    check(not LotStock.objects.filter(lot__medicine__in=hot, quantity__lt=0).exists(), "no lot's stock below zero")
    check(sold == units, f"every unit sold, none twice: order lines {sold} = units received {units}")
    check(dispensed == sold, f"the ledger's dispenses of these orders ({dispensed}) = their lines ({sold})")
    line_lots = LineLot.objects.filter(line__order_id__in=order_ids).aggregate(total=Sum("quantity"))["total"]
    check(line_lots == sold, f"the lots recorded on the lines ({line_lots}) = the lines ({sold})")
    check(
        sum(number_sold.values()) - sum(sold_before.values()) == sold,
        f"number_sold grew by what was sold ({sum(number_sold.values()) - sum(sold_before.values())})",
    )
    left = Medicine.objects.filter(pk__in=hot_ids).aggregate(total=Sum("sellable_quantity"))["total"]
    check(left == 0, f"nothing sellable left of the ten medicines ({left})")
    ledger = lot_sum_problems(lot_ids) + balance_chain_problems(lot_ids)
    check(not ledger, f"the ledger balances for every lot sold from ({[str(p) for p in ledger[:3]]})")
    derived = derived_problems(medicine_ids=hot_ids)
    check(not derived, f"the derived stock columns match the lots ({[str(p) for p in derived[:3]]})")

    wrong = []
    for till, user in zip(tills, users, strict=True):
        figures = shift_figures(till.shift)
        own = Order.objects.filter(shift=till.shift, status=OrderStatus.COMPLETED)
        summed = own.aggregate(total=Sum("total"))["total"] or Decimal("0")
        paid = Payment.objects.filter(shift=till.shift).aggregate(total=Sum("amount"))["total"] or Decimal("0")
        counted = sum((total for _pk, total in till.orders), Decimal("0"))
        if not (
            figures.sales_total == summed == counted == paid
            and figures.sales_count == own.count() == len(till.orders)
            and figures.expected_cash == till.shift.opening_cash + summed
        ):
            wrong.append(
                f"shift #{till.shift.pk}: Z {figures.sales_total}/{figures.sales_count}, orders {summed}, "
                f"till {counted}/{len(till.orders)}, paid {paid}"
            )
        _close(till.shift, user)
    check(not wrong, f"every shift's Z-report totals = the sum of its sales and payments ({wrong[:3]})")
