"""Shifts, payments and the orders export in the admin, and the Sales group of the sidebar."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from backoffice.navigation import sidebar
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from orders import services
from orders.tests.factories import card, cash, cashier, open_shift, sell

pytestmark = pytest.mark.django_db


def a_sale(shift, *, price="10000", units=1, payments=None):
    medicine = MedicineFactory(price=Decimal(price))
    receive(medicine, 10, location=shift.location)
    return sell(shift, (medicine, units), payments=payments)


def test_a_closed_shifts_page_shows_its_cash_and_the_z_report_it_kept(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user, opening_cash="50000")
    a_sale(shift, price="12000", payments=[cash("12000", tendered="20000")])
    a_sale(shift, price="8000", payments=[card("8000")])
    services.shift_close(shift=shift, user=client.user, counted_cash="61000")

    response = client.get(reverse("admin:orders_shift_change", args=[shift.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    shift.refresh_from_db()
    assert shift.z_report["sales_count"] == 2
    assert "62\u00a0000\u00a0so&#x27;m" in html  # expected cash: 50 000 + 12 000
    assert "-1\u00a0000\u00a0so&#x27;m" in html  # counted 61 000: a thousand short
    assert "Card terminal" in html
    assert reverse("admin:orders_shift_zreport", args=[shift.pk]) in html
    assert reverse("admin:orders_shift_close", args=[shift.pk]) not in html
    assert client.get(reverse("admin:orders_shift_history", args=[shift.pk])).status_code == 200


def test_an_open_shift_in_the_list_links_to_closing_it_and_to_its_sales(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)

    response = client.get(reverse("admin:orders_shift_changelist"))

    html = response.content.decode()
    assert reverse("admin:orders_shift_close", args=[shift.pk]) in html
    assert reverse("admin:orders_order_changelist") + f"?shift__id__exact={shift.pk}" in html


def test_a_cashier_keeps_sight_of_their_own_shift_at_a_place_they_no_longer_work_at(staff_client):
    client = staff_client(Role.PHARMACIST)
    branch = LocationFactory()
    client.user.locations.add(branch)
    shift = open_shift(client.user, location=branch)
    client.user.locations.remove(branch)

    response = client.get(reverse("admin:orders_shift_changelist"))

    assert [row.pk for row in response.context["cl"].result_list] == [shift.pk]


def test_payment_and_refund_pages_open_for_their_place(staff_client):
    client = staff_client(Role.OPERATOR)
    shift = open_shift()
    order = a_sale(shift, units=2, payments=[card("20000")])
    line = order.lines.get()
    document = services.order_return(
        order=order, items=[services.ReturnItem(line.pk, 1, True)], reason="r", shift=shift, user=shift.cashier
    )
    payment = order.payments.get()
    refund = document.refunds.get()

    assert client.get(reverse("admin:payments_payment_change", args=[payment.pk])).status_code == 200
    assert client.get(reverse("admin:payments_refund_change", args=[refund.pk])).status_code == 200
    page = client.get(reverse("admin:orders_return_change", args=[document.pk]))
    assert page.status_code == 200
    assert document.number in page.content.decode()


def test_another_places_payment_is_not_found(staff_client):
    client = staff_client(Role.OPERATOR)
    branch = LocationFactory()
    order = a_sale(open_shift(cashier(locations=[branch]), location=branch))

    response = client.get(reverse("admin:payments_payment_change", args=[order.payments.get().pk]))

    assert response.status_code == 404


def test_the_orders_list_exports_with_its_payment_methods(staff_client):
    client = staff_client(Role.OPERATOR)
    order = a_sale(open_shift(), price="20000", payments=[card("15000"), cash("5000")])
    url = reverse("admin:orders_order_export")
    formats = {label: value for value, label in client.get(url).context["form"].fields["format"].choices}

    response = client.post(url, {"format": formats["csv"], "resource": "0"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["number", "completed", "location"]
    assert rows[1][0] == order.number
    assert rows[1][2] == main_location().name
    assert rows[1][rows[0].index("payment methods")] == "Card terminal, Cash"


def links(request) -> set[str]:
    return {item["link"] for group in sidebar(request) for item in group["items"]}


@pytest.mark.parametrize(
    ("role", "sells", "reads_register"),
    [(Role.PHARMACIST, True, True), (Role.OPERATOR, False, False), (Role.INVENTORY, False, True)],
)
def test_the_sales_group_shows_each_role_what_it_may_open(rf, make_staff, role, sells, reads_register):
    request = rf.get("/admin/")
    request.user = make_staff(role)

    shown = links(request)

    assert (reverse("admin:orders_order_pos") in shown) is sells
    assert (reverse("admin:orders_controlledentry_changelist") in shown) is reads_register
    for name in ("orders_order", "orders_return", "orders_shift", "payments_payment"):
        assert reverse(f"admin:{name}_changelist") in shown
