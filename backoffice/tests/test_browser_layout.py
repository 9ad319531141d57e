"""What only a browser shows: nothing cut that staff need to read, charts with readable axes."""

import pytest

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from catalog.tests.factories import MedicineFactory, receive

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]

LONG_NAME = "Amoxiclav powder for oral suspension 250 mg/62.5 mg per 5 ml, 100 ml"


def _in_russian(page, live_server) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])


def test_a_lot_s_header_never_cuts_its_number_in_russian_on_a_desk_or_a_phone(make_staff, password, live_server, page):
    lot = receive(MedicineFactory(name=LONG_NAME), 5, lot_number="F3616-26")
    admin_login(page, live_server, make_staff(Role.PHARMACIST), password)
    _in_russian(page, live_server)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/admin/catalog/lot/{lot.pk}/change/")
        identifier = page.locator("h1 [data-header-identifier]")
        assert identifier.inner_text().strip().endswith("F3616-26")
        whole = identifier.evaluate(
            "e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().width > 0 && "
            "e.getBoundingClientRect().right <= e.closest('h1').getBoundingClientRect().right + 1"
        )
        assert whole, width
        assert page.locator("h1 [data-header-part]").last.get_attribute("title") == f"{LONG_NAME} · F3616-26"


@pytest.mark.parametrize("language", ["en", "uz", "ru"])
def test_the_sidebar_search_placeholder_is_not_cut(make_staff, password, live_server, page, language):
    admin_login(page, live_server, make_staff(Role.OPERATOR), password)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/")

    placeholder = page.locator("#sidebar-search-placeholder")

    assert placeholder.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert placeholder.inner_text().strip()


def test_the_owner_s_charts_write_their_value_axis_grouped_and_grade_the_expiry_months(
    make_staff, password, live_server, page
):
    medicine = MedicineFactory(price="250000")
    receive(medicine, 400, expires_in_days=10, price="90000")
    receive(medicine, 400, expires_in_days=60, price="90000")
    receive(medicine, 400, expires_in_days=200, price="90000")
    admin_login(page, live_server, make_staff(Role.ADMIN), password)
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length > 0")

    ticks, colours = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector('#owner-chart-expiry canvas'));
            return [chart.scales.y.ticks.map(t => t.label), chart.data.datasets[0].backgroundColor];
        }"""
    )

    assert chart_axis_is_drawn(page, "#owner-chart-expiry canvas")
    # 10 000 000 so'm, not 10000000 so'm: the admin's grouping (a no-break space), the currency after it.
    assert any("\u00a0000\u00a0000" in label and label.endswith("so'm") for label in ticks)
    assert len(set(colours)) == 3  # red, amber, and plain


def chart_axis_is_drawn(page, selector: str) -> bool:
    return page.evaluate(f"() => Chart.getChart(document.querySelector('{selector}')).options.scales.y.ticks.display")
