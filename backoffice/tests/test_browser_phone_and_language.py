"""Each staff role on a phone (390 px), in Uzbek and in Russian, on the demo data.

Staff read stock at the shelf on their phones: every page a role works with
must fit the screen (nothing cut off, no sideways scrolling), and say
everything in the chosen language — field names, choices, Django's own texts
and the values of the history included (``page_checks``).
"""

import pytest
from django.core.cache import cache

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from backoffice.tests.page_checks import overflow, untranslated
from catalog.models import Lot, Medicine

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]

PHONE = {"width": 390, "height": 844}
ROLES = [Role.ADMIN, Role.PHARMACIST, Role.OPERATOR, Role.INVENTORY]
# The header's breadcrumbs are shortened on a narrow screen by design (and restyled on their own).
BREADCRUMBS = "h1.overflow-hidden"


@pytest.fixture
def demo(make_staff):
    """The demo data with its alerts, one member of each role working everywhere, and what each one reads:
    a medicine whose price was changed (its history), a receipt waiting to be applied and one refused."""
    from django.core.management import call_command

    from catalog.imports.engine import import_job_check, import_job_create
    from catalog.stock import stock_locations
    from catalog.tests.import_helpers import csv_bytes
    from tasks.services import alerts_scan_expiry, alerts_scan_low_stock

    call_command("load_demo", verbosity=0)
    alerts_scan_expiry()
    alerts_scan_low_stock()
    places = list(stock_locations())
    users = {role: make_staff(role, locations=places) for role in ROLES}

    medicine = Medicine.objects.filter(lots__quantity__gt=0).order_by("pk").first()
    medicine.price += 1000
    medicine.is_active = False
    medicine._change_reason = "Supplier price"
    medicine.save()
    lot = Lot.objects.filter(medicine=medicine, quantity__gt=0).order_by("pk").first()

    warehouse = next(place for place in places if place.kind == "warehouse")
    header = ["sku", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]
    receipt = csv_bytes([header, [medicine.sku, "N-PHONE-1", "31.12.2028", 60, "4 500", "Grand Pharm"]])
    refused = csv_bytes([header, [medicine.sku, "N-PHONE-2", "31.12.2020", 5, "4 500", "Grand Pharm"]])
    clerk = users[Role.INVENTORY]
    jobs = [
        import_job_check(
            job_id=import_job_create(
                kind="receipt", filename=name, data=data, user=clerk, language="uz", location=warehouse
            ).pk
        )
        for name, data in (("receipt.csv", receipt), ("old.csv", refused))
    ]
    ready, invalid = jobs
    cache.clear()
    return {"users": users, "medicine": medicine, "lot": lot, "ready": ready, "invalid": invalid}


def _pages(role: str, demo: dict) -> list[str]:
    medicine, lot = demo["medicine"], demo["lot"]
    at_the_shelf = [
        "/admin/",
        f"/admin/catalog/medicine/{medicine.pk}/change/",
        f"/admin/catalog/lot/{lot.pk}/change/",
        "/admin/catalog/lot/",
    ]
    imports = [f"/admin/catalog/importjob/{demo['ready'].pk}/preview/", "/admin/catalog/importjob/"]
    return {
        Role.ADMIN: [
            *at_the_shelf,
            f"/admin/catalog/importjob/{demo['invalid'].pk}/preview/",
            f"/admin/catalog/medicine/{medicine.pk}/history/",
            f"/admin/catalog/lot/{lot.pk}/history/",
            "/admin/catalog/stockmovement/",
            f"/admin/accounts/user/{demo['users'][Role.PHARMACIST].pk}/change/",
            "/admin/accounts/user/add/",
            "/admin/catalog/location/",
            "/admin/tasks/alert/",
        ],
        Role.PHARMACIST: [*at_the_shelf, "/admin/tasks/alert/"],
        Role.OPERATOR: [*at_the_shelf, "/admin/catalog/medicine/"],
        Role.INVENTORY: [*at_the_shelf, *imports, "/admin/catalog/stockmovement/"],
    }[role]


def _check(page, language: str, where: str, problems: list[str]) -> None:
    problems += [f"{language} {where}: {found}" for found in overflow(page, ignore=BREADCRUMBS)]
    problems += [f"{language} {where}: in English: {text!r}" for text in untranslated(page, language)]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_fits_a_phone_and_speaks_uzbek_and_russian(
    role, demo, password, live_server, chromium_browser
):
    context = chromium_browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    try:
        admin_login(page, live_server, demo["users"][role], password)
        for language in ("uz", "ru"):
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
            for path in _pages(role, demo):
                response = page.goto(live_server.url + path)
                assert response.ok, (language, path, response.status)
                assert page.locator("html").get_attribute("lang") == language
                _check(page, language, path, problems)
            if role == Role.OPERATOR:
                # The answer to a search: the matches and what to offer instead, side by side on a desktop.
                page.goto(live_server.url + "/admin/")
                page.fill("#operator-search-input", demo["medicine"].name.split()[0])
                page.press("#operator-search-input", "Enter")
                page.wait_for_selector("#operator-search-results")
                _check(page, language, "the dashboard's search", problems)
            if role == Role.ADMIN:
                # The selection counter (Django's script) and the refusal of a form sent without an action.
                page.goto(live_server.url + "/admin/catalog/medicine/")
                page.locator("input.action-select").first.check()
                assert page.locator(".action-counter").inner_text().strip()
                _check(page, language, "a medicine selected", problems)
                with page.expect_navigation():
                    page.evaluate(
                        "() => { const form = document.querySelector('#changelist-form');"
                        " const index = document.createElement('input'); index.type = 'hidden'; index.name = 'index';"
                        " index.value = '0'; form.appendChild(index); form.submit(); }"
                    )
                _check(page, language, "an action sent without choosing one", problems)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
