"""Every write of sales, shifts and returns. Keyword-only, atomic; stock leaves and comes back only
through the stock core (``catalog.stock``), money only through ``payments.services``.

Locks, always in this order: the shift, then an order's lines (a return), then the stock core's own
(medicines, then lots and their stock). A sale and a return never wait on each other the other way round.

Between a scan and the payment, anything may change: the price, the stock, a lot's status. The sale
trusts nothing the till read: it reads the prices again (a changed price refuses the sale with the new one,
``PricesChanged``, and nothing is written), confirms what it read once it holds the medicines' locks (taken
as late as possible, ``_confirm_under_lock``), and the stock core reads the sellable lots (an expired,
quarantined or recalled lot is never taken; a shortage refuses every short line at once).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from backoffice.queue import enqueue
from catalog.formatting import medicine_units
from catalog.models import Location, Lot, LotStock, Medicine, MedicineSubstance
from catalog.stock import (
    check_works_at,
    lock_rows,
    resolve_location,
    stock_dispense_lines,
    stock_return,
)
from orders import exceptions, rules
from orders.models import (
    Channel,
    ControlledEntry,
    LineLot,
    Order,
    OrderLine,
    OrderStatus,
    Prescription,
    RegisterKind,
    Return,
    ReturnLine,
    Shift,
    ShiftState,
)
from orders.selectors import shift_figures, shift_vat_by_rate
from payments import services as payments
from payments.models import Method


@dataclass(frozen=True)
class SaleLine:
    """A line as the till sends it. ``expected_amount``: the line's amount before discount the till showed."""

    medicine_id: int
    quantity: int
    discount: Decimal = Decimal("0")
    expected_amount: Decimal | None = None


@dataclass(frozen=True)
class PrescriptionIn:
    prescriber: str
    number: str
    issued_on: datetime.date | None
    patient_name: str
    e_prescription_id: str = ""


@dataclass(frozen=True)
class ReturnItem:
    line_id: int
    quantity: int
    resaleable: bool


# --- Shifts -------------------------------------------------------------------------


@transaction.atomic
def shift_open(*, location: Location | int | None, user: User, opening_cash: Decimal | int | str) -> Shift:
    """Open ``user``'s shift at ``location`` with the cash in the drawer. One open shift per cashier."""
    rules.check_may(user, rules.OPEN_SHIFT)
    rules.check_may(user, rules.SELL)
    location = resolve_location(location)
    check_works_at(user, location)
    opening_cash = rules.money(opening_cash)
    current = Shift.objects.filter(cashier=user, state=ShiftState.OPEN).select_related("location").first()
    if current is not None:
        raise exceptions.ShiftAlreadyOpen(location=current.location.name)
    try:
        with transaction.atomic():
            shift = Shift(location=location, cashier=user, opening_cash=opening_cash)
            shift._history_user = user
            shift.save()
    except IntegrityError as error:  # a second tab opened one at the same moment
        raise exceptions.ShiftAlreadyOpen(location=location.name) from error
    return shift


def _lock_shift(shift: Shift | int) -> Shift:
    found = lock_rows(Shift.objects.filter(pk=getattr(shift, "pk", shift)))
    if not found:
        raise exceptions.ShiftRequired()
    return found[0]


def _lock_own_open_shift(shift: Shift | int | None, user: User) -> Shift:
    """The shift, locked, open, and ``user``'s own till (code acting for the system may use any)."""
    if shift is None:
        raise exceptions.ShiftRequired()
    locked = _lock_shift(shift)
    if locked.state != ShiftState.OPEN:
        raise exceptions.ShiftClosed()
    if user is not None and locked.cashier_id != user.pk:
        raise exceptions.NotYourShift()
    return locked


def _next_number(shift: Shift, prefix: str) -> str:
    shift.documents += 1
    Shift.objects.filter(pk=shift.pk).update(documents=shift.documents)
    return f"{prefix}{shift.pk}-{shift.documents:04d}"


@transaction.atomic
def shift_close(*, shift: Shift | int, user: User, counted_cash: Decimal | int | str) -> Shift:
    """Close a shift: the cash counted against what the drawer should hold, and the Z-report kept.

    The cashier closes their own shift (``change_shift``); another member needs ``close_any_shift`` and
    to work at the shift's place. The Z-report kept is ``shift_figures`` with the VAT by rate.
    """
    counted_cash = rules.money(counted_cash)
    locked = _lock_shift(shift)
    if user is not None and locked.cashier_id != user.pk:
        rules.check_may(user, rules.CLOSE_ANY_SHIFT)
        check_works_at(user, locked.location)
    else:
        rules.check_may(user, rules.CLOSE_SHIFT)
    if locked.state != ShiftState.OPEN:
        raise exceptions.ShiftClosed()
    figures = shift_figures(locked)
    locked.state = ShiftState.CLOSED
    locked.closed_at = timezone.now()
    locked.closed_by = user
    locked.expected_cash = figures.expected_cash
    locked.counted_cash = counted_cash
    locked.cash_difference = counted_cash - figures.expected_cash
    figures.counted_cash = counted_cash
    figures.cash_difference = locked.cash_difference
    locked.z_report = {**figures.as_json(), "vat_by_rate": [rate.as_json() for rate in shift_vat_by_rate(locked)]}
    locked._history_user = user
    locked.save()
    return locked


# --- The counter sale -----------------------------------------------------------------


@dataclass
class _Line:
    medicine: Medicine
    quantity: int = 0
    discount: Decimal = Decimal("0")
    expected_amount: Decimal | None = None
    figures: rules.LineFigures | None = None
    lots: list = field(default_factory=list)


# What a sale reads of a medicine and must still hold when the stock leaves (``_confirm_under_lock``).
_SALE_FIELDS = ("price", "part_price", "parts_per_pack", "vat_rate", "is_active", "is_prescription", "is_controlled")


def _merge_lines(lines: Sequence[SaleLine], medicines: dict[int, Medicine]) -> dict[int, _Line]:
    """One line per medicine (a second scan of the same pack adds to its line), against the rows ``medicines``
    (an inactive or missing one refuses)."""
    merged: dict[int, list[SaleLine]] = defaultdict(list)
    for line in lines:
        merged[line.medicine_id].append(line)
    result: dict[int, _Line] = {}
    for medicine_id, parts in sorted(merged.items()):
        medicine = medicines.get(medicine_id)
        if medicine is None or not medicine.is_active:
            name = medicine.name if medicine is not None else f"#{medicine_id}"
            raise exceptions.MedicineUnavailable(medicine=name)
        line = _Line(medicine)
        for part in parts:
            line.quantity += part.quantity
            line.discount += rules.money(part.discount)
            if part.expected_amount is not None:
                line.expected_amount = (line.expected_amount or Decimal("0")) + rules.money(part.expected_amount)
        result[medicine_id] = line
    return result


def _price_lines(lines: dict[int, _Line]) -> None:
    changes = []
    for line in lines.values():
        medicine = line.medicine
        line.figures = rules.line_figures(
            quantity=line.quantity,
            parts_per_pack=medicine.parts_per_pack,
            pack_price=medicine.price,
            part_price=medicine.unit_price,
            discount=line.discount,
            vat_rate=medicine.vat_rate,
        )
        if line.expected_amount is not None and line.expected_amount != line.figures.amount:
            changes.append(
                exceptions.PriceChange(medicine.pk, medicine.name, str(line.expected_amount), str(line.figures.amount))
            )
        if line.discount > line.figures.amount:
            raise exceptions.DiscountTooLarge(medicine=medicine.name)
    if changes:
        raise exceptions.PricesChanged(changes)


def _check_prescription(prescription: PrescriptionIn | None) -> PrescriptionIn | None:
    if prescription is None:
        return None
    missing = [
        label
        for label, value in (
            (gettext("prescriber"), prescription.prescriber),
            (gettext("prescription number"), prescription.number),
            (gettext("issued on"), prescription.issued_on),
            (gettext("patient"), prescription.patient_name),
        )
        if not (value.strip() if isinstance(value, str) else value)
    ]
    if missing:
        raise exceptions.PrescriptionInvalid(fields=", ".join(missing))
    return prescription


@dataclass(frozen=True)
class _Totals:
    subtotal: Decimal
    discount: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount


def _check_sale(
    lines: Sequence[SaleLine],
    *,
    medicines: dict[int, Medicine] | None = None,
    prescription: PrescriptionIn | None,
    confirmed_by,
    location_id: int,
    payments_in: Sequence[payments.PaymentIn] | None,
) -> tuple[dict[int, _Line], _Totals]:
    """The sale's lines merged, priced and checked against every rule, with its totals; nothing written.

    ``medicines``: the rows to check against (the locked ones, ``_confirm_under_lock``); else read fresh and
    unlocked: the medicines are the rows every till at the place queues on, so they are locked as late as
    possible, just before the stock leaves, and what was read here is checked again there.
    ``payments_in``: checked against the total unless ``None``.
    """
    if medicines is None:
        medicines = Medicine.objects.in_bulk(sorted({line.medicine_id for line in lines}))
    merged = _merge_lines(lines, medicines)
    _price_lines(merged)
    read = [line.medicine for line in merged.values()]
    rules.check_prescription_lines(read, prescription)
    rules.check_controlled_lines(read, channel=Channel.COUNTER, confirmed_by=confirmed_by, location=location_id)
    totals = _Totals(
        subtotal=sum((line.figures.amount for line in merged.values()), Decimal("0")),
        discount=sum((line.discount for line in merged.values()), Decimal("0")),
        vat=sum((line.figures.vat_amount for line in merged.values()), Decimal("0")),
    )
    if payments_in is not None:
        payments.check_counter_payments(payments_in, total=totals.total)
    return merged, totals


def _confirm_under_lock(merged: dict[int, _Line], lines: Sequence[SaleLine], **checks) -> None:
    """Lock the sale's medicines (primary-key order) and make sure nothing the sale was checked with changed.

    The sale read its medicines unlocked and wrote the order before this: the locks every till at the place
    queues on are held only from here to the commit. A price, a prescription or a controlled flag changed in
    between refuses the sale, with the rule it now breaks or with the new price (``PricesChanged``): the
    cashier sees what changed, nothing is sold. A change after this lock waits for the sale.
    """
    fresh = {m.pk: m for m in lock_rows(Medicine.objects.filter(pk__in=list(merged)).only("name", *_SALE_FIELDS))}
    moved = [
        line
        for medicine_id, line in merged.items()
        if medicine_id not in fresh
        or any(getattr(fresh[medicine_id], name) != getattr(line.medicine, name) for name in _SALE_FIELDS)
    ]
    if not moved:
        return
    # The rule the sale now breaks, if any; else the new price (the payments were for the old one).
    again, _totals = _check_sale(lines, medicines=fresh, **{**checks, "payments_in": None})
    raise exceptions.PricesChanged(
        [
            exceptions.PriceChange(
                line.medicine.pk,
                line.medicine.name,
                str(line.figures.amount),
                str(again[line.medicine.pk].figures.amount),
            )
            for line in moved
        ]
    )


@transaction.atomic
def counter_sale_complete(
    *,
    shift: Shift | int | None,
    lines: Sequence[SaleLine],
    payments_in: Sequence[payments.PaymentIn],
    user: User,
    prescription: PrescriptionIn | None = None,
    controlled_confirmed_by: User | None = None,
    customer: User | None = None,
    today: datetime.date | None = None,
) -> Order:
    """Sell ``lines`` at the till of ``shift``: all of it, paid, or nothing.

    Checks, before anything is written: the seller's permission and open shift, the prices the till showed,
    discounts, the prescription (prescription-only and controlled lines), the pharmacist's confirmation
    (controlled lines), the payments (they add up to the total exactly; cash handed over covers its part).
    Then the order, its lines and payments are written, and only then are the medicines locked, what the
    checks read confirmed under the lock, and every line taken by the stock core FEFO from the shift's place
    (parts from an opened pack first) with the order's number as the ledger reference. The receipt is sent to
    the fiscal module after commit.
    """
    rules.check_may(user, rules.SELL)
    if not lines:
        raise exceptions.EmptySale()
    locked = _lock_own_open_shift(shift, user)
    prescription = _check_prescription(prescription)
    checks = {
        "prescription": prescription,
        "confirmed_by": controlled_confirmed_by,
        "location_id": locked.location_id,
        "payments_in": payments_in,
    }
    merged, totals = _check_sale(lines, **checks)
    has_controlled = any(line.medicine.is_controlled for line in merged.values())

    # Everything that needs no medicine lock is written first (the shift is this till's own).
    order = Order(
        number=_next_number(locked, "S"),
        location_id=locked.location_id,
        channel=Channel.COUNTER,
        status=OrderStatus.COMPLETED,
        customer=customer,
        cashier=user,
        shift=locked,
        controlled_confirmed_by=controlled_confirmed_by if has_controlled else None,
        subtotal=totals.subtotal,
        discount_total=totals.discount,
        total=totals.total,
        vat_total=totals.vat,
        completed_at=timezone.now(),
    )
    order._history_user = user
    order.save()
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                medicine=line.medicine,
                quantity=line.quantity,
                parts_per_pack=line.medicine.parts_per_pack,
                pack_price=line.medicine.price,
                part_price=line.medicine.unit_price if line.medicine.is_divisible else None,
                amount=line.figures.amount,
                discount=line.discount,
                total=line.figures.total,
                vat_rate=line.medicine.vat_rate,
                vat_amount=line.figures.vat_amount,
            )
            for line in merged.values()
        ]
    )
    by_medicine = {line.medicine_id: line for line in order_lines}
    saved_prescription = None
    if prescription is not None:
        saved_prescription = Prescription.objects.create(
            order=order,
            prescriber=prescription.prescriber.strip(),
            number=prescription.number.strip(),
            issued_on=prescription.issued_on,
            patient_name=prescription.patient_name.strip(),
            e_prescription_id=prescription.e_prescription_id.strip(),
        )
    payments.payments_record(order=order, shift=locked, payments_in=payments_in)

    # From here to the commit the medicines are locked.
    _confirm_under_lock(merged, lines, **checks)
    movements = stock_dispense_lines(
        lines=[(line.medicine, line.quantity) for line in merged.values()],
        location=locked.location_id,
        user=user,
        reference=order.number,
        reason="Counter sale",  # a code, read in the reader's language (backoffice.history_display)
        today=today,
    )
    line_lots = LineLot.objects.bulk_create(
        [
            LineLot(line=by_medicine[row.lot.medicine_id], lot_id=row.lot_id, quantity=-row.quantity, movement=row)
            for row in movements
        ]
    )
    if has_controlled:
        _register(
            order=order,
            taken=[
                (ll.movement.lot.medicine_id, ll.lot_id, ll.quantity)
                for ll in line_lots
                if merged[ll.movement.lot.medicine_id].medicine.is_controlled
            ],
            kind=RegisterKind.SALE,
            sign=-1,
            prescription=saved_prescription,
            user=user,
            confirmed_by=controlled_confirmed_by,
        )
    enqueue("orders.fiscalize", order.pk)
    return order


def _register(
    *,
    order: Order,
    taken: list[tuple[int, int, int]],
    kind: str,
    sign: int,
    prescription: Prescription | None,
    user: User,
    confirmed_by: User | None,
) -> None:
    """Controlled-drug register entries, one per substance of each medicine, with the balance after each.

    ``taken``: ``(medicine_id, lot_id, units)`` in the order they happened; balances are the medicine's
    stock at the place (every lot, any status) now, walked back so each entry shows its own.
    """
    medicine_ids = {medicine_id for medicine_id, _lot, _units in taken}
    substances: dict[int, list[int]] = defaultdict(list)
    for medicine_id, substance_id in MedicineSubstance.objects.filter(medicine_id__in=medicine_ids).values_list(
        "medicine_id", "substance_id"
    ):
        substances[medicine_id].append(substance_id)
    running = dict(
        LotStock.objects.filter(lot__medicine_id__in=medicine_ids, location_id=order.location_id)
        .values("lot__medicine_id")
        .annotate(total=Sum("quantity"))
        .values_list("lot__medicine_id", "total")
    )
    entries = []
    for medicine_id, lot_id, units in reversed(taken):
        for substance_id in substances[medicine_id]:
            entries.append(
                ControlledEntry(
                    location_id=order.location_id,
                    substance_id=substance_id,
                    medicine_id=medicine_id,
                    lot_id=lot_id,
                    kind=kind,
                    quantity=sign * units,
                    balance_after=running.get(medicine_id) or 0,
                    order=order,
                    prescription=prescription,
                    user=user,
                    confirmed_by=confirmed_by,
                )
            )
        running[medicine_id] = (running.get(medicine_id) or 0) - sign * units
    ControlledEntry.objects.bulk_create(list(reversed(entries)))


# --- Returns ---------------------------------------------------------------------------


@transaction.atomic
def order_return(
    *,
    order: Order,
    items: Sequence[ReturnItem],
    reason: str,
    shift: Shift | int | None,
    user: User,
    now: datetime.datetime | None = None,
) -> Return:
    """Take back units of a completed sale, in the returning cashier's open shift.

    Each line's units go back into the lots they left (latest sold first): onto the shelf of the sale's
    place when the pharmacist marks them resaleable, else into that place's quarantine (the same lot, set
    aside, never sold; written off or sent back to the supplier from there). The lot's status is not
    touched: it holds the whole batch in every place, and one returned box says nothing about the rest.

    Prices come from the sale line (its discount shared out pro rata; the last units
    returned get the remainder, so a line returned in full refunds exactly its total). Money goes back by
    the sale's own payment methods. Prescription-only and controlled lines follow ``rules.check_return_allowed``.
    """
    rules.check_may(user, rules.ACCEPT_RETURN)
    reason = (reason or "").strip()
    if not reason:
        raise exceptions.ReturnReasonRequired()
    if not items:
        raise exceptions.ReturnEmpty()
    now = now or timezone.now()
    locked_shift = _lock_own_open_shift(shift, user)
    if order.status != OrderStatus.COMPLETED:
        raise exceptions.ReturnNotCompleted()
    if locked_shift.location_id != order.location_id:
        raise exceptions.ReturnOtherPlace()
    wanted: dict[int, tuple[int, bool]] = {}
    for item in items:
        if isinstance(item.quantity, bool) or not isinstance(item.quantity, int) or item.quantity <= 0:
            raise exceptions.ReturnQuantityInvalid()
        if item.line_id in wanted:
            raise exceptions.ReturnLineTwice()
        wanted[item.line_id] = (item.quantity, item.resaleable)
    lines = {line.pk: line for line in lock_rows(OrderLine.objects.filter(order=order, pk__in=list(wanted)))}
    if set(lines) != set(wanted):
        raise exceptions.ReturnUnknownLine()
    medicines = Medicine.objects.in_bulk([line.medicine_id for line in lines.values()])
    for line in lines.values():
        rules.check_return_allowed(medicines[line.medicine_id], sold_at=order.completed_at, now=now)
        quantity, _resaleable = wanted[line.pk]
        if quantity > line.returnable_quantity:
            raise exceptions.ReturnTooMany(
                returnable=medicine_units(line.returnable_quantity, medicines[line.medicine_id]),
                medicine=medicines[line.medicine_id].name,
            )

    line_lots = lock_rows(LineLot.objects.filter(line_id__in=list(lines)))
    lots = Lot.objects.in_bulk([ll.lot_id for ll in line_lots])
    refunded = dict(
        ReturnLine.objects.filter(line_id__in=list(lines))
        .values("line_id")
        .annotate(total=Sum("amount"))
        .values_list("line_id", "total")
    )
    document = Return(
        number=_next_number(locked_shift, "R"), order=order, shift=locked_shift, user=user, reason=reason, amount=0
    )
    document._history_user = user
    document.save()
    return_lines: list[ReturnLine] = []
    total = Decimal("0")
    for line_id, line in sorted(lines.items()):
        quantity, resaleable = wanted[line_id]
        if quantity == line.returnable_quantity:
            amount = line.total - (refunded.get(line_id) or Decimal("0"))
        else:
            amount = (line.total * quantity / line.quantity).quantize(rules.CENT)
        # Latest-expiring lots first: what the customer most likely still holds is what left last.
        own = sorted((ll for ll in line_lots if ll.line_id == line_id), key=lambda ll: (-ll.pk,))
        left = quantity
        shares = []
        for ll in own:
            take = min(left, ll.quantity - ll.returned_quantity)
            if take > 0:
                shares.append((ll, take))
                left -= take
            if left == 0:
                break
        remaining = amount
        for index, (ll, take) in enumerate(shares):
            share = remaining if index == len(shares) - 1 else (amount * take / quantity).quantize(rules.CENT)
            remaining -= share
            ll.returned_quantity += take
            LineLot.objects.filter(pk=ll.pk).update(returned_quantity=ll.returned_quantity)
            stock_return(
                lot=lots[ll.lot_id],
                quantity=take,
                location=order.location_id,
                user=user,
                reason=reason,  # as the pharmacist typed it; the place (the quarantine or not) says the rest
                reference=document.number,
                quarantine=not resaleable,
            )
            return_lines.append(
                ReturnLine(
                    return_doc=document, line=line, line_lot=ll, quantity=take, resaleable=resaleable, amount=share
                )
            )
        total += amount
        line.returned_quantity += quantity
        OrderLine.objects.filter(pk=line.pk).update(returned_quantity=line.returned_quantity)
    ReturnLine.objects.bulk_create(return_lines)
    document.amount = total
    Return.objects.filter(pk=document.pk).update(amount=total)

    controlled = [rl for rl in return_lines if medicines[rl.line.medicine_id].is_controlled]
    if controlled:
        _register(
            order=order,
            taken=[(rl.line.medicine_id, rl.line_lot.lot_id, rl.quantity) for rl in controlled],
            kind=RegisterKind.RETURN,
            sign=1,
            prescription=Prescription.objects.filter(order=order).first(),
            user=user,
            confirmed_by=user,
        )
    payments.refunds_record(order=order, return_doc=document, shift=locked_shift, amount=total)
    enqueue("orders.fiscalize_return", document.pk)
    return document


__all__ = [
    "Method",
    "PrescriptionIn",
    "ReturnItem",
    "SaleLine",
    "counter_sale_complete",
    "order_return",
    "shift_close",
    "shift_open",
]
