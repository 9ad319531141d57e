"""Controlled drugs: a pharmacist's confirmation (never the operator's), a register entry with the running
balance per substance, and never online."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from catalog.models import StockMovement
from catalog.tests.factories import ActiveSubstanceFactory, LocationFactory, medicine_with, receive
from orders import exceptions, rules, services
from orders.models import Channel, ControlledEntry, Order, RegisterKind
from orders.tests.factories import cashier, open_shift, sell

pytestmark = pytest.mark.django_db


def _prescription():
    return services.PrescriptionIn("Dr Nazarova", "RX-900", timezone.localdate(), "D. Karimov", "DMED-1")


def _controlled(price="15000"):
    return medicine_with([(ActiveSubstanceFactory(inn_name="Tramadol"), 50)], price=Decimal(price), is_controlled=True)


def test_a_controlled_line_without_a_confirmation_refuses_the_sale_and_writes_nothing():
    medicine = _controlled()
    receive(medicine, 5)
    shift = open_shift()

    with pytest.raises(exceptions.ControlledConfirmationRequired):
        sell(shift, (medicine, 1), prescription=_prescription())
    with pytest.raises(exceptions.PrescriptionRequired):
        sell(shift, (medicine, 1), controlled_confirmed_by=shift.cashier)
    assert not Order.objects.exists()
    assert not ControlledEntry.objects.exists()
    assert not StockMovement.objects.filter(kind="dispense").exists()


def test_an_operator_cannot_confirm_a_controlled_drug():
    medicine = _controlled()
    receive(medicine, 5)
    shift = open_shift()
    operator = StaffFactory(role=Role.OPERATOR)

    with pytest.raises(exceptions.ControlledConfirmationRequired):
        sell(shift, (medicine, 1), prescription=_prescription(), controlled_confirmed_by=operator)
    assert not ControlledEntry.objects.exists()


def test_a_pharmacist_of_another_place_cannot_confirm_a_controlled_drug_sold_here():
    medicine = _controlled()
    receive(medicine, 5)
    shift = open_shift()
    elsewhere = StaffFactory(role=Role.PHARMACIST, locations=[LocationFactory()])

    with pytest.raises(exceptions.ControlledConfirmationRequired):
        sell(shift, (medicine, 1), prescription=_prescription(), controlled_confirmed_by=elsewhere)
    assert not ControlledEntry.objects.exists()


def test_a_pharmacists_confirmation_writes_a_register_entry_per_lot_with_the_balance_after_it():
    medicine = _controlled()
    first = receive(medicine, 2, expires_in_days=100)
    second = receive(medicine, 5, expires_in_days=200)
    shift = open_shift()
    pharmacist = cashier()

    order = sell(shift, (medicine, 4), prescription=_prescription(), controlled_confirmed_by=pharmacist)

    entries = list(ControlledEntry.objects.filter(order=order).order_by("pk"))
    assert [(e.lot_id, e.quantity, e.balance_after) for e in entries] == [(first.pk, -2, 5), (second.pk, -2, 3)]
    for entry in entries:
        assert entry.kind == RegisterKind.SALE
        assert entry.substance.inn_name == "Tramadol"
        assert entry.confirmed_by == pharmacist
        assert entry.user == shift.cashier
        assert entry.prescription.number == "RX-900"
    order.refresh_from_db()
    assert order.controlled_confirmed_by == pharmacist


def test_a_controlled_return_when_allowed_is_in_the_register_with_the_balance_back(settings):
    settings.ORDERS_RX_RETURNS_ALLOWED = True
    medicine = _controlled()
    receive(medicine, 6)
    shift = open_shift()
    order = sell(shift, (medicine, 3), prescription=_prescription(), controlled_confirmed_by=shift.cashier)

    return_doc = services.order_return(
        order=order,
        items=[services.ReturnItem(order.lines.get().pk, 1, resaleable=True)],
        reason="Wrong dose prescribed",
        shift=shift,
        user=shift.cashier,
    )

    entry = ControlledEntry.objects.get(kind=RegisterKind.RETURN)
    assert (entry.quantity, entry.balance_after) == (1, 4)
    assert entry.order == order
    assert return_doc.amount == Decimal("15000.00")


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.TELEGRAM, Channel.WEB])
def test_an_online_channel_never_sells_a_controlled_drug_even_with_a_pharmacist(channel):
    medicine = _controlled()
    pharmacist = cashier()

    with pytest.raises(exceptions.ControlledOnline):
        rules.check_controlled_lines([medicine], channel=channel, confirmed_by=pharmacist)
    rules.check_controlled_lines([medicine], channel=Channel.COUNTER, confirmed_by=pharmacist)
