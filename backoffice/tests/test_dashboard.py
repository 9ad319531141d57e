"""The admin index: one dashboard per role, figures that link to the list behind them, fixed queries."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from catalog import services, stock
from catalog.formatting import format_uzs
from catalog.models import ImportJob, ImportKind, LocationKind, LotStatus
from catalog.tests.factories import (
    ActiveSubstanceFactory,
    LocationFactory,
    MedicineFactory,
    main_location,
    medicine_with,
    receive,
)
from tasks.tests.factories import AlertFactory, set_reorder_level_here

pytestmark = pytest.mark.usefixtures("fresh_cache")

INDEX = "/admin/"

OWNER_IDS = [
    "owner-stock-cost",
    "owner-stock-retail",
    "owner-expiring-30",
    "owner-expiring-90",
    "owner-out-of-stock",
    "owner-low-stock",
    "owner-open-alerts",
    "owner-imports-today",
    "owner-chart-category",
    "owner-chart-expiry",
    "owner-chart-dispensed",
    "owner-places",
    "owner-latest-changes",
]
PHARMACIST_IDS = [
    "pharmacist-expired",
    "pharmacist-expiring-30",
    "pharmacist-expiring-90",
    "pharmacist-quarantined",
    "pharmacist-recalled",
    "pharmacist-rx-out",
    "pharmacist-lots-to-act",
    "pharmacist-rx-out-list",
]
OPERATOR_IDS = [
    "operator-search",
    "operator-out-of-stock",
    "operator-open-alerts",
    "operator-out-of-stock-list",
    "operator-alerts",
]
INVENTORY_IDS = [
    "inventory-low-stock",
    "inventory-expiring-30",
    "inventory-import-shortcuts",
    "inventory-reorder",
    "inventory-recent-imports",
    "inventory-expiring",
]
WIDGETS = {
    Role.ADMIN: OWNER_IDS,
    Role.PHARMACIST: PHARMACIST_IDS,
    Role.OPERATOR: OPERATOR_IDS,
    Role.INVENTORY: INVENTORY_IDS,
}


def number_on(text: str) -> int:
    return int(unescape(text).replace("\u00a0", "").replace(" ", ""))


def table_rows(html: str, widget_id: str) -> list[list[str]]:
    """The cells (text only) of the table in widget ``widget_id``."""
    block = html.split(f'id="{widget_id}"', 1)[1].split("</table>", 1)[0]
    body = block.split("<tbody", 1)[1] if "<tbody" in block else block
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return [row for row in rows if row]


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'id="([a-z0-9-]+)"', html))


def figure(html: str, widget_id: str) -> tuple[str, str]:
    """(href, shown value) of the figure card ``widget_id``."""
    block = html.split(f'id="{widget_id}"', 1)[1]
    href = re.search(r'href="([^"]+)"', block).group(1).replace("&amp;", "&")
    value = re.search(r"data-figure>([^<]*)<", block).group(1)
    return href, unescape(value)


def build_stock(n: int = 3, location=None):
    """``n`` medicines in a few states: in stock, low, out, expiring, quarantined; one sale each.

    At ``location`` (the main place unless told).
    """
    location = location or main_location()
    substance = ActiveSubstanceFactory()
    made = []
    for i in range(n):
        stocked = medicine_with([(substance, 500)], reorder_level=10, price=Decimal("12500"))
        receive(stocked, 40, expires_in_days=200, location=location)
        receive(stocked, 5, expires_in_days=20, price="3000", location=location)
        stock.stock_dispense(medicine=stocked, quantity=2, location=location)
        low = medicine_with([(substance, 250)], reorder_level=10, is_prescription=True)
        receive(low, 4, expires_in_days=60, location=location)
        out = medicine_with([(substance, 500)], reorder_level=5, is_prescription=True, number_sold=10 + i)
        # Sold out: the place carried it (a medicine never held anywhere is out of stock for the
        # chain's medicines list, but no place carries it).
        receive(out, 1, expires_in_days=200, location=location)
        stock.stock_dispense(medicine=out, quantity=1, location=location)
        quarantined = receive(MedicineFactory(), 7, expires_in_days=400, location=location)
        stock.lot_quarantine(lot=quarantined, reason="Damaged boxes")
        made.append((stocked, low, out))
    services.medicine_reindex_search(medicine_ids=[m.pk for trio in made for m in trio])
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(WIDGETS))
def test_each_role_sees_its_own_widgets_and_none_of_another_roles(role, staff_client):
    build_stock(1)
    client = staff_client(role)
    html = client.get(INDEX).content.decode()
    shown = ids_on(html)
    assert set(WIDGETS[role]) <= shown
    for other, ids in WIDGETS.items():
        if other != role:
            assert not (set(ids) & shown), f"{role} sees {other}'s widgets: {set(ids) & shown}"
    assert f'data-role="{role}"' in html


@pytest.mark.django_db
def test_a_pharmacist_does_not_see_the_owners_stock_value(staff_client):
    build_stock(1)
    html = staff_client(Role.PHARMACIST).get(INDEX).content.decode()
    assert "owner-stock-cost" not in html
    assert "Stock value at cost" not in html


@pytest.mark.django_db
def test_the_owner_sees_stock_value_at_cost_and_retail_and_what_expires(staff_client):
    build_stock(1)
    html = staff_client(Role.ADMIN).get(INDEX).content.decode()
    # At cost: 38 (40 - 2 dispensed... FEFO took the 20-day lot first) -> 40 * 5000 + 3 * 3000, plus the low
    # medicine's 4 * 5000; the quarantined lot is not available stock.
    assert figure(html, "owner-stock-cost")[1] == format_uzs(Decimal(40 * 5000 + 3 * 3000 + 4 * 5000))
    # Retail: sellable units at today's price: 43 * 12 500 + 4 * 10 000.
    assert figure(html, "owner-stock-retail")[1] == format_uzs(Decimal(43 * 12500 + 4 * 10000))
    assert figure(html, "owner-expiring-30")[1] == format_uzs(Decimal(3 * 3000))
    assert figure(html, "owner-expiring-90")[1] == format_uzs(Decimal(3 * 3000 + 4 * 5000))
    assert figure(html, "owner-out-of-stock")[1] == "2"  # the out one and the medicine of the quarantined lot
    assert figure(html, "owner-low-stock")[1] == "1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "widget_id", "admin_name"),
    [
        (Role.ADMIN, "owner-out-of-stock", "catalog_medicine_changelist"),
        (Role.ADMIN, "owner-low-stock", "catalog_medicine_changelist"),
        (Role.ADMIN, "owner-open-alerts", "tasks_alert_changelist"),
        (Role.ADMIN, "owner-imports-today", "catalog_importjob_changelist"),
        (Role.PHARMACIST, "pharmacist-expiring-30", "catalog_lot_changelist"),
        (Role.PHARMACIST, "pharmacist-expiring-90", "catalog_lot_changelist"),
        (Role.PHARMACIST, "pharmacist-quarantined", "catalog_lot_changelist"),
        (Role.PHARMACIST, "pharmacist-rx-out", "catalog_medicine_changelist"),
        (Role.INVENTORY, "inventory-low-stock", "catalog_medicine_changelist"),
        (Role.INVENTORY, "inventory-expiring-30", "catalog_lot_changelist"),
    ],
)
def test_every_count_links_to_the_filtered_list_that_shows_as_many_rows(role, widget_id, admin_name, staff_client):
    build_stock(2)
    AlertFactory.create_batch(3)
    client = staff_client(role)
    ImportJob.objects.create(kind=ImportKind.RECEIPT, original_name="a.csv", checksum="x", created_by=client.user)
    cache.clear()
    html = client.get(INDEX).content.decode()
    href, value = figure(html, widget_id)
    assert href.startswith(reverse(f"admin:{admin_name}"))
    listing = client.get(href)
    assert listing.status_code == 200
    changelist = listing.context["cl"]
    assert changelist.result_count == int(value.replace("\u00a0", "")), href
    assert int(value.replace("\u00a0", "")) > 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(WIDGETS))
def test_each_dashboard_runs_the_same_number_of_queries_on_small_and_larger_data(
    role, staff_client, django_assert_max_num_queries
):
    client = staff_client(role)
    build_stock(1)
    cache.clear()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(INDEX).status_code == 200
    build_stock(6)
    AlertFactory.create_batch(8)
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(INDEX).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(WIDGETS))
def test_a_second_view_within_the_minute_reads_the_figures_from_the_cache(role, staff_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff_client(role)
    build_stock(1)
    with CaptureQueriesContext(connection) as cold:
        client.get(INDEX)
    with CaptureQueriesContext(connection) as warm:
        client.get(INDEX)
    # Session, user and device, the sidebar and its badges remain; the dashboard's own queries are gone.
    assert len(warm.captured_queries) < len(cold.captured_queries)
    assert len(warm.captured_queries) <= 12


@pytest.mark.django_db
def test_the_cache_is_kept_per_role_and_language(staff_client, settings):
    day = f"{timezone.localdate():%Y%m%d}"
    client = staff_client(Role.ADMIN)
    client.get(INDEX)
    assert cache.get(f"dashboard:v2:owner:chain:en:{day}") is not None
    assert cache.get(f"dashboard:v2:owner:chain:ru:{day}") is None
    assert cache.get(f"dashboard:v2:pharmacist:chain:en:{day}") is None

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = client.get(INDEX).content.decode()
    assert '<html lang="ru"' in html
    assert cache.get(f"dashboard:v2:owner:chain:ru:{day}") is not None


@pytest.mark.django_db
def test_the_operator_finds_a_medicine_by_barcode_and_sees_its_stock_and_alternatives(staff_client):
    ((stocked, low, out),) = build_stock(1)
    client = staff_client(Role.OPERATOR)
    html = client.get(INDEX, {"medicine": out.barcode}).content.decode()
    results = html.split('id="operator-search-results"', 1)[1]
    assert out.name in results
    assert "Out of stock" in results
    row = results.split(out.name, 1)[1].split("</tr>", 1)[0]
    # The same generic (same substance and strength) in stock comes first, then the other strength, marked.
    assert row.index(stocked.name) < row.index(low.name)
    assert "same substances" in row.split(low.name, 1)[1]
    assert "same substances" not in row.split(low.name, 1)[0]


@pytest.mark.django_db
def test_the_operator_sees_how_many_match_and_a_link_to_all_of_them(staff_client):
    from backoffice.dashboard.base import OPERATOR_SEARCH_LIMIT

    build_stock(3)  # nine medicines named "Medicine …", and three more
    client = staff_client(Role.OPERATOR)
    html = client.get(INDEX, {"medicine": "medicine"}).content.decode()

    total = number_on(re.search(r'id="operator-search-count">\s*([\d\s\u00a0]+) match', html).group(1))
    assert total > OPERATOR_SEARCH_LIMIT
    more = unescape(re.search(r'href="([^"]+)"[^>]*id="operator-search-more"', html).group(1))
    assert more == f"{reverse('admin:catalog_medicine_changelist')}?q=medicine"
    listed = client.get(more).context["cl"].result_count
    assert listed == total


@pytest.mark.django_db
def test_a_search_that_finds_a_few_says_how_many_and_offers_no_more_link(staff_client):
    ((stocked, _low, _out),) = build_stock(1)
    html = staff_client(Role.OPERATOR).get(INDEX, {"medicine": stocked.sku}).content.decode()
    assert re.search(r'id="operator-search-count">\s*1 match\b', html)
    assert 'id="operator-search-more"' not in html


@pytest.mark.django_db
def test_every_match_shows_its_own_alternatives_not_only_the_first(staff_client):
    ((stocked, low, out),) = build_stock(1)
    html = staff_client(Role.OPERATOR).get(INDEX, {"medicine": "medicine"}).content.decode()
    results = html.split('id="operator-search-results"', 1)[1]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", results, re.S)]
    # Each match's row, by the medicine in its first cell: its alternatives are in its last.
    rows = {re.sub(r"<[^>]+>", "", row[0]).strip(): row[-1] for row in cells if row}
    # Each offers the other: same substance, another strength (and never itself).
    assert f">{low.name}<" in rows[stocked.name] and f">{stocked.name}<" not in rows[stocked.name]
    assert f">{stocked.name}<" in rows[low.name]


@pytest.mark.django_db
def test_the_operator_finds_a_medicine_by_substance(staff_client):
    substance = ActiveSubstanceFactory(inn_name="Paracetamolum")
    medicine = medicine_with([(substance, 500)], name="Panadol 500 mg")
    receive(medicine, 12)
    services.medicine_reindex_search(medicine_ids=[medicine.pk])
    html = staff_client(Role.OPERATOR).get(INDEX, {"medicine": "paracetamol"}).content.decode()
    assert "Panadol 500 mg" in html.split('id="operator-search-results"', 1)[1]


@pytest.mark.django_db
def test_out_of_stock_medicines_are_listed_with_their_in_stock_alternatives(staff_client):
    ((stocked, low, out),) = build_stock(1)
    html = staff_client(Role.OPERATOR).get(INDEX).content.decode()
    table = html.split('id="operator-out-of-stock-list"', 1)[1].split('id="operator-alerts"', 1)[0]
    row = table.split(out.name, 1)[1].split("</tr>", 1)[0]
    assert "&lt;a" not in row
    assert f'href="{reverse("admin:catalog_medicine_change", args=[stocked.pk])}"' in row
    assert stocked.name in row
    assert low.name in row  # same substance, another strength


@pytest.mark.django_db
def test_the_reorder_suggestion_covers_a_month_of_sales_plus_the_reorder_level(staff_client):
    from backoffice.selectors_dashboard import reorder_suggestions

    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 30)
    stock.stock_dispense(medicine=medicine, quantity=25)  # 5 left, 25 sold in the last 30 days
    quiet = MedicineFactory(reorder_level=10)
    receive(quiet, 3)
    lines = {line.medicine.pk: line for line in reorder_suggestions()}
    assert lines[medicine.pk].dispensed_30_days == 25
    assert lines[medicine.pk].suggested == 25 + 10 - 5
    assert lines[quiet.pk].suggested == 2 * 10 - 3


@pytest.mark.django_db
def test_latest_audited_changes_show_a_price_change_with_who_made_it(staff_client):
    from simple_history.utils import update_change_reason

    client = staff_client(Role.ADMIN)
    medicine = MedicineFactory(name="Nurofen 200 mg")
    medicine._history_user = client.user
    medicine.price = Decimal("15000")
    medicine.save()
    update_change_reason(medicine, "Supplier price list")
    lot = receive(MedicineFactory(), 3)
    stock.lot_quarantine(lot=lot, reason="Broken seal", user=client.user)
    cache.clear()
    html = client.get(INDEX).content.decode()
    table = html.split('id="owner-latest-changes"', 1)[1]
    assert "Nurofen 200 mg" in table
    assert "Supplier price list" in table
    assert reverse("admin:catalog_medicine_history", args=[medicine.pk]) in table
    assert f"{lot.medicine.name} · {lot.lot_number}" in table
    assert reverse("admin:catalog_lot_history", args=[lot.pk]) in table
    assert client.user.phone in table or client.user.first_name in table


@pytest.mark.django_db
def test_the_expiry_chart_has_twelve_months_and_the_dispensing_chart_thirty_days():
    from backoffice.selectors_dashboard import stock_value_profile, units_dispensed_by_day

    medicine = MedicineFactory()
    receive(medicine, 10, expires_in_days=45, price="1000")
    stock.stock_dispense(medicine=medicine, quantity=4)
    profile = stock_value_profile()
    assert len(profile.value_by_month) == 12
    assert sum(value for _month, value in profile.value_by_month) == Decimal(6 * 1000)
    days = units_dispensed_by_day(days=30)
    assert len(days) == 30
    assert days[-1] == (timezone.localdate(), 4)


@pytest.mark.django_db
def test_set_aside_lots_are_counted_by_status():
    from backoffice.selectors_dashboard import lot_action_counts

    build_stock(2)
    recalled = receive(MedicineFactory(), 5)
    stock.lot_recall(lot=recalled, reason="Manufacturer notice")
    counts = lot_action_counts()
    assert counts.lots_quarantined == 2
    assert counts.lots_recalled == 1
    recalled.refresh_from_db()
    assert recalled.status == LotStatus.RECALLED


@pytest.mark.django_db
def test_the_operators_search_runs_the_same_number_of_queries_whatever_it_finds(
    staff_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff_client(Role.OPERATOR)
    ((stocked, _low, _out),) = build_stock(1)
    client.get(INDEX)  # the dashboard's figures are now cached: only the search is left to count
    with CaptureQueriesContext(connection) as one:
        client.get(INDEX, {"medicine": "medicine"})
    build_stock(6)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(INDEX, {"medicine": "medicine"}).content.decode()
    assert html.split('id="operator-search-results"', 1)[1].count("/change/") >= 5


def test_dates_are_written_as_staff_in_tashkent_write_them():
    import datetime

    from catalog.formatting import format_date, format_day_month, format_month

    assert format_date(datetime.date(2026, 3, 7)) == "07.03.2026"
    # 20:30 UTC is already the next day in Tashkent (UTC+5).
    moment = datetime.datetime(2026, 3, 7, 20, 30, tzinfo=datetime.UTC)
    assert format_date(moment) == "08.03.2026 01:30"
    assert format_month(datetime.date(2026, 11, 1)) == "11.2026"
    assert format_day_month(datetime.date(2026, 11, 27)) == "27.11"
    assert format_date(None) == ""


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["uz", "ru", "en"])
@pytest.mark.parametrize("role", list(WIDGETS))
def test_every_dashboard_renders_in_every_language(role, language, staff_client, settings):
    # A translation that breaks a placeholder ("%(days)d") would fail here, not in front of staff.
    build_stock(1)
    client = staff_client(role)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(INDEX, {"medicine": "medicine"} if role == Role.OPERATOR else {})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert set(WIDGETS[role]) <= ids_on(html)


# --- places -------------------------------------------------------------------------
def money_on(text: str) -> Decimal:
    digits = re.sub(r"[^\d,.-]", "", unescape(text).replace("\u00a0", ""))
    return Decimal(digits.replace(",", "")) if digits else Decimal(0)


@pytest.mark.django_db
def test_a_member_of_one_place_sees_that_place_s_figures_only(staff_client):
    branch, other = LocationFactory(name="Chilonzor"), LocationFactory(name="Yunusobod")
    build_stock(1, location=branch)
    build_stock(3, location=other)
    client = staff_client(Role.PHARMACIST, locations=[branch])

    html = client.get(INDEX).content.decode()

    assert figure(html, "pharmacist-expiring-30")[1] == "1"  # the 20-day lot at Chilonzor, not Yunusobod's 3
    assert figure(html, "pharmacist-quarantined")[1] == "1"
    assert figure(html, "pharmacist-rx-out")[1] == "1"
    assert "Chilonzor" in html.split('id="dashboard-places"', 1)[1].split("</div>", 1)[0]
    assert "Yunusobod" not in html


@pytest.mark.django_db
def test_the_switcher_refuses_a_place_the_member_does_not_work_at_and_shows_theirs(staff_client):
    branch, other = LocationFactory(name="Chilonzor"), LocationFactory(name="Yunusobod")
    build_stock(1, location=branch)
    build_stock(3, location=other)
    client = staff_client(Role.INVENTORY, locations=[branch])
    own = client.get(INDEX).content.decode()

    response = client.get(INDEX, {"location": other.pk})
    garbage = client.get(INDEX, {"location": "1 OR 1=1"})

    assert response.status_code == 200 and garbage.status_code == 200
    html = response.content.decode()
    assert "Yunusobod" not in html
    assert (
        figure(html, "inventory-expiring-30")
        == figure(own, "inventory-expiring-30")
        == (
            figure(html, "inventory-expiring-30")[0],
            "1",
        )
    )
    assert table_rows(html, "inventory-reorder") == table_rows(own, "inventory-reorder")


@pytest.mark.django_db
def test_a_member_of_several_places_sees_them_summed_and_may_pick_one(staff_client):
    branch, warehouse = LocationFactory(name="Chilonzor"), LocationFactory(name="Sklad", kind=LocationKind.WAREHOUSE)
    elsewhere = LocationFactory(name="Sergeli")
    build_stock(1, location=branch)
    build_stock(2, location=warehouse)
    build_stock(4, location=elsewhere)
    client = staff_client(Role.PHARMACIST, locations=[branch, warehouse])

    summed = client.get(INDEX).content.decode()
    one = client.get(INDEX, {"location": warehouse.pk}).content.decode()

    assert figure(summed, "pharmacist-expiring-30")[1] == "3"
    assert figure(one, "pharmacist-expiring-30")[1] == "2"
    switcher = summed.split('id="dashboard-places"', 1)[1].split("</form>", 1)[0]
    assert "All my places" in switcher and "Chilonzor" in switcher and "Sklad" in switcher
    assert "Sergeli" not in summed
    # Summed over places, each line of a list says where it is.
    assert {row[2] for row in table_rows(summed, "pharmacist-lots-to-act")} == {"Chilonzor", "Sklad"}


@pytest.mark.django_db
def test_the_owner_s_table_of_places_sums_to_the_chain(staff_client):
    branch, warehouse = LocationFactory(name="Chilonzor"), LocationFactory(name="Sklad", kind=LocationKind.WAREHOUSE)
    build_stock(1)
    build_stock(1, location=branch)
    build_stock(2, location=warehouse)
    # Packs on their way belong to the chain too: they are a line of their own.
    medicine = MedicineFactory()
    receive(medicine, 10, expires_in_days=50, price="2000", location=warehouse)
    stock.transfer_send(transfer=stock.transfer_create(source=warehouse, destination=branch, lines=[(medicine, 4)]))
    client = staff_client(Role.ADMIN)

    html = client.get(INDEX).content.decode()

    rows = table_rows(html, "owner-places")
    *places, chain = rows
    assert [row[0] for row in places] == ["Chilonzor", "Main pharmacy", "Sklad", "In transit"]
    assert chain[0] == "Whole chain"
    cost, expiring = figure(html, "owner-stock-cost")[1], figure(html, "owner-expiring-90")[1]
    assert sum(money_on(row[1]) for row in places) == money_on(chain[1]) == money_on(cost)
    assert sum(money_on(row[2]) for row in places) == money_on(chain[2]) == money_on(expiring)
    assert money_on(places[3][1]) == Decimal(4 * 2000) and places[3][3] == "—"
    # Each place's own out-of-stock count; the chain's is of medicines with nothing sellable anywhere.
    assert [number_on(row[3]) for row in places[:3]] == [2, 2, 4]
    assert number_on(chain[3]) == number_on(figure(html, "owner-out-of-stock")[1]) == 8


@pytest.mark.django_db
def test_the_owner_may_look_at_one_place(staff_client):
    branch = LocationFactory(name="Chilonzor")
    build_stock(1)
    build_stock(2, location=branch)
    client = staff_client(Role.ADMIN)

    chain = client.get(INDEX).content.decode()
    one = client.get(INDEX, {"location": branch.pk}).content.decode()

    assert money_on(figure(one, "owner-expiring-30")[1]) == Decimal(2 * 3 * 3000)
    assert money_on(figure(chain, "owner-expiring-30")[1]) == Decimal(3 * 3 * 3000)
    assert figure(one, "owner-out-of-stock")[1] == "4"
    # The table of places is the chain's whatever the owner looks at.
    assert table_rows(one, "owner-places") == table_rows(chain, "owner-places")


@pytest.mark.django_db
def test_low_stock_at_a_branch_is_not_low_stock_at_the_warehouse_on_the_dashboard(staff_client):
    branch, warehouse = LocationFactory(name="Chilonzor"), LocationFactory(name="Sklad", kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory(name="Sumamed 500", reorder_level=10)
    receive(medicine, 6, location=branch)
    receive(medicine, 300, location=warehouse)
    at_branch = staff_client(Role.INVENTORY, locations=[branch])
    branch_html = at_branch.get(INDEX).content.decode()
    at_branch.logout()
    at_warehouse = staff_client(Role.INVENTORY, locations=[warehouse])
    warehouse_html = at_warehouse.get(INDEX).content.decode()

    assert figure(branch_html, "inventory-low-stock")[1] == "1"
    assert [row[0] for row in table_rows(branch_html, "inventory-reorder")] == ["Sumamed 500"]
    assert figure(warehouse_html, "inventory-low-stock")[1] == "0"
    assert table_rows(warehouse_html, "inventory-reorder") == []


@pytest.mark.django_db
def test_the_reorder_list_counts_the_sales_of_each_place_and_its_own_reorder_level():
    from backoffice.selectors_dashboard import reorder_suggestions

    branch, other = LocationFactory(), LocationFactory()
    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 30, location=branch)
    receive(medicine, 100, location=other)
    stock.stock_dispense(medicine=medicine, quantity=25, location=branch)  # 5 left here
    stock.stock_dispense(medicine=medicine, quantity=90, location=other)  # 10 left there
    set_reorder_level_here(medicine, other, 12)

    lines = {line.location.pk: line for line in reorder_suggestions(places=frozenset({branch.pk, other.pk}))}

    assert (lines[branch.pk].dispensed_30_days, lines[branch.pk].suggested) == (25, 25 + 10 - 5)
    assert (lines[other.pk].reorder_level, lines[other.pk].dispensed_30_days) == (12, 90)
    assert lines[other.pk].suggested == 90 + 12 - 10
    assert [line.location.pk for line in reorder_suggestions(places=frozenset({branch.pk}))] == [branch.pk]


def _three_places_of_stock(n: int) -> list:
    places = [main_location(), LocationFactory(), LocationFactory(kind=LocationKind.WAREHOUSE)]
    for place in places:
        build_stock(n, location=place)
    return places


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(WIDGETS))
def test_each_dashboard_runs_as_many_queries_on_three_places_as_on_one(
    role, make_staff, login_staff, client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(requested) -> int:
        cache.clear()
        user._location_ids = None
        with CaptureQueriesContext(connection) as captured:
            assert client.get(INDEX, requested).status_code == 200
        return len(captured.captured_queries)

    build_stock(2)
    user = make_staff(role)
    login_staff(user)
    # The default (the owner's whole chain, a member's places) and one place picked.
    one_place = {"default": count({}), "picked": count({"location": main_location().pk})}

    places = _three_places_of_stock(3)
    user.locations.set(places)
    AlertFactory.create_batch(2, location=places[1])
    for view, requested in (("default", {}), ("picked", {"location": places[2].pk})):
        cache.clear()
        user._location_ids = None
        with django_assert_max_num_queries(one_place[view]):
            response = client.get(INDEX, requested)
        assert response.status_code == 200
        assert set(WIDGETS[role]) <= ids_on(response.content.decode())


@pytest.mark.django_db
def test_the_cache_is_kept_per_place(staff_client):
    day = f"{timezone.localdate():%Y%m%d}"
    branch = LocationFactory()
    client = staff_client(Role.PHARMACIST, locations=[main_location(), branch])

    client.get(INDEX)
    client.get(INDEX, {"location": branch.pk})

    both = "-".join(str(pk) for pk in sorted([main_location().pk, branch.pk]))
    assert cache.get(f"dashboard:v2:pharmacist:{both}:en:{day}") is not None
    assert cache.get(f"dashboard:v2:pharmacist:{branch.pk}:en:{day}") is not None


@pytest.mark.django_db
def test_over_several_places_a_medicine_out_at_two_of_them_counts_at_each(staff_client):
    branch, warehouse = LocationFactory(name="Chilonzor"), LocationFactory(name="Sklad", kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory(name="Augmentin 875", is_prescription=True)
    for place in (branch, warehouse):
        receive(medicine, 2, location=place)
        stock.stock_dispense(medicine=medicine, quantity=2, location=place)
    client = staff_client(Role.PHARMACIST, locations=[branch, warehouse])

    html = client.get(INDEX).content.decode()

    # Each place has to restock its own shelf: two lines, one per place.
    assert figure(html, "pharmacist-rx-out")[1] == "2"
    assert sorted(row[1] for row in table_rows(html, "pharmacist-rx-out-list")) == ["Chilonzor", "Sklad"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "widget_id"), [(Role.PHARMACIST, "pharmacist-expired"), (Role.INVENTORY, "inventory-expired")]
)
def test_expired_lots_the_sweep_marked_are_counted_while_they_hold_stock(role, widget_id, staff_client):
    import datetime

    import time_machine

    receive(MedicineFactory(name="Tamiflu 75 mg"), 6, expires_in_days=3)
    receive(MedicineFactory(name="Nurofen 200 mg"), 4, expires_in_days=5)
    emptied = receive(MedicineFactory(name="Aspirin 100 mg"), 2, expires_in_days=4)
    stock.stock_dispense(medicine=emptied.medicine, quantity=2)
    receive(MedicineFactory(name="Ibuprofen 400 mg"), 9, expires_in_days=40)
    client = staff_client(role)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=10)):
        assert stock.lots_expire() == 3  # the sweep marks the emptied lot too
        cache.clear()
        html = client.get(INDEX).content.decode()
        href, value = figure(html, widget_id)
        listing = client.get(href)

    # The two swept lots still on the shelf, not the emptied one nor the one still in date.
    assert value == "2"
    assert listing.context["cl"].result_count == 2
    if role == Role.PHARMACIST:
        medicines = [row[1] for row in table_rows(html, "pharmacist-lots-to-act")]
        assert medicines[:2] == ["Tamiflu 75 mg", "Nurofen 200 mg"]  # expired first, soonest first


def chart_data(html: str, widget_id: str) -> dict:
    """The JSON Unfold draws the chart of widget ``widget_id`` from."""
    import json

    block = html.split(f'id="{widget_id}"', 1)[1]
    return json.loads(unescape(re.search(r'data-value="([^"]+)"', block).group(1)))


@pytest.mark.django_db
def test_every_owner_chart_shows_its_value_axis_and_the_charts_are_told_apart_by_colour(staff_client):
    build_stock(1)
    html = staff_client(Role.ADMIN).get(INDEX).content.decode()

    charts = {
        widget: chart_data(html, widget)["datasets"][0]
        for widget in ("owner-chart-category", "owner-chart-expiry", "owner-chart-dispensed")
    }

    assert all(dataset["displayYAxis"] for dataset in charts.values())
    assert charts["owner-chart-category"]["backgroundColor"] != charts["owner-chart-dispensed"]["backgroundColor"]


@pytest.mark.django_db
def test_the_expiry_chart_grades_its_months_as_the_badges_and_links_to_the_lots_of_those_months(staff_client):
    from backoffice.colours import EXPIRY_CHART_COLOURS

    build_stock(1)
    today = timezone.localdate()
    html = staff_client(Role.ADMIN).get(INDEX).content.decode()

    colours = chart_data(html, "owner-chart-expiry")["datasets"][0]["backgroundColor"]
    assert len(colours) == 12
    assert colours[0] == EXPIRY_CHART_COLOURS["danger"]  # this month: a lot may expire tomorrow
    assert colours[-1] == EXPIRY_CHART_COLOURS["default"]
    assert EXPIRY_CHART_COLOURS["warning"] in colours
    href = unescape(re.search(r'href="([^"]+)"', html.split('id="owner-chart-expiry"', 1)[1]).group(1))
    assert "expiry=180" not in href
    assert f"expiry_date_from={today + datetime.timedelta(days=1):%Y-%m-%d}" in href
    # The last bar is the eleventh month after this one: the link ends on its last day.
    after_last = today.replace(year=today.year + 1, day=1)
    assert f"expiry_date_to={after_last - datetime.timedelta(days=1):%Y-%m-%d}" in href


@pytest.mark.django_db
def test_latest_audited_changes_say_system_for_the_expiry_sweep_and_the_person_for_a_person(staff_client):
    client = staff_client(Role.ADMIN)
    expired = receive(MedicineFactory(name="Old Syrup"), 3, expires_in_days=1)
    quarantined = receive(MedicineFactory(name="Damaged Box"), 3)
    stock.lot_quarantine(lot=quarantined, reason="Broken seal", user=client.user)
    stock.lots_expire(today=timezone.localdate() + datetime.timedelta(days=2))
    cache.clear()

    rows = table_rows(client.get(INDEX).content.decode(), "owner-latest-changes")

    def newest(label):
        return next(row for row in rows if row[2] == label)

    swept = newest(f"Old Syrup · {expired.lot_number}")
    assert swept[4] == "System"
    assert swept[5] == "Expiry sweep"
    assert newest(f"Damaged Box · {quarantined.lot_number}")[4] not in ("System", "—")
    assert "—" not in {row[4] for row in rows}
    # The receipts the factory made without a person: the system's, their reason in words.
    assert [row[5] for row in rows if row[2] == f"Old Syrup · {expired.lot_number}"][-1] == "Receipt"


@pytest.mark.django_db
def test_an_sku_on_the_pharmacist_s_dashboard_stays_on_one_line(staff_client):
    out = MedicineFactory(sku="DX-00062", is_prescription=True, number_sold=5)
    receive(out, 1)
    stock.stock_dispense(medicine=out, quantity=1)

    html = staff_client(Role.PHARMACIST).get(INDEX).content.decode()

    assert '<span class="whitespace-nowrap">DX-00062</span>' in html.split('id="pharmacist-rx-out-list"', 1)[1]
