"""Sales on the dashboards: the pharmacist's day at their places and their till, the owner's revenue and margin
by place; figures from the orders themselves, a fixed number of queries."""

import datetime
import json
import re
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from backoffice.selectors_dashboard import sales_profile, shift_sales
from catalog.formatting import format_uzs
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from orders import services
from orders.tests.factories import card, cash, open_shift, sell

from .test_dashboard import INDEX, figure, ids_on, table_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def uzs(amount) -> str:
    return format_uzs(Decimal(amount))


@pytest.fixture
def places():
    return main_location(), LocationFactory(name="Yunusobod branch")


@pytest.fixture
def known_sales(places, make_staff):
    """At A: 2 packs of a 12 % VAT medicine (cash) and 3 parts of a VAT-exempt one sold by the blister (card),
    then one pack back; at B: 1 pack. Purchase prices per pack: 5 000 and 3 000 (a part: 1 500).

    A: receipts 2, sales 22 400 + 12 000 = 34 400, returned 11 200, revenue 23 200;
       net of VAT (20 000 + 12 000) - (11 200 - 1 200) = 22 000, cost 10 000 + 4 500 - 5 000 = 9 500,
       margin 12 500. B: revenue 11 200, net 10 000, cost 5 000, margin 5 000.
    """
    a, b = places
    taxed = MedicineFactory(price=Decimal("11200"), vat_rate=Decimal("12"))
    blister = MedicineFactory(
        price=Decimal("8000"), part_price=Decimal("4000"), parts_per_pack=2, part_name="blister", vat_rate=Decimal("0")
    )
    for place in (a, b):
        receive(taxed, 10, price="5000", location=place)
        receive(blister, 10, price="3000", location=place)
    seller_a = make_staff(Role.PHARMACIST, locations=[a])
    seller_b = make_staff(Role.PHARMACIST, locations=[b])
    shift_a, shift_b = open_shift(seller_a, location=a), open_shift(seller_b, location=b)
    first = sell(shift_a, (taxed, 2), payments=[cash(22400, tendered=25000)])
    sell(shift_a, (blister, 3), payments=[card(12000)])
    line = first.lines.get()
    services.order_return(
        order=first,
        items=[services.ReturnItem(line_id=line.pk, quantity=1, resaleable=True)],
        reason="Wrong strength",
        shift=shift_a,
        user=seller_a,
    )
    sell(shift_b, (taxed, 1))
    return {"a": a, "b": b, "seller_a": seller_a, "seller_b": seller_b, "shift_a": shift_a, "taxed": taxed}


def test_the_sales_figures_come_from_the_orders_returns_and_lots_sold(known_sales):
    a, b = known_sales["a"], known_sales["b"]
    at_a = sales_profile(places={a.pk}).today
    assert (at_a.receipts, at_a.sales, at_a.returns, at_a.returned) == (2, Decimal("34400"), 1, Decimal("11200"))
    assert (at_a.revenue, at_a.average) == (Decimal("23200"), Decimal("17200"))
    assert (at_a.net_of_vat, at_a.cost, at_a.margin) == (Decimal("22000"), Decimal("9500"), Decimal("12500"))
    chain = sales_profile()
    assert [(line.name, line.recent.revenue, line.recent.margin) for line in chain.places] == [
        (a.name, Decimal("23200"), Decimal("12500")),
        (b.name, Decimal("11200"), Decimal("5000")),
    ]
    assert (chain.today.revenue, chain.today.margin, chain.today.receipts) == (Decimal("34400"), Decimal("17500"), 3)
    assert chain.recent == chain.today
    till = shift_sales(known_sales["shift_a"])
    assert (till.receipts, till.revenue) == (2, Decimal("23200"))


def test_a_sale_of_an_earlier_day_counts_in_the_last_30_days_but_not_today(places, make_staff):
    a, _b = places
    medicine = MedicineFactory(price=Decimal("1000"), vat_rate=Decimal("0"))
    receive(medicine, 10, price="400", location=a)
    seller = make_staff(Role.PHARMACIST, locations=[a])
    now = timezone.now()
    for days_ago, quantity in ((40, 1), (3, 2)):
        with time_machine.travel(now - datetime.timedelta(days=days_ago), tick=False):
            shift = open_shift(seller, location=a)
            sell(shift, (medicine, quantity))
            services.shift_close(shift=shift, user=seller, counted_cash=shift.opening_cash + quantity * 1000)
    profile = sales_profile()
    assert profile.today.receipts == 0
    assert (profile.recent.receipts, profile.recent.revenue, profile.recent.margin) == (
        1,
        Decimal("2000"),
        Decimal("1200"),
    )


def test_the_pharmacist_sees_today_s_sales_at_their_place_only(known_sales, login_staff, client):
    html = login_staff(known_sales["seller_a"]).get(INDEX).content.decode()
    assert figure(html, "pharmacist-sales-receipts")[1] == "2"
    assert figure(html, "pharmacist-sales-revenue")[1] == uzs(23200)
    assert figure(html, "pharmacist-sales-average")[1] == uzs(17200)
    assert figure(html, "pharmacist-sales-returns")[1] == "1"
    href = figure(html, "pharmacist-sales-receipts")[0]
    assert href.startswith(reverse("admin:orders_order_changelist"))

    client.logout()
    cache.clear()
    html = login_staff(known_sales["seller_b"]).get(INDEX).content.decode()
    assert figure(html, "pharmacist-sales-receipts")[1] == "1"
    assert figure(html, "pharmacist-sales-revenue")[1] == uzs(11200)
    assert figure(html, "pharmacist-sales-returns")[1] == "0"


def test_the_pharmacist_s_till_shows_their_open_shift_a_link_to_close_it_and_a_new_sale_button(
    known_sales, login_staff
):
    shift = known_sales["shift_a"]
    html = login_staff(known_sales["seller_a"]).get(INDEX).content.decode()
    assert {"pharmacist-till", "pharmacist-new-sale", "pharmacist-close-shift"} <= ids_on(html)
    assert f'href="{reverse("admin:orders_order_pos")}"' in html
    assert f'href="{reverse("admin:orders_shift_close", args=[shift.pk])}"' in html
    till = unescape(
        re.sub(r"<[^>]+>", " ", html.split('id="pharmacist-till"', 1)[1].split('id="dashboard-figures"')[0])
    )
    assert f"Shift #{shift.pk}" in till and "2 receipts so far" in till
    assert uzs(23200) in till


def test_a_pharmacist_without_an_open_shift_is_offered_to_open_one(places, make_staff, login_staff):
    user = make_staff(Role.PHARMACIST, locations=[places[0]])
    html = login_staff(user).get(INDEX).content.decode()
    assert "pharmacist-new-sale" in html and "pharmacist-close-shift" not in html
    assert f'href="{reverse("admin:orders_shift_open")}"' in html


def test_no_till_for_a_member_who_may_not_sell(places, make_staff, login_staff):
    from django.contrib.auth.models import Permission

    user = make_staff(Role.PHARMACIST, locations=[places[0]])
    # Selling is the role's to grant: a business that takes it from its pharmacists takes the till away too.
    user.groups.get(name__startswith="role:").permissions.remove(Permission.objects.get(codename="sell"))
    html = login_staff(user).get(INDEX).content.decode()
    assert 'data-dashboard="pharmacist"' in html
    assert "pharmacist-till" not in html and reverse("admin:orders_order_pos") not in html


def test_the_owner_sees_revenue_margin_and_sales_by_place(known_sales, staff_client):
    a, b = known_sales["a"], known_sales["b"]
    client = staff_client(Role.ADMIN)
    html = client.get(INDEX).content.decode()
    href, value = figure(html, "owner-sales-revenue-today")
    assert value == uzs(34400)
    # The figure links to today's completed sales.
    assert client.get(href).context["cl"].result_count == 3
    assert figure(html, "owner-sales-margin-today")[1] == uzs(17500)
    assert figure(html, "owner-sales-revenue-recent")[1] == uzs(34400)
    assert figure(html, "owner-sales-margin-recent")[1] == uzs(17500)
    rows = table_rows(html, "owner-sales-by-place")
    assert rows == [
        [a.name, "2", uzs(23200), uzs(12500), "2", uzs(23200), uzs(12500), uzs(17200)],
        [b.name, "1", uzs(11200), uzs(5000), "1", uzs(11200), uzs(5000), uzs(11200)],
        ["All places", "3", uzs(34400), uzs(17500), "3", uzs(34400), uzs(17500), uzs(15200)],
    ]
    data = json.loads(
        unescape(
            re.search(r'data-type="bar" data-value="([^"]+)"', html.split('id="owner-chart-sales-by-place"')[1]).group(
                1
            )
        )
    )
    assert data["labels"] == [a.name, b.name]
    assert [d["data"] for d in data["datasets"]] == [[23200.0, 11200.0], [12500.0, 5000.0]]
    assert data["datasets"][0]["displayYAxis"] is True


def test_the_owner_looking_at_one_place_sees_that_place_s_sales(known_sales, staff_client):
    b = known_sales["b"]
    html = staff_client(Role.ADMIN).get(INDEX, {"location": b.pk}).content.decode()
    assert figure(html, "owner-sales-revenue-today")[1] == uzs(11200)
    assert [row[0] for row in table_rows(html, "owner-sales-by-place")] == [b.name, b.name]


def _more_sales(n: int) -> None:
    """``n`` more places, each with a pharmacist, a shift and a few sales of several medicines."""
    from accounts.tests.factories import StaffFactory

    for _ in range(n):
        place = LocationFactory()
        medicines = [MedicineFactory(price=Decimal("5000")) for _ in range(3)]
        for medicine in medicines:
            receive(medicine, 20, location=place)
        seller = StaffFactory(role=Role.PHARMACIST, locations=[place])
        shift = open_shift(seller, location=place)
        for medicine in medicines:
            sell(shift, (medicine, 2))


@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.ADMIN])
def test_each_dashboard_runs_the_same_number_of_queries_with_more_sales_and_places(
    role, known_sales, login_staff, staff_client, django_assert_max_num_queries
):
    client = login_staff(known_sales["seller_a"]) if role == Role.PHARMACIST else staff_client(role)
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        assert client.get(INDEX).status_code == 200
    _more_sales(3)
    shift = known_sales["shift_a"]
    sell(shift, (known_sales["taxed"], 1))
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(INDEX).status_code == 200
