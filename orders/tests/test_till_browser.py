"""A pharmacist sells at the till in a real browser with the keyboard only: two scans, cash, the receipt."""

from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from catalog.formatting import format_uzs
from catalog.models import LotStock
from catalog.tests.factories import MedicineFactory, gtin13, receive
from orders.models import Order
from orders.tests.factories import open_shift
from payments.models import Payment

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_pharmacist_sells_two_scanned_items_for_cash_and_prints_the_receipt_keyboard_only(
    make_staff,
    password,
    live_server,
    page,  # noqa: F811
):
    citramon = MedicineFactory(name="Citramon P", barcode=gtin13(900001), price=Decimal("12000"))
    bandage = MedicineFactory(name="Bandage 5 m", barcode=gtin13(900002), price=Decimal("3500"))
    sooner = receive(citramon, 2, expires_in_days=90)
    receive(citramon, 5, expires_in_days=400)
    receive(bandage, 3)
    user = make_staff(Role.PHARMACIST)
    shift = open_shift(user)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    admin_login(page, live_server, user, password)

    page.goto(live_server.url + reverse("admin:orders_order_pos"))
    page.wait_for_function("document.activeElement && document.activeElement.id === 'till-scan'")
    # A keyboard-wedge scanner types the digits and Enter; the second pack of Citramon adds to its line.
    for code in (citramon.barcode, bandage.barcode, citramon.barcode):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('till-scan').value === ''")
    page.wait_for_selector("#till-lines tbody tr.till-line >> nth=1")
    assert page.locator("#till-lines tbody tr.till-line").count() == 2
    assert sooner.lot_number in page.locator("#till-lines tbody tr.till-line").first.inner_text()
    total = Decimal("27500")
    assert page.locator("#till-total").get_attribute("data-tiyin") == str(int(total * 100))

    page.keyboard.press("F8")
    page.keyboard.type("30000")
    assert unescape(page.locator("#till-change").inner_text()) == format_uzs(Decimal("2500"))
    page.keyboard.press("Enter")
    page.wait_for_selector('#till[data-state="completed"]')

    order = Order.objects.get(shift=shift)
    assert order.total == total
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.amount, payment.tendered) == ("cash", total, Decimal("30000.00"))
    assert LotStock.objects.get(lot=sooner).quantity == 0
    # Ready for the next customer: no lines, the scan box has focus.
    assert page.locator("#till-lines tbody tr.till-line").count() == 0
    assert page.evaluate("document.activeElement.id") == "till-scan"

    with page.context.expect_page() as opened:
        page.keyboard.press("F9")
    receipt = opened.value
    receipt.wait_for_selector("#receipt-total")
    assert unescape(receipt.locator("#receipt-total").inner_text()) == format_uzs(total)
    assert receipt.locator("#receipt-number").inner_text() == order.number
    assert receipt.evaluate("document.activeElement.id") == "receipt-print"
    assert errors == []
