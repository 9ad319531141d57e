"""The sales back-office: lists at a fixed query count, each member's places only, a sale's page, the register."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from catalog.models import StockMovement
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import ActiveSubstanceFactory, LocationFactory, MedicineFactory, medicine_with, receive
from orders import services
from orders.models import ControlledEntry
from orders.tests.factories import card, cash, cashier, open_shift, sell

pytestmark = pytest.mark.django_db


def sales(count: int, shift, *, prefix: str = "M") -> list:
    """``count`` sales in ``shift``, each of its own medicine, half paid by card and cash together."""
    orders = []
    for i in range(count):
        medicine = MedicineFactory(name=f"{prefix} {i}", price=Decimal("10000"))
        receive(medicine, 5, location=shift.location)
        if i % 2:
            orders.append(sell(shift, (medicine, 2), payments=[card("15000"), cash("5000")]))
        else:
            orders.append(sell(shift, (medicine, 1)))
    return orders


def controlled_sale(shift, *, units: int = 2):
    substance = ActiveSubstanceFactory(inn_name="Tramadolum")
    medicine = medicine_with(
        [(substance, 50)], name="Tramadol 50", price=Decimal("20000"), is_controlled=True, is_prescription=True
    )
    receive(medicine, 10, location=shift.location)
    prescription = services.PrescriptionIn("Dr Karimova", "RX-1", shift.opened_at.date(), "A. Aliyev")
    return sell(shift, (medicine, units), prescription=prescription, controlled_confirmed_by=shift.cashier)


# --- lists: the same queries for 5 rows or 30 ----------------------------------------------------------
# (list, query, rows at least with 16 sales: half are paid by card and cash, each has a return)
LISTS = [
    ("admin:orders_order_changelist", "", 16),
    ("admin:orders_order_changelist", "?payment_method=card", 8),
    ("admin:orders_order_changelist", "?status__exact=completed&channel__exact=counter", 16),
    ("admin:orders_order_changelist", "?location__id__exact={place}&cashier__id__exact={cashier}", 16),
    ("admin:orders_order_changelist", "?shift__id__exact={shift}", 16),
    ("admin:orders_order_changelist", "?completed_at_from_0=2020-01-01&completed_at_to_0=2100-01-01", 16),
    ("admin:orders_order_changelist", "?q=S{shift}-", 16),
    ("admin:orders_shift_changelist", "", 1),
    ("admin:orders_return_changelist", "", 16),
    ("admin:payments_payment_changelist", "?method__exact=card", 8),
    ("admin:payments_refund_changelist", "", 16),
]


@pytest.mark.parametrize(("url_name", "query", "rows"), LISTS)
def test_each_sales_list_runs_the_same_number_of_queries_for_4_and_16_sales(staff_client, url_name, query, rows):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)
    url = reverse(url_name) + query.format(place=shift.location_id, cashier=client.user.pk, shift=shift.pk)

    def add(count: int, start: int) -> None:
        for order in sales(count, shift, prefix=f"M{start}"):
            line = order.lines.get()
            services.order_return(
                order=order, items=[services.ReturnItem(line.pk, 1, True)], reason="r", shift=shift,
                user=client.user,
            )  # fmt: skip

    add(4, 0)
    with_four, _ = queries_for(client, url)
    add(12, 4)
    with_sixteen, response = queries_for(client, url)

    assert with_sixteen == with_four
    assert len(response.context["cl"].result_list) >= rows


def test_the_register_list_runs_the_same_number_of_queries_for_2_and_12_entries(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)
    url = reverse("admin:orders_controlledentry_changelist")
    for _i in range(2):
        controlled_sale(shift)
    with_two, _ = queries_for(client, url)
    for _i in range(10):
        controlled_sale(shift)
    with_twelve, response = queries_for(client, url)

    assert with_twelve == with_two
    assert len(response.context["cl"].result_list) == 12


# --- places: a member of branch A never sees branch B's sales ---------------------------------------
@pytest.fixture
def two_branches(staff_client):
    client = staff_client(Role.PHARMACIST)
    ours = sales(1, open_shift(client.user), prefix="Ours")[0]
    branch = LocationFactory(name="Chilonzor")
    theirs_shift = open_shift(cashier(locations=[branch]), location=branch)
    theirs = sales(1, theirs_shift, prefix="Theirs")[0]
    return client, ours, theirs


def test_a_member_sees_only_the_sales_of_their_places(two_branches):
    client, ours, theirs = two_branches

    response = client.get(reverse("admin:orders_order_changelist"))

    assert [order.pk for order in response.context["cl"].result_list] == [ours.pk]
    payments = client.get(reverse("admin:payments_payment_changelist")).context["cl"].result_list
    assert {payment.order_id for payment in payments} == {ours.pk}
    shifts = client.get(reverse("admin:orders_shift_changelist")).context["cl"].result_list
    assert [shift.pk for shift in shifts] == [ours.shift_id]


@pytest.mark.parametrize("view", ["change", "history", "return"])
def test_another_branchs_sale_is_not_found_on_its_pages(two_branches, view):
    client, _ours, theirs = two_branches

    response = client.get(reverse(f"admin:orders_order_{view}", args=[theirs.pk]))

    assert response.status_code == 404


def test_another_branchs_shift_and_its_history_are_not_found(two_branches):
    client, _ours, theirs = two_branches

    assert client.get(reverse("admin:orders_shift_change", args=[theirs.shift_id])).status_code == 404
    assert client.get(reverse("admin:orders_shift_history", args=[theirs.shift_id])).status_code == 404
    version = theirs.shift.history.earliest()
    url = reverse("admin:orders_shift_simple_history", args=[theirs.shift_id, version.history_id])
    assert client.get(url).status_code == 404


def test_the_administrator_sees_every_places_sales(two_branches, login_staff, make_staff):
    _client, ours, theirs = two_branches
    admin_client = login_staff(make_staff(Role.ADMIN), Client())

    response = admin_client.get(reverse("admin:orders_order_changelist"))

    assert {order.pk for order in response.context["cl"].result_list} == {ours.pk, theirs.pk}
    assert admin_client.get(reverse("admin:orders_order_change", args=[theirs.pk])).status_code == 200


# --- a sale's page -------------------------------------------------------------------------------------------
def test_a_sales_page_shows_its_lines_lots_ledger_payments_and_register(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)
    order = controlled_sale(shift)
    lot_number = order.lines.get().lots.get().lot.lot_number

    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Tramadol 50" in html
    assert lot_number in html
    assert StockMovement.objects.filter(reference=order.number).exists()
    assert order.number in html
    assert "Dr Karimova" in html  # the prescription
    assert "Tramadolum" in html  # the register entry
    assert reverse("admin:orders_order_receipt", args=[order.pk]) in html
    assert reverse("admin:orders_order_take_return", args=[order.pk]) in html
    history = client.get(reverse("admin:orders_order_history", args=[order.pk]))
    assert history.status_code == 200


def test_an_operator_reads_a_sale_without_the_prescription_or_the_register(staff_client):
    client = staff_client(Role.OPERATOR)
    order = controlled_sale(open_shift())

    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Dr Karimova" not in html
    assert "Tramadolum" not in html
    assert reverse("admin:orders_order_take_return", args=[order.pk]) not in html


# --- the register's export ----------------------------------------------------------------------------------
def _export_rows(client) -> list[list[str]]:
    url = reverse("admin:orders_controlledentry_export")
    page = client.get(url)
    assert page.status_code == 200
    formats = dict((label, value) for value, label in page.context["form"].fields["format"].choices)
    response = client.post(url, {"format": formats["csv"], "resource": "0"})
    assert response.status_code == 200, response.content.decode()[:2000]
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_register_exports_with_translated_headers_and_signed_quantities(staff_client):
    client = staff_client(Role.PHARMACIST)
    order = controlled_sale(open_shift(client.user), units=3)

    rows = _export_rows(client)

    assert rows[0][:4] == ["when", "location", "substance", "medicine"]
    assert "balance after" in rows[0]
    assert rows[1][2:4] == ["Tramadolum", "Tramadol 50"]
    assert rows[1][rows[0].index("quantity")] == "-3"
    assert rows[1][rows[0].index("order")] == order.number
    assert ControlledEntry.objects.count() == 1

    client.cookies["django_language"] = "ru"
    russian = _export_rows(client)

    assert "вещество" in russian[0]
    assert "остаток после" in russian[0]


def test_an_operator_cannot_read_or_export_the_register(staff_client):
    client = staff_client(Role.OPERATOR)

    assert client.get(reverse("admin:orders_controlledentry_changelist")).status_code == 403
    assert client.get(reverse("admin:orders_controlledentry_export")).status_code == 403


def test_a_sale_returned_in_full_offers_no_return(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)
    order = sales(1, shift)[0]
    line = order.lines.get()
    services.order_return(
        order=order, items=[services.ReturnItem(line.pk, line.quantity, True)], reason="r", shift=shift,
        user=client.user,
    )  # fmt: skip

    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert reverse("admin:orders_order_take_return", args=[order.pk]) not in response.content.decode()


def test_a_sales_page_runs_the_same_number_of_queries_for_one_line_or_five(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user)
    medicines = [MedicineFactory(price=Decimal("1000")) for _i in range(5)]
    for medicine in medicines:
        receive(medicine, 3, expires_in_days=100)
        receive(medicine, 3, expires_in_days=300)
    one = sell(shift, (medicines[0], 4))
    five = sell(shift, *[(medicine, 1) for medicine in medicines[1:]], (medicines[0], 1))

    with_one, _ = queries_for(client, reverse("admin:orders_order_change", args=[one.pk]))
    with_five, _ = queries_for(client, reverse("admin:orders_order_change", args=[five.pk]))

    assert with_five == with_one
