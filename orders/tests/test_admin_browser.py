"""A return in a real browser: from the sale's page, through the return page, back to the sale with its return."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from catalog.models import LotStock
from catalog.tests.factories import MedicineFactory, main_location, receive
from orders.models import Return
from orders.tests.factories import open_shift, sell

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
]
# Where to leave screenshots of the pages, when asked (a directory); nothing is written otherwise.
SHOTS = os.environ.get("ORDERS_ADMIN_SCREENSHOTS", "")


def shot(browser_page, name: str) -> None:
    if SHOTS:
        browser_page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_pharmacist_takes_a_return_from_the_sales_page(make_staff, password, live_server, page):  # noqa: F811
    spazmalgon = MedicineFactory(name="Spazmalgon", price=Decimal("18000"), parts_per_pack=2, part_name="blister")
    lot = receive(spazmalgon, 12, lot_number="SPZ-1")
    pharmacist = make_staff(Role.PHARMACIST)
    shift = open_shift(pharmacist)
    order = sell(shift, (spazmalgon, 5))
    admin_login(page, live_server, pharmacist, password)

    page.goto(f"{live_server.url}/admin/orders/order/")
    page.wait_for_selector(f"text={order.number}")
    shot(page, "orders-list")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.wait_for_selector("text=SPZ-1")
    shot(page, "order-page")
    page.click("text=Take a return")
    page.wait_for_selector("text=returnable: 2 packs + 1 blister")
    page.fill(f"input[name=line-{order.lines.get().pk}-packs]", "1")
    page.fill(f"input[name=line-{order.lines.get().pk}-parts]", "1")
    page.check(f"input[name=line-{order.lines.get().pk}-resaleable]")
    page.fill("input[name=reason]", "The doctor changed the treatment")
    shot(page, "return-page")
    page.click("#content form[method=post] button[type=submit]")
    page.wait_for_selector("text=refunded")
    shot(page, "order-page-after-return")

    document = Return.objects.get()
    assert document.shift == shift
    assert LotStock.objects.get(lot=lot, location=main_location()).quantity == 12 - 5 + 3
    page.goto(f"{live_server.url}/admin/orders/shift/{shift.pk}/change/")
    page.wait_for_selector("text=Close the shift")
    shot(page, "shift-page")
