"""Taking a return from a sale's page: through ``order_return``, in the open shift; a refusal changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from catalog.models import LotStock, StockMovement
from catalog.tests.factories import MedicineFactory, main_location, receive
from orders import services
from orders.models import OrderLine, Return
from orders.tests.factories import open_shift, sell
from payments.models import Refund

pytestmark = pytest.mark.django_db


def return_url(order) -> str:
    return reverse("admin:orders_order_return", args=[order.pk])


def at_main(lot) -> int:
    return LotStock.objects.get(lot=lot, location=main_location()).quantity


def test_a_resaleable_return_puts_the_packs_back_in_their_lot_and_refunds_in_the_open_shift(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(name="Panadol", price=Decimal("12000"))
    lot = receive(medicine, 5)
    sale = sell(open_shift(), (medicine, 3))  # sold by a colleague, in their own shift
    shift = open_shift(client.user)
    line = sale.lines.get()

    page = client.get(return_url(sale))
    assert page.status_code == 200
    assert "Panadol" in page.content.decode()
    response = client.post(
        return_url(sale), {f"line-{line.pk}-packs": "2", f"line-{line.pk}-resaleable": "on", "reason": "Not needed"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_change", args=[sale.pk])
    document = Return.objects.get()
    assert document.shift == shift
    assert document.user == client.user
    assert document.amount == Decimal("24000.00")
    assert at_main(lot) == 4
    refund = Refund.objects.get()
    assert (refund.amount, refund.method, refund.shift) == (Decimal("24000.00"), "cash", shift)
    line.refresh_from_db()
    assert line.returned_quantity == 2
    assert StockMovement.objects.filter(reference=document.number, kind="return").exists()


def test_a_return_not_marked_resaleable_is_set_aside_in_the_places_quarantine(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price=Decimal("12000"))
    lot = receive(medicine, 5)
    shift = open_shift(client.user)
    sale = sell(shift, (medicine, 2))
    line = sale.lines.get()

    client.post(return_url(sale), {f"line-{line.pk}-packs": "1", "reason": "Damaged box"})

    assert Return.objects.get().shift == shift
    assert at_main(lot) == 3
    movement = StockMovement.objects.get(reference=Return.objects.get().number)
    assert (movement.kind, movement.quantity, movement.location.kind) == ("return", 1, "quarantine")


def _nothing_changed(lot, before: int) -> None:
    assert not Return.objects.exists()
    assert not Refund.objects.exists()
    assert at_main(lot) == before
    assert OrderLine.objects.get().returned_quantity == 0


def test_a_prescription_only_return_is_refused_with_the_rule_and_changes_nothing(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(name="Amoxiclav", price=Decimal("30000"), is_prescription=True)
    lot = receive(medicine, 5)
    shift = open_shift(client.user)
    prescription = services.PrescriptionIn("Dr Karimova", "RX-9", shift.opened_at.date(), "A. Aliyev")
    sale = sell(shift, (medicine, 1), prescription=prescription)
    line = sale.lines.get()

    response = client.post(
        return_url(sale), {f"line-{line.pk}-packs": "1", f"line-{line.pk}-resaleable": "on", "reason": "Changed mind"}
    )

    assert response.status_code == 200
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Amoxiclav is prescription-only" in message for message in shown)
    _nothing_changed(lot, 4)


def test_returning_more_than_was_sold_is_refused_and_changes_nothing(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(name="Aspirin", price=Decimal("5000"))
    lot = receive(medicine, 5)
    shift = open_shift(client.user)
    sale = sell(shift, (medicine, 1))
    line = sale.lines.get()

    response = client.post(return_url(sale), {f"line-{line.pk}-packs": "3", "reason": "Too many"})

    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Only 1" in message for message in shown)
    _nothing_changed(lot, 4)


def test_without_an_open_shift_the_return_is_refused_and_changes_nothing(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price=Decimal("5000"))
    lot = receive(medicine, 5)
    sale = sell(open_shift(), (medicine, 1))
    line = sale.lines.get()

    page = client.get(return_url(sale))
    assert any("Open your cash shift first" in str(m) for m in get_messages(page.wsgi_request))
    response = client.post(return_url(sale), {f"line-{line.pk}-packs": "1", "reason": "No shift"})

    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("Open a cash shift first" in message for message in shown)
    _nothing_changed(lot, 4)


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.INVENTORY])
def test_a_role_that_may_not_accept_returns_is_refused_the_page(staff_client, role):
    client = staff_client(role)
    medicine = MedicineFactory(price=Decimal("5000"))
    lot = receive(medicine, 5)
    sale = sell(open_shift(), (medicine, 1))
    line = sale.lines.get()

    assert client.get(return_url(sale)).status_code == 403
    assert client.post(return_url(sale), {f"line-{line.pk}-packs": "1", "reason": "x"}).status_code == 403
    _nothing_changed(lot, 4)
