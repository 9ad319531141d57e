import datetime
from decimal import Decimal

import pytest

from catalog.exceptions import InsufficientStock
from catalog.models import Lot, Medicine, StockMovement
from catalog.stock import lot_quarantine
from catalog.tests.factories import MedicineFactory, receive
from orders import exceptions, services
from orders.models import LineLot, Order, OrderStatus, Shift
from orders.tests.factories import card, cash, open_shift, sell
from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_a_sale_takes_the_lot_that_expires_first_and_records_it():
    medicine = MedicineFactory(price=Decimal("12000"))
    later = receive(medicine, 5, expires_in_days=300)
    sooner = receive(medicine, 2, expires_in_days=100)
    shift = open_shift()

    order = sell(shift, (medicine, 3))

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.total == Decimal("36000.00")
    # VAT is contained in the shelf price: 36000 * 12 / 112.
    assert order.vat_total == Decimal("3857.14")
    taken = {ll.lot_id: ll.quantity for ll in LineLot.objects.filter(line__order=order)}
    assert taken == {sooner.pk: 2, later.pk: 1}
    assert set(StockMovement.objects.filter(reference=order.number).values_list("lot_id", "quantity")) == {
        (sooner.pk, -2),
        (later.pk, -1),
    }
    medicine.refresh_from_db()
    assert medicine.number_sold == 3
    assert Payment.objects.get(order=order).amount == Decimal("36000.00")


def test_a_changed_price_refuses_the_sale_and_writes_nothing():
    medicine = MedicineFactory(price=Decimal("10000"))
    receive(medicine, 5)
    shift = open_shift()
    Medicine.objects.filter(pk=medicine.pk).update(price=Decimal("11000"))

    with pytest.raises(exceptions.PricesChanged) as refused:
        services.counter_sale_complete(
            shift=shift,
            lines=[services.SaleLine(medicine.pk, 1, expected_amount=Decimal("10000"))],
            payments_in=[cash("10000")],
            user=shift.cashier,
        )

    assert refused.value.changes[0].current == "11000.00"
    assert not Order.objects.exists()
    assert not StockMovement.objects.filter(kind="dispense").exists()


def test_a_lot_quarantined_between_scan_and_payment_is_not_sold():
    medicine = MedicineFactory(price=Decimal("5000"))
    lot = receive(medicine, 3)
    shift = open_shift()
    lot_quarantine(lot=Lot.objects.get(pk=lot.pk), reason="Suspected fake")

    with pytest.raises(InsufficientStock):
        sell(shift, (medicine, 1))
    assert not Order.objects.exists()
    shift.refresh_from_db()
    assert shift.documents == 0


def test_an_expired_lot_is_never_sold():
    medicine = MedicineFactory(price=Decimal("5000"))
    receive(medicine, 3, expires_in_days=1)
    shift = open_shift()
    with pytest.raises(InsufficientStock):
        sell(shift, (medicine, 1), today=datetime.date.today() + datetime.timedelta(days=1))


def test_no_sale_without_an_open_shift():
    medicine = MedicineFactory()
    receive(medicine, 3)
    shift = open_shift()
    services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("100000"))
    with pytest.raises(exceptions.ShiftClosed):
        sell(Shift.objects.get(pk=shift.pk), (medicine, 1))
    with pytest.raises(exceptions.ShiftRequired):
        services.counter_sale_complete(
            shift=None, lines=[services.SaleLine(medicine.pk, 1)], payments_in=[cash(1)], user=shift.cashier
        )


def test_a_prescription_line_without_a_prescription_refuses_the_whole_sale():
    plain = MedicineFactory(price=Decimal("1000"))
    rx = MedicineFactory(price=Decimal("2000"), is_prescription=True)
    receive(plain, 5)
    receive(rx, 5)
    shift = open_shift()
    with pytest.raises(exceptions.PrescriptionRequired):
        sell(shift, (plain, 1), (rx, 1))
    assert not Order.objects.exists()
    assert not StockMovement.objects.filter(kind="dispense").exists()

    order = sell(
        shift,
        (plain, 1),
        (rx, 1),
        prescription=services.PrescriptionIn("Dr Karimova", "RX-1", datetime.date.today(), "A. Aliyev"),
    )
    assert order.prescription.number == "RX-1"


def test_split_payment_must_add_up_to_the_total_and_cash_gives_change():
    medicine = MedicineFactory(price=Decimal("30000"))
    receive(medicine, 5)
    shift = open_shift()
    with pytest.raises(exceptions.PaymentShort):
        sell(shift, (medicine, 1), payments=[card("10000"), cash("10000")])
    order = sell(shift, (medicine, 1), payments=[card("10000"), cash("20000", tendered="50000")])
    cash_payment = order.payments.get(method="cash")
    assert cash_payment.change == Decimal("30000.00")


def test_a_divisible_medicine_sells_parts_from_the_opened_pack_first():
    medicine = MedicineFactory(price=Decimal("20000"), parts_per_pack=10, part_price=Decimal("2500"))
    sooner = receive(medicine, 20, expires_in_days=100)
    later = receive(medicine, 20, expires_in_days=200)
    shift = open_shift()
    # Open a pack of the later lot by hand-off: sell 13 parts (one pack and three parts of the sooner lot).
    first = sell(shift, (medicine, 13))
    assert first.total == Decimal("27500.00")  # one pack at the pack price, three parts at the part price
    # The next loose parts come from the sooner lot's open pack (7 left there).
    second = sell(shift, (medicine, 2))
    taken = list(LineLot.objects.filter(line__order=second).values_list("lot_id", "quantity"))
    assert taken == [(sooner.pk, 2)]
    assert later.pk
