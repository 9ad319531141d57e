"""Staff work through the admin in a real browser: an import, an alert, the language, the dashboards on demo data."""

import re

import pytest
from django.core.cache import cache

from accounts.roles import Role
from backoffice.tests.browser import DOCS_SCREENSHOTS, UPDATE_SCREENSHOTS, admin_login, requires_chromium
from catalog.models import Lot, MovementKind, StockMovement
from catalog.tests.factories import MedicineFactory, receive

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def test_inventory_staff_import_a_stock_receipt_through_the_pages_end_to_end(
    make_staff, password, live_server, page, tmp_path
):
    medicine = MedicineFactory(sku="PARA-500-20", name="Paracetamol 500 mg")
    user = make_staff(Role.INVENTORY)
    receipt = tmp_path / "receipt.csv"
    receipt.write_text(
        "sku,barcode,lot_number,expiry_date,quantity,purchase_price,supplier\n"
        "PARA-500-20,,L2611,31.03.2028,120,1 250,Grand Pharm\n",
        encoding="utf-8",
    )
    admin_login(page, live_server, user, password)

    # The dashboard's shortcut leads to the upload page with the receipt preselected.
    page.click("#inventory-import-receipt a")
    page.wait_for_selector("#import-upload-form")
    assert page.locator("select[name=kind]").input_value() == "receipt"
    page.set_input_files("input[name=import_file]", str(receipt))
    page.click("#import-upload-form button[type=submit]")

    # Preview: every row checked, nothing written yet.
    page.wait_for_selector('#import-state[data-state="ready"]')
    assert "L2611" in page.content()
    assert not Lot.objects.filter(lot_number="L2611").exists()

    page.click("form[action$='/confirm/'] button[type=submit]")
    page.wait_for_selector('#import-state[data-state="done"]')

    lot = Lot.objects.get(medicine=medicine, lot_number="L2611")
    assert lot.quantity == 120
    assert str(lot.expiry_date) == "2028-03-31"
    movement = StockMovement.objects.get(lot=lot)
    assert movement.kind == MovementKind.RECEIPT
    assert movement.quantity == 120
    assert movement.user_id == user.pk
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 120


def test_a_pharmacist_acknowledges_an_alert_with_the_admin_action(make_staff, password, live_server, page):
    from tasks.models import Alert
    from tasks.tests.factories import AlertFactory

    alert = AlertFactory(medicine=MedicineFactory(name="Amoxicillin 500 mg"))
    user = make_staff(Role.PHARMACIST)
    admin_login(page, live_server, user, password)

    page.goto(f"{live_server.url}/admin/tasks/alert/?state=open")
    page.check("input.action-select")
    page.select_option("#changelist-actions select[name=action]", "acknowledge")
    page.click("#changelist-actions button[name=index]")
    page.wait_for_selector("text=1 alert(s) acknowledged.")

    alert.refresh_from_db()
    assert alert.acknowledged_by_id == user.pk
    assert alert.acknowledged_at is not None
    assert Alert.history.filter(id=alert.pk, history_user=user).exists()


def _choose_language(browser_page, code: str) -> None:
    # The language switch sits in the user menu at the bottom of the sidebar.
    browser_page.locator("div[x-on\\:click='openUserLinks = !openUserLinks']").click()
    browser_page.locator(f"form:has(input[name=language][value={code}]) button[type=submit]").click()
    browser_page.wait_for_selector(f"html[lang={code}]")


def test_staff_switch_the_interface_to_russian_and_uzbek_and_the_choice_is_remembered(
    make_staff, password, live_server, page
):
    user = make_staff(Role.OPERATOR)
    admin_login(page, live_server, user, password)
    assert page.locator("html").get_attribute("lang") == "en"

    _choose_language(page, "ru")
    page.goto(f"{live_server.url}/admin/catalog/medicine/")
    assert page.locator("html").get_attribute("lang") == "ru"
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("#dashboard").count() == 1

    _choose_language(page, "uz")
    page.goto(f"{live_server.url}/admin/tasks/alert/")
    assert page.locator("html").get_attribute("lang") == "uz"


def test_the_operator_searches_a_medicine_from_the_dashboard(make_staff, password, live_server, page):
    medicine = MedicineFactory(name="Ibuprofen 200 mg", barcode="4780000000017")
    receive(medicine, 8)
    user = make_staff(Role.OPERATOR)
    admin_login(page, live_server, user, password)
    page.fill("#operator-search-input", "4780000000017")
    page.press("#operator-search-input", "Enter")
    page.wait_for_selector("#operator-search-results")
    assert "Ibuprofen 200 mg" in page.locator("#operator-search-results").inner_text()


def test_the_sidebar_search_box_finds_a_medicine_by_its_sku(make_staff, password, live_server, page, fresh_cache):
    # Unfold caches a search's results for five minutes per user id and term (and the same key for the
    # sidebar's plain search and the command box's): an earlier test's answer must not be the one read here.
    medicine = MedicineFactory(name="Ibuprofen 200 mg", sku="IBU-200")
    admin_login(page, live_server, make_staff(Role.OPERATOR), password)

    page.click("#sidebar-search")
    page.locator("#search-input-command").press_sequentially("IBU-200")  # keyup starts the search
    found = page.wait_for_selector(f"#command-results a[href$='/catalog/medicine/{medicine.pk}/change/']")

    assert "Ibuprofen 200 mg" in found.inner_text()


def _settle_charts(browser_page) -> None:
    """Draw the charts at once (no animation) so the screenshot shows them complete."""
    browser_page.wait_for_function(
        "() => !document.querySelector('canvas.chart') || (window.Chart && "
        "Object.keys(Chart.instances).length === document.querySelectorAll('canvas.chart').length)"
    )
    browser_page.evaluate(
        "() => { if (window.Chart) { for (const c of Object.values(Chart.instances)) "
        "{ c.options.animation = false; c.update('none'); } } }"
    )


@pytest.mark.slow
def test_screenshots_of_each_roles_dashboard_on_the_demo_data(make_staff, password, live_server, page, tmp_path):
    from django.core.management import call_command

    from catalog.stock import stock_locations
    from catalog.tests.import_helpers import csv_bytes, run_import
    from tasks.services import alerts_scan_expiry, alerts_scan_low_stock

    call_command("load_demo", verbosity=0)
    alerts_scan_expiry()
    alerts_scan_low_stock()
    demo_places = list(stock_locations())  # each member works at every demo place, so each dashboard has figures
    users = {
        role: make_staff(role, first_name=name, locations=demo_places)
        for role, name in (
            (Role.ADMIN, "Dilshod"),
            (Role.PHARMACIST, "Malika"),
            (Role.OPERATOR, "Aziza"),
            (Role.INVENTORY, "Bekzod"),
        )
    }
    some = Lot.objects.filter(quantity__gt=0).select_related("medicine").order_by("pk")[:3]
    rows = [["sku", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]] + [
        [lot.medicine.sku, f"N{lot.pk}", "31.12.2028", 60, "4 500", "Grand Pharm"] for lot in some
    ]
    warehouse = next(place for place in demo_places if place.kind == "warehouse")
    run_import("receipt", csv_bytes(rows), users[Role.INVENTORY], filename="receipt-2026-11.csv", location=warehouse)
    cache.clear()

    screenshots = DOCS_SCREENSHOTS if UPDATE_SCREENSHOTS else tmp_path
    screenshots.mkdir(parents=True, exist_ok=True)
    for role, user in users.items():
        page.context.clear_cookies()
        admin_login(page, live_server, user, password)
        if role == Role.OPERATOR:
            # The operator's screenshot shows a search answered: stock and alternatives at once.
            page.fill("#operator-search-input", "nurofen")
            page.press("#operator-search-input", "Enter")
            page.wait_for_selector("#operator-search-results")
        _settle_charts(page)
        text = page.locator("#dashboard").inner_text()
        # Real figures on the demo data, not an empty page.
        assert re.search(r"\d", text)
        assert page.locator("#dashboard tr.data-row").count() > 0
        page.screenshot(path=str(screenshots / f"dashboard-{role}.png"), full_page=True)
        assert (screenshots / f"dashboard-{role}.png").stat().st_size > 10_000

    # At the shelf, on a phone: the pharmacist's lots to act on in Uzbek, the operator's search answered in Russian.
    page.set_viewport_size({"width": 390, "height": 844})
    # (Members of their own: an authenticator code is accepted once, and the desktop round used these roles' codes.)
    shots = (
        (Role.PHARMACIST, "Malika", "uz", "phone-pharmacist-uz"),
        (Role.OPERATOR, "Aziza", "ru", "phone-operator-ru"),
    )
    for role, first_name, language, name in shots:
        page.context.clear_cookies()
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        admin_login(page, live_server, make_staff(role, first_name=first_name, locations=demo_places), password)
        if role == Role.OPERATOR:
            page.fill("#operator-search-input", "nurofen")
            page.press("#operator-search-input", "Enter")
            page.wait_for_selector("#operator-search-results")
        shown = "#operator-search-results" if role == Role.OPERATOR else "#pharmacist-lots-to-act"
        page.evaluate("(selector) => document.querySelector(selector).scrollIntoView({block: 'start'})", shown)
        page.screenshot(path=str(screenshots / f"{name}.png"))
        assert (screenshots / f"{name}.png").stat().st_size > 10_000
