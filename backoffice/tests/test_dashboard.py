"""The admin index: one dashboard per role, figures that link to the list behind them, fixed queries."""

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
from catalog.models import ImportJob, ImportKind, LotStatus
from catalog.tests.factories import ActiveSubstanceFactory, MedicineFactory, medicine_with, receive
from tasks.tests.factories import AlertFactory

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


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'id="([a-z0-9-]+)"', html))


def figure(html: str, widget_id: str) -> tuple[str, str]:
    """(href, shown value) of the figure card ``widget_id``."""
    block = html.split(f'id="{widget_id}"', 1)[1]
    href = re.search(r'href="([^"]+)"', block).group(1).replace("&amp;", "&")
    value = re.search(r"data-figure>([^<]*)<", block).group(1)
    return href, unescape(value)


def build_stock(n: int = 3):
    """``n`` medicines in a few states: in stock, low, out, expiring, quarantined; one sale each."""
    substance = ActiveSubstanceFactory()
    made = []
    for i in range(n):
        stocked = medicine_with([(substance, 500)], reorder_level=10, price=Decimal("12500"))
        receive(stocked, 40, expires_in_days=200)
        receive(stocked, 5, expires_in_days=20, price="3000")
        stock.stock_dispense(medicine=stocked, quantity=2)
        low = medicine_with([(substance, 250)], reorder_level=10, is_prescription=True)
        receive(low, 4, expires_in_days=60)
        out = medicine_with([(substance, 500)], reorder_level=5, is_prescription=True, number_sold=10 + i)
        quarantined = receive(MedicineFactory(), 7, expires_in_days=400)
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
    assert cache.get(f"dashboard:v1:owner:en:{day}") is not None
    assert cache.get(f"dashboard:v1:owner:ru:{day}") is None
    assert cache.get(f"dashboard:v1:pharmacist:en:{day}") is None

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = client.get(INDEX).content.decode()
    assert '<html lang="ru"' in html
    assert cache.get(f"dashboard:v1:owner:ru:{day}") is not None


@pytest.mark.django_db
def test_the_operator_finds_a_medicine_by_barcode_and_sees_its_stock_and_alternatives(staff_client):
    ((stocked, low, out),) = build_stock(1)
    client = staff_client(Role.OPERATOR)
    html = client.get(INDEX, {"medicine": out.barcode}).content.decode()
    results = html.split('id="operator-search-results"', 1)[1]
    assert out.name in results
    assert "Out of stock" in results
    alternatives = html.split('id="operator-search-alternatives"', 1)[1]
    # The same generic (same substance and strength) in stock comes first.
    assert stocked.name in alternatives
    assert "Same generic" in alternatives


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
