"""The 80 mm receipt: the fiscal receipt's figures on paper, for the members of the sale's place."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings
from django.urls import reverse

from accounts.roles import Role
from catalog.formatting import format_uzs
from catalog.tests.factories import LocationFactory, MedicineFactory, receive
from orders.fiscal.services import order_receipt
from orders.models import Order
from orders.tests.factories import card, cash, open_shift, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    first = MedicineFactory(name="Citramon P", price=Decimal("12000"))
    exempt = MedicineFactory(name="Bandage", price=Decimal("3500.50"), vat_rate=Decimal("0"))
    receive(first, 5)
    receive(exempt, 5)
    shift = open_shift()
    return sell(
        shift, (first, 2), (exempt, 1), payments=[card("10000", network="visa"), cash("17500.50", tendered="20000")]
    )


def receipt_url(order) -> str:
    return reverse("admin:orders_order_receipt", args=[order.pk])


def text_of(html: str, element_id: str) -> str:
    return unescape(re.search(rf'id="{element_id}">([^<]*)<', html).group(1))


@override_settings(PHARMACY_NAME="Dorixona Plus", PHARMACY_STIR="301234567", PHARMACY_ADDRESS="Tashkent, Navoi 1")
def test_the_receipts_totals_are_the_orders_and_the_fiscal_receipts(staff_client, sale):
    client = staff_client(Role.PHARMACIST)
    order = Order.objects.get(pk=sale.pk)
    fiscal = order_receipt(order)

    response = client.get(receipt_url(order))

    assert response.status_code == 200
    html = response.content.decode()
    assert text_of(html, "receipt-total") == format_uzs(order.total) == format_uzs(fiscal.total)
    assert text_of(html, "receipt-vat") == format_uzs(order.vat_total) == format_uzs(fiscal.vat_total)
    assert text_of(html, "receipt-number") == order.number
    for expected in ("Dorixona Plus", "301234567", "Tashkent, Navoi 1", "Citramon P", "Bandage", "Visa"):
        assert expected in html
    # Change from the cash handed over: 20 000 - 17 500,50.
    assert format_uzs(Decimal("2499.50")) in unescape(html)
    # Its own page: no admin chrome, the print CSS and the print button's script.
    assert "orders/css/receipt.css" in html and "orders/js/receipt.js" in html
    assert 'id="nav-sidebar"' not in html and "<script>" not in html
    assert "80mm" in open(finders.find("orders/css/receipt.css")).read()


def test_the_qr_code_is_the_fiscal_qr_once_the_module_signed(staff_client, sale):
    client = staff_client(Role.PHARMACIST)
    unsigned = client.get(receipt_url(sale)).content.decode()
    Order.objects.filter(pk=sale.pk).update(
        fiscal_sign="FS-0042", fiscal_qr_url="https://ofd.soliq.uz/epi?t=T1&r=9&c=20261202120000&s=FS-0042"
    )

    signed = client.get(receipt_url(sale)).content.decode()

    assert "FS-0042" in signed
    qr = re.compile(r'class="qr" src="(data:image/svg\+xml;base64,[^"]+)"')
    assert qr.search(signed).group(1) != qr.search(unsigned).group(1)


def test_another_places_member_does_not_see_the_receipt(staff_client, sale):
    client = staff_client(Role.PHARMACIST, locations=[LocationFactory()])
    assert client.get(receipt_url(sale)).status_code == 404


def test_an_operator_of_the_place_sees_it_and_an_unknown_number_is_404(staff_client, sale):
    client = staff_client(Role.OPERATOR)
    assert client.get(receipt_url(sale)).status_code == 200
    assert client.get(reverse("admin:orders_order_receipt", args=[sale.pk + 1000])).status_code == 404
