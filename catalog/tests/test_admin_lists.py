"""Every catalogue list page runs the same number of queries whatever its size."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from catalog.admin.paginator import EstimatedCountPaginator
from catalog.models import Medicine
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import (
    ActiveSubstanceFactory,
    CategoryFactory,
    ManufacturerFactory,
    MedicineFactory,
    main_location,
    medicine_with,
    receive,
)
from conftest import requires_postgres


def add_catalogue(count: int, start: int) -> None:
    """``count`` medicines, each with a substance, two lots (so two ledger rows) and its own maker and category."""
    for i in range(start, start + count):
        substance = ActiveSubstanceFactory(inn_name=f"Substancium {i}", name_ru=f"Субстанциум {i}")
        medicine = medicine_with(
            [(substance, 500)],
            manufacturer=ManufacturerFactory(name=f"Maker {i}"),
            category=CategoryFactory(),
            is_prescription=i % 2 == 0,
            is_controlled=i % 5 == 0,
            reorder_level=10,
        )
        receive(medicine, 5 + i, expires_in_days=20 + i)
        receive(medicine, 3, expires_in_days=400)


LIST_URLS = [
    "admin:catalog_medicine_changelist",
    "admin:catalog_lot_changelist",
    "admin:catalog_stockmovement_changelist",
    "admin:catalog_category_changelist",
    "admin:catalog_manufacturer_changelist",
    "admin:catalog_activesubstance_changelist",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", LIST_URLS)
def test_list_page_runs_the_same_number_of_queries_for_5_and_30_rows(staff_client, url_name):
    client = staff_client(Role.PHARMACIST)
    url = reverse(url_name)
    add_catalogue(5, start=0)
    with_five, _ = queries_for(client, url)

    add_catalogue(25, start=5)
    with_thirty, response = queries_for(client, url)

    assert with_thirty == with_five
    assert len(response.context["cl"].result_list) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "?stock=low",
        "?stock=out",
        "?expiry=30",
        "?expiry=expired",
        "?is_prescription__exact=1",
        "?q=substancium",
        "?q=субстанциум",
    ],
)
def test_filtered_and_searched_medicine_list_keeps_a_constant_query_count(staff_client, query):
    client = staff_client(Role.OPERATOR)
    url = reverse("admin:catalog_medicine_changelist") + query
    add_catalogue(5, start=0)
    with_five, _ = queries_for(client, url)

    add_catalogue(25, start=5)
    with_thirty, _ = queries_for(client, url)

    assert with_thirty == with_five


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:catalog_medicine_changelist", "?location={place}"),
        ("admin:catalog_medicine_changelist", "?location={place}&stock=low&q=substancium"),
        ("admin:catalog_lot_changelist", "?location={place}"),
        ("admin:catalog_lot_changelist", "?location={place}&on_hand=no"),
        ("admin:catalog_stockmovement_changelist", "?location__id__exact={place}"),
    ],
)
def test_lists_at_a_place_keep_a_constant_query_count(staff_client, url_name, query):
    client = staff_client(Role.PHARMACIST)
    url = reverse(url_name) + query.format(place=main_location().pk)
    add_catalogue(5, start=0)
    with_five, _ = queries_for(client, url)

    add_catalogue(25, start=5)
    with_thirty, _ = queries_for(client, url)

    assert with_thirty == with_five


@pytest.mark.django_db
def test_medicine_list_shows_price_in_sum_and_stock_and_dispensing_badges(staff_client):
    client = staff_client(Role.OPERATOR)
    out = MedicineFactory(name="Nothing Left", price="12500")
    low = MedicineFactory(name="Almost Gone", reorder_level=10, is_prescription=True)
    receive(low, 4, expires_in_days=20)
    controlled = MedicineFactory(name="Tramadol Test", is_controlled=True, is_prescription=True)
    receive(controlled, 100)
    MedicineFactory(name="Withdrawn", is_active=False)

    response = client.get(reverse("admin:catalog_medicine_changelist"))

    html = response.content.decode()
    assert "12\u00a0500\u00a0so&#x27;m" in html
    assert "Out of stock" in html
    assert "Low: 4 packs" in html
    assert "expiring soon" in html
    assert "Rx · Controlled" in html
    assert "Inactive" in html
    out.refresh_from_db()
    assert out.sellable_quantity == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected", "not_expected"),
    [
        ("?stock=out", {"Empty"}, {"Plenty", "Few"}),
        ("?stock=low", {"Few"}, {"Plenty", "Empty"}),
        ("?stock=in", {"Plenty"}, {"Few", "Empty"}),
        ("?expiry=30", {"Few"}, {"Plenty", "Empty"}),
        ("?expiry=180", {"Few", "Plenty"}, {"Empty"}),
    ],
)
def test_medicine_stock_and_expiry_filters_pick_the_right_medicines(staff_client, query, expected, not_expected):
    client = staff_client(Role.OPERATOR)
    MedicineFactory(name="Empty", reorder_level=5)
    receive(MedicineFactory(name="Few", reorder_level=5), 3, expires_in_days=10)
    receive(MedicineFactory(name="Plenty", reorder_level=5), 50, expires_in_days=100)

    response = client.get(reverse("admin:catalog_medicine_changelist") + query)

    names = {m.name for m in response.context["cl"].result_list}
    assert expected <= names
    assert not names & not_expected


@pytest.mark.django_db
def test_medicine_expired_filter_finds_expired_stock_still_on_hand(staff_client):
    client = staff_client(Role.OPERATOR)
    stale = MedicineFactory(name="Stale")
    receive(stale, 5, expires_in_days=3)
    receive(MedicineFactory(name="Fresh"), 5, expires_in_days=300)

    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(days=10), tick=False):
        response = client.get(reverse("admin:catalog_medicine_changelist") + "?expiry=expired")

    assert [m.name for m in response.context["cl"].result_list] == ["Stale"]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Paracetamol", "парацетамол", "paratsetamol", "SKU-PARA-1", "4780000000017"])
def test_medicine_search_finds_by_name_in_any_script_sku_and_barcode(staff_client, query):
    client = staff_client(Role.OPERATOR)
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол")
    medicine_with([(paracetamol, 500)], name="Panadol", sku="SKU-PARA-1", barcode="4780000000017")
    medicine_with([(ActiveSubstanceFactory(inn_name="Ibuprofen"), 200)], name="Nurofen")

    response = client.get(reverse("admin:catalog_medicine_changelist"), {"q": query})

    assert [m.name for m in response.context["cl"].result_list] == ["Panadol"]


def test_paginator_counts_exactly_off_postgresql_or_below_the_threshold(db):
    MedicineFactory.create_batch(3)
    paginator = EstimatedCountPaginator(Medicine.objects.order_by("pk"), 2)
    assert paginator.count == 3
    assert paginator.num_pages == 2


@requires_postgres
@pytest.mark.django_db
def test_paginator_reads_the_planner_estimate_for_an_unfiltered_large_table_without_count():
    MedicineFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_medicine")

    class SmallThreshold(EstimatedCountPaginator):
        estimate_threshold = 10

    with CaptureQueriesContext(connection) as captured:
        unfiltered = SmallThreshold(Medicine.objects.order_by("pk"), 10).count
    assert unfiltered == 30
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "reltuples" in sql
    assert "COUNT(" not in sql.upper()

    filtered = SmallThreshold(
        Medicine.objects.filter(name__startswith="Medicine").exclude(pk=Medicine.objects.first().pk), 10
    )
    assert filtered.count == 29


@pytest.mark.django_db
def test_an_sku_never_wraps_at_its_hyphen_in_the_medicine_list(staff_client):
    MedicineFactory(sku="DX-00062")

    html = staff_client(Role.PHARMACIST).get(reverse("admin:catalog_medicine_changelist")).content.decode()

    assert '<span class="whitespace-nowrap">DX-00062</span>' in html


def _expiry_badge(html: str, text: str) -> str:
    """The colour classes of the label that shows ``text``."""
    import re

    match = re.search(r'<span class="([^"]*)"[^>]*>\s*' + re.escape(text) + r"\s*</span>", html)
    assert match, text
    return match.group(1)


@pytest.mark.django_db
def test_the_lots_list_grades_expiry_badges_by_the_days_left(staff_client):
    medicine = MedicineFactory()
    lots = {days: receive(medicine, 3, expires_in_days=days) for days in (5, 24, 60, 200)}

    html = staff_client(Role.PHARMACIST).get(reverse("admin:catalog_lot_changelist")).content.decode()

    def badge_of(days):
        return _expiry_badge(html, lots[days].expiry_date.strftime("%d.%m.%Y"))

    assert "bg-red-100" in badge_of(5) and "bg-red-100" in badge_of(24)
    assert "bg-orange-100" in badge_of(60)
    assert "bg-red-100" not in badge_of(200) and "bg-orange-100" not in badge_of(200)
