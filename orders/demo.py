"""The demo's sales, made at the counter through the real services (``manage.py load_demo`` calls it).

The stock story of ``fixtures/stock.json`` lists what each branch sold (medicine, quantity, the day and
time). Each branch's demo pharmacist sells it at the till: ``shift_open``, receipts of one to four lines
through ``counter_sale_complete`` (cash, card, a split payment; prescription-only lines with a prescription;
controlled lines confirmed by the pharmacist, who holds that permission), one ``order_return``, and
``shift_close`` with the cash counted, so the orders, payments, ledger, ``number_sold``, Z-reports and
dashboards all come from the same sales a real till would make.

Time is the services' own: a sale is stamped when it is made (``completed_at``, the ledger's
``created_at``), so everything the demo sells is sold on the day it is loaded; nothing is backdated. On
the first load a branch's earlier sales make one shift, closed with its Z-report, and the sales of "today"
a second shift left open (the pharmacist's dashboard shows it, with the link to close it). On a later
day, ``make run`` closes the shifts left open on earlier days and sells that day's sales again in a new
shift; run twice on one day, it changes nothing.

Stock has moved since the story was written (lots expired, were quarantined or recalled), so a line is
cut to what the branch can still sell and dropped when nothing is left.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from catalog.demo import STOCK_FILE, read_json
from catalog.models import Location, LocationKind, Medicine, MedicineStock
from orders import rules, services
from orders.models import Order, OrderLine, OrderStatus, Shift, ShiftState
from orders.selectors import shift_figures
from payments.models import CardNetwork, Method
from payments.services import PaymentIn

OPENING_CASH = Decimal("200000")
OTC_LINES = 4
RX_LINES = 3
# Every third receipt is paid by card, every eleventh is split between card and cash.
CARD_EVERY = 3
SPLIT_EVERY = 11
CASH_ROUNDING = Decimal("5000")  # customers hand over round notes
CARD_NETWORKS = (CardNetwork.UZCARD, CardNetwork.HUMO, CardNetwork.VISA, CardNetwork.UZCARD, CardNetwork.MASTERCARD)
PRESCRIBERS = ("Dr. N. Alimova, 12th city polyclinic", "Dr. R. Karimov, family clinic No. 3")
PATIENTS = ("Olimova Z.", "Nazarov B.", "Ergasheva M.", "Qodirov A.", "Sobirova D.")
RETURN_REASON = "Bought the wrong strength"
DAMAGED_REASON = "Box crushed in the customer's bag"


@dataclass(frozen=True)
class PlannedLine:
    medicine: Medicine
    quantity: int


@dataclass
class SalesResult:
    shifts_opened: int = 0
    shifts_closed: int = 0
    sales: int = 0
    lines: int = 0
    returns: int = 0
    cut_lines: int = 0  # sold less than the story says: the branch no longer had it all
    dropped_lines: int = 0  # nothing left to sell
    branches_without_pharmacist: list[str] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return bool(self.shifts_opened or self.shifts_closed)


def demo_pharmacist(branch: Location):
    """The first active pharmacist who works at ``branch`` (the demo accounts put one at each)."""
    return (
        get_user_model().objects.filter(role=Role.PHARMACIST, is_active=True, locations=branch).order_by("pk").first()
    )


def _story_sales(data: dict, medicines: dict[str, Medicine]) -> dict[str, list[tuple[int, str, Medicine, int]]]:
    """The story's sales by branch code, oldest first: ``(days_ago, time, medicine, quantity)``."""
    by_branch: dict[str, list[tuple[int, str, Medicine, int]]] = defaultdict(list)
    for entry in data["medicines"]:
        medicine = medicines.get(entry["sku"])
        if medicine is None:
            continue
        for sale in entry.get("sales", []):
            by_branch[sale["location"]].append((sale["days_ago"], sale["time"], medicine, sale["quantity"]))
    for sales in by_branch.values():
        sales.sort(key=lambda s: (-s[0], s[1], s[2].pk))
    return by_branch


def _receipts(sales: Iterable[tuple[int, str, Medicine, int]]) -> list[list[PlannedLine]]:
    """Group a branch's sales into receipts, never across days and in the day's order: over-the-counter
    medicines up to ``OTC_LINES`` together, prescription-only ones up to ``RX_LINES`` on one prescription,
    a controlled medicine alone on its receipt (the register reads one prescription per entry)."""
    receipts: list[list[PlannedLine]] = []
    baskets: dict[str, list[PlannedLine]] = {}
    day = None
    for days_ago, _time, medicine, quantity in sales:
        if days_ago != day:
            receipts.extend(basket for basket in baskets.values() if basket)
            baskets, day = {}, days_ago
        if medicine.is_controlled:
            receipts.append([PlannedLine(medicine, quantity)])
            continue
        kind, size = ("rx", RX_LINES) if medicine.is_prescription else ("otc", OTC_LINES)
        basket = baskets.setdefault(kind, [])
        if any(line.medicine.pk == medicine.pk for line in basket) or len(basket) == size:
            receipts.append(basket)
            basket = baskets[kind] = []
        basket.append(PlannedLine(medicine, quantity))
    receipts.extend(basket for basket in baskets.values() if basket)
    return receipts


def _payments(number: int, total: Decimal) -> list[PaymentIn]:
    reference = f"{470000 + number:06d}"
    network = CARD_NETWORKS[number % len(CARD_NETWORKS)]
    if number % SPLIT_EVERY == SPLIT_EVERY - 1 and total >= 2 * CASH_ROUNDING:
        cash_part = (total / 2 / CASH_ROUNDING).to_integral_value(rounding="ROUND_FLOOR") * CASH_ROUNDING
        return [
            PaymentIn(method=Method.CASH, amount=cash_part, tendered=cash_part),
            PaymentIn(method=Method.CARD, amount=total - cash_part, card_network=network, reference=reference),
        ]
    if number % CARD_EVERY == CARD_EVERY - 1:
        return [PaymentIn(method=Method.CARD, amount=total, card_network=network, reference=reference)]
    tendered = Decimal(math.ceil(total / CASH_ROUNDING)) * CASH_ROUNDING
    return [PaymentIn(method=Method.CASH, amount=total, tendered=max(tendered, total))]


def _total(lines: list[PlannedLine]) -> Decimal:
    return sum(
        (
            rules.line_figures(
                quantity=line.quantity,
                parts_per_pack=line.medicine.parts_per_pack,
                pack_price=line.medicine.price,
                part_price=line.medicine.unit_price,
                discount=Decimal("0"),
                vat_rate=line.medicine.vat_rate,
            ).total
            for line in lines
        ),
        Decimal("0"),
    )


class _Till:
    """One branch's till for the replay: what is still sellable there, and the receipts made."""

    def __init__(self, branch: Location, pharmacist, today: datetime.date, result: SalesResult):
        self.branch, self.pharmacist, self.today, self.result = branch, pharmacist, today, result
        self.sellable = dict(
            MedicineStock.objects.filter(location=branch).values_list("medicine_id", "sellable_quantity")
        )
        self.number = Order.objects.filter(location=branch).count()

    def _cut(self, lines: list[PlannedLine]) -> list[PlannedLine]:
        kept = []
        for line in lines:
            quantity = min(line.quantity, self.sellable.get(line.medicine.pk, 0))
            if quantity <= 0:
                self.result.dropped_lines += 1
                continue
            if quantity < line.quantity:
                self.result.cut_lines += 1
            self.sellable[line.medicine.pk] -= quantity
            kept.append(PlannedLine(line.medicine, quantity))
        return kept

    def sell(self, shift: Shift, receipts: list[list[PlannedLine]]) -> list[Order]:
        orders = []
        for planned in receipts:
            lines = self._cut(planned)
            if not lines:
                continue
            self.number += 1
            needs_prescription = any(line.medicine.is_prescription or line.medicine.is_controlled for line in lines)
            controlled = any(line.medicine.is_controlled for line in lines)
            order = services.counter_sale_complete(
                shift=shift,
                lines=[services.SaleLine(medicine_id=line.medicine.pk, quantity=line.quantity) for line in lines],
                payments_in=_payments(self.number, _total(lines)),
                user=self.pharmacist,
                prescription=self._prescription() if needs_prescription else None,
                controlled_confirmed_by=self.pharmacist if controlled else None,
            )
            orders.append(order)
            self.result.sales += 1
            self.result.lines += len(lines)
        return orders

    def _prescription(self) -> services.PrescriptionIn:
        return services.PrescriptionIn(
            prescriber=PRESCRIBERS[self.number % len(PRESCRIBERS)],
            number=f"RX-{self.branch.code.upper()}-{self.today:%y%m%d}-{self.number:04d}",
            issued_on=self.today - datetime.timedelta(days=1 + self.number % 5),
            patient_name=PATIENTS[self.number % len(PATIENTS)],
        )

    def open(self) -> Shift:
        self.result.shifts_opened += 1
        return services.shift_open(location=self.branch, user=self.pharmacist, opening_cash=OPENING_CASH)

    def close(self, shift: Shift) -> Shift:
        """Close with the cash the drawer should hold counted: the Z-report shows no difference."""
        self.result.shifts_closed += 1
        counted = shift_figures(shift).expected_cash
        return services.shift_close(shift=shift, user=self.pharmacist, counted_cash=counted)

    def take_back_one(self, shift: Shift, orders: list[Order], *, resaleable: bool = True) -> None:
        """A customer brings back one unit of an over-the-counter medicine bought earlier in the shift
        (not ``resaleable``: a damaged box, set aside in the branch's quarantine)."""
        line = (
            OrderLine.objects.filter(
                order__in=orders,
                order__status=OrderStatus.COMPLETED,
                medicine__is_prescription=False,
                medicine__is_controlled=False,
            )
            .select_related("order")
            .order_by("order_id", "pk")
            .first()
        )
        if line is None:
            return
        services.order_return(
            order=line.order,
            items=[services.ReturnItem(line_id=line.pk, quantity=1, resaleable=resaleable)],
            reason=RETURN_REASON if resaleable else DAMAGED_REASON,
            shift=shift,
            user=self.pharmacist,
        )
        self.result.returns += 1


def _branches() -> list[Location]:
    return list(Location.objects.filter(kind=LocationKind.BRANCH, is_active=True).order_by("code"))


@transaction.atomic
def demo_sales_replay(*, stock_file=STOCK_FILE, today: datetime.date | None = None) -> SalesResult:
    """Sell the stock story's sales at each branch's till; see the module docstring. All or nothing."""
    today = today or timezone.localdate()
    result = SalesResult()
    data = read_json(stock_file)
    skus = [entry["sku"] for entry in data["medicines"]]
    medicines = {m.sku: m for m in Medicine.objects.filter(sku__in=skus)}
    by_branch = _story_sales(data, medicines)
    for index, branch in enumerate(_branches()):
        pharmacist = demo_pharmacist(branch)
        if pharmacist is None:
            result.branches_without_pharmacist.append(branch.code)
            continue
        till = _Till(branch, pharmacist, today, result)
        own = Shift.objects.filter(cashier=pharmacist, location=branch)
        if any(timezone.localtime(opened).date() >= today for opened in own.values_list("opened_at", flat=True)):
            continue  # today's demo day is sold already
        for stale in own.filter(state=ShiftState.OPEN):
            till.close(stale)
        sales = by_branch.get(branch.code, [])
        if not Order.objects.filter(location=branch).exists():
            earlier = till.open()
            orders = till.sell(earlier, _receipts(s for s in sales if s[0] > 0))
            till.take_back_one(earlier, orders, resaleable=index % 2 == 0)  # the second branch's is damaged
            till.close(earlier)
        current = till.open()
        till.sell(current, _receipts(s for s in sales if s[0] == 0))
    return result
