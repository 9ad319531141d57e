"""Lots in the admin, place by place: what a member sees, and where their write-offs, counts and receipts happen."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from catalog.models import Lot, LotStock, MovementKind, StockMovement
from catalog.stock import stock_dispense, stock_return, stock_write_off
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import LocationFactory, MedicineFactory, days, main_location, receive

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:catalog_lot_changelist"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def places(db):
    """Two branches: the main pharmacy (where test staff work by default) and Yunusobod."""
    return main_location(), LocationFactory(name="Yunusobod", code="yunusobod")


@pytest.fixture
def blisters(db):
    """A box of two blisters, sold by the blister."""
    return MedicineFactory(name="Spazmalgon", parts_per_pack=2, part_name="blister")


def listed(response) -> set[str]:
    return {lot.lot_number for lot in response.context["cl"].result_list}


def test_the_lot_page_shows_its_stock_at_each_place_in_packs_and_parts(staff_client, places, blisters):
    main, yunusobod = places
    lot = receive(blisters, 7, lot_number="SPZ-1", location=main)
    receive(blisters, 4, lot_number="SPZ-1", location=yunusobod)
    client = staff_client(Role.OPERATOR)

    html = client.get(reverse("admin:catalog_lot_change", args=[lot.pk])).content.decode()

    assert "Main pharmacy" in html and "3 packs + 1 blister" in html
    assert "Yunusobod" in html and "2 packs" in html
    assert "5 packs + 1 blister" in html  # on hand in every place


def test_a_member_sees_the_lots_at_their_places_and_the_quantity_there(staff_client, places):
    main, yunusobod = places
    medicine = MedicineFactory()
    here = receive(medicine, 5, lot_number="HERE", location=main)
    receive(medicine, 9, lot_number="HERE", location=yunusobod)
    receive(medicine, 8, lot_number="THERE", location=yunusobod)
    client = staff_client(Role.PHARMACIST)

    response = client.get(reverse(CHANGELIST))

    assert listed(response) == {"HERE"}
    row = response.context["cl"].result_list[0]
    assert (row.pk, row.shown_quantity) == (here.pk, 5)
    assert "My locations" in response.content.decode()


def test_the_administrator_sees_every_place_and_may_pick_one(staff_client, places):
    main, yunusobod = places
    medicine = MedicineFactory()
    receive(medicine, 5, lot_number="HERE", location=main)
    receive(medicine, 8, lot_number="THERE", location=yunusobod)
    client = staff_client(Role.ADMIN)

    everywhere = client.get(reverse(CHANGELIST))
    at_yunusobod = client.get(reverse(CHANGELIST), {"location": yunusobod.pk})

    assert listed(everywhere) == {"HERE", "THERE"}
    assert "All locations" in everywhere.content.decode()
    assert listed(at_yunusobod) == {"THERE"}
    assert at_yunusobod.context["cl"].result_list[0].shown_quantity == 8


def test_a_member_who_picks_a_place_that_is_not_theirs_sees_nothing(staff_client, places):
    _main, yunusobod = places
    receive(MedicineFactory(), 8, lot_number="THERE", location=yunusobod)
    client = staff_client(Role.PHARMACIST)

    response = client.get(reverse(CHANGELIST), {"location": yunusobod.pk})

    assert listed(response) == set()


def test_empty_lists_the_lots_a_place_has_run_out_of(staff_client, places):
    main, _yunusobod = places
    medicine = MedicineFactory()
    gone = receive(medicine, 5, lot_number="GONE", location=main)
    receive(medicine, 5, lot_number="LEFT", location=main)
    stock_write_off(lot=gone, quantity=None, reason="Broken", location=main)
    client = staff_client(Role.INVENTORY)

    assert listed(client.get(reverse(CHANGELIST))) == {"LEFT"}
    assert listed(client.get(reverse(CHANGELIST), {"on_hand": "no"})) == {"GONE"}


@pytest.mark.parametrize("query", ["", "?on_hand=no", "?location={main}", "?o=5"])
def test_the_lots_list_at_places_keeps_a_constant_query_count(staff_client, places, query):
    main, yunusobod = places
    client = staff_client(Role.INVENTORY)
    url = reverse(CHANGELIST) + query.format(main=main.pk)

    def add(count):
        for _ in range(count):
            medicine = MedicineFactory()
            receive(medicine, 5, location=main)
            receive(medicine, 3, location=yunusobod)

    add(3)
    with_three, _ = queries_for(client, url)
    add(12)
    with_fifteen, _ = queries_for(client, url)

    assert with_fifteen == with_three


def test_a_write_off_asks_the_place_among_the_members_where_the_lot_has_stock(staff_client, places, make_staff):
    main, yunusobod = places
    elsewhere = LocationFactory(name="Sergeli")
    lot = receive(MedicineFactory(), 5, lot_number="L-1", location=main)
    receive(lot.medicine, 3, lot_number="L-1", location=yunusobod)
    receive(lot.medicine, 2, lot_number="L-1", location=elsewhere)
    client = staff_client(Role.INVENTORY, locations=[main, yunusobod])

    html = client.get(reverse("admin:catalog_lot_write_off_lot", args=[lot.pk])).content.decode()

    assert "Main pharmacy · 5 packs" in html
    assert "Yunusobod · 3 packs" in html
    assert "Sergeli" not in html

    response = client.post(
        reverse("admin:catalog_lot_write_off_lot", args=[lot.pk]),
        {"location": yunusobod.pk, "packs": 1, "reason": "Crushed box"},
    )

    assert response.status_code == 302
    movement = StockMovement.objects.get(kind=MovementKind.WRITE_OFF)
    assert (movement.location, movement.quantity, movement.balance_after) == (yunusobod, -1, 2)
    assert LotStock.objects.get(lot=lot, location=main).quantity == 5


def test_a_member_of_one_branch_cannot_write_off_stock_at_another_through_the_admin(staff_client, places):
    main, yunusobod = places
    lot = receive(MedicineFactory(), 5, lot_number="L-1", location=main)
    receive(lot.medicine, 3, lot_number="L-1", location=yunusobod)
    client = staff_client(Role.INVENTORY)  # works at the main pharmacy only
    before = list(LotStock.objects.order_by("pk").values_list("quantity", flat=True))

    page = client.post(
        reverse("admin:catalog_lot_write_off_lot", args=[lot.pk]),
        {"location": yunusobod.pk, "packs": 1, "reason": "Crushed box"},
    )
    bulk = client.post(
        reverse(CHANGELIST),
        {"action": "write_off_selected", "_selected_action": [lot.pk], "apply": "yes", "reason": "Flood",
         "location": yunusobod.pk},
    )  # fmt: skip

    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert bulk.status_code == 200
    assert "Select a valid choice" in bulk.content.decode()
    assert list(LotStock.objects.order_by("pk").values_list("quantity", flat=True)) == before
    assert not StockMovement.objects.filter(kind=MovementKind.WRITE_OFF).exists()


def test_a_lot_only_at_another_branch_offers_no_write_off_and_says_why(staff_client, places):
    _main, yunusobod = places
    lot = receive(MedicineFactory(), 3, lot_number="L-2", location=yunusobod)
    client = staff_client(Role.INVENTORY)
    url = reverse("admin:catalog_lot_write_off_lot", args=[lot.pk])

    page = client.get(reverse("admin:catalog_lot_change", args=[lot.pk])).content.decode()
    response = client.post(url, {"location": yunusobod.pk, "packs": 1, "reason": "Crushed"}, follow=True)

    assert url not in page
    assert "This lot has no stock at your locations." in messages_of(response)
    lot.refresh_from_db()
    assert lot.quantity == 3


def test_a_write_off_of_a_divisible_medicine_takes_packs_and_loose_parts(staff_client, places, blisters):
    main, _ = places
    lot = receive(blisters, 9, location=main)  # 4 boxes and a loose blister
    client = staff_client(Role.INVENTORY)

    response = client.post(
        reverse("admin:catalog_lot_write_off_lot", args=[lot.pk]),
        {"location": main.pk, "packs": 1, "parts": 1, "reason": "Torn"},
    )

    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.quantity == 6


def test_loose_parts_of_a_medicine_sold_by_the_pack_are_refused_at_receipt(staff_client, places):
    main, _ = places
    medicine = MedicineFactory(name="Aspirin")
    client = staff_client(Role.INVENTORY)
    data = {
        "medicine": medicine.pk,
        "lot_number": "ASP-1",
        "expiry_date": days(300).isoformat(),
        "received_date": days(0).isoformat(),
        "location": main.pk,
        "packs": 10,
        "parts": 1,
        "purchase_price": "8000",
    }

    response = client.post(reverse("admin:catalog_lot_add"), data)

    assert response.status_code == 200
    assert "Aspirin is sold by the whole pack: leave the parts empty." in response.content.decode()
    assert not Lot.objects.filter(lot_number="ASP-1").exists()


def test_a_lot_of_a_medicine_sold_by_the_pack_is_counted_in_packs_only(staff_client, places):
    lot = receive(MedicineFactory(), 9, location=places[0])
    client = staff_client(Role.INVENTORY)

    html = client.get(reverse("admin:catalog_lot_count_lot", args=[lot.pk])).content.decode()

    assert 'name="packs"' in html
    assert 'name="parts"' not in html


def test_a_count_at_a_place_sets_the_stock_there_through_one_adjustment(staff_client, places, blisters):
    main, yunusobod = places
    lot = receive(blisters, 10, lot_number="C-1", location=main)
    receive(blisters, 6, lot_number="C-1", location=yunusobod)
    client = staff_client(Role.INVENTORY, locations=[main, yunusobod])
    url = reverse("admin:catalog_lot_count_lot", args=[lot.pk])

    response = client.post(url, {"location": main.pk, "packs": 3, "parts": 1, "reason": "Monthly count"})
    again = client.post(url, {"location": main.pk, "packs": 3, "parts": 1}, follow=True)

    assert response.status_code == 302
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.location, adjustment.quantity, adjustment.balance_after, adjustment.reason) == (
        main,
        -3,
        7,
        "Monthly count",
    )
    assert any("matches the books" in m for m in messages_of(again))
    assert LotStock.objects.get(lot=lot, location=yunusobod).quantity == 6


def test_only_inventory_staff_count_lots(staff_client, places):
    lot = receive(MedicineFactory(), 5, location=places[0])
    client = staff_client(Role.PHARMACIST)

    assert client.get(reverse("admin:catalog_lot_count_lot", args=[lot.pk])).status_code == 403


def test_a_receipt_goes_to_the_place_the_member_picks_among_theirs(staff_client, places, blisters):
    main, yunusobod = places
    client = staff_client(Role.INVENTORY, locations=[main, yunusobod])
    data = {
        "medicine": blisters.pk,
        "lot_number": "NEW-1",
        "expiry_date": days(300).isoformat(),
        "received_date": days(0).isoformat(),
        "location": yunusobod.pk,
        "packs": 10,
        "parts": 1,
        "purchase_price": "8000",
    }

    response = client.post(reverse("admin:catalog_lot_add"), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    lot = Lot.objects.get(lot_number="NEW-1")
    assert lot.quantity == 21
    assert LotStock.objects.get(lot=lot).location == yunusobod


def test_a_receipt_at_a_place_that_is_not_the_members_is_refused(staff_client, places):
    _main, yunusobod = places
    client = staff_client(Role.INVENTORY)
    data = {
        "medicine": MedicineFactory().pk,
        "lot_number": "NEW-2",
        "expiry_date": days(300).isoformat(),
        "received_date": days(0).isoformat(),
        "location": yunusobod.pk,
        "packs": 10,
        "purchase_price": "8000",
    }

    response = client.post(reverse("admin:catalog_lot_add"), data)

    assert response.status_code == 200
    assert not Lot.objects.filter(lot_number="NEW-2").exists()


def test_a_bulk_write_off_empties_the_selected_lots_at_the_chosen_place_only(staff_client, places):
    main, yunusobod = places
    medicine = MedicineFactory()
    both = receive(medicine, 5, lot_number="BOTH", location=main)
    receive(medicine, 4, lot_number="BOTH", location=yunusobod)
    away = receive(medicine, 6, lot_number="AWAY", location=yunusobod)
    client = staff_client(Role.INVENTORY, locations=[main, yunusobod])

    response = client.post(
        reverse(CHANGELIST),
        {"action": "write_off_selected", "_selected_action": [both.pk, away.pk], "apply": "yes",
         "reason": "Flood in the store room", "location": main.pk},
        follow=True,
    )  # fmt: skip

    assert LotStock.objects.get(lot=both, location=main).quantity == 0
    assert LotStock.objects.get(lot=both, location=yunusobod).quantity == 4
    assert LotStock.objects.get(lot=away, location=yunusobod).quantity == 6
    assert any("No stock at Main pharmacy: AWAY" in m for m in messages_of(response))


def test_the_stock_ledger_names_each_movements_place_and_filters_by_it(staff_client, places, blisters):
    main, yunusobod = places
    receive(blisters, 5, lot_number="AT-MAIN", location=main)
    receive(blisters, 3, lot_number="AT-YUNUSOBOD", location=yunusobod)
    client = staff_client(Role.OPERATOR)
    url = reverse("admin:catalog_stockmovement_changelist")

    everywhere = client.get(url)
    at_yunusobod = client.get(url, {"location__id__exact": yunusobod.pk})

    html = everywhere.content.decode()
    assert "Yunusobod" in html and "Main pharmacy" in html
    assert "+5 (2 packs + 1 blister)" in html
    assert [m.lot.lot_number for m in at_yunusobod.context["cl"].result_list] == ["AT-YUNUSOBOD"]


def test_units_set_aside_in_a_places_quarantine_are_written_off_from_the_lot_page_by_its_staff(staff_client, places):
    main, yunusobod = places
    lot = receive(MedicineFactory(), 5, lot_number="L-Q", location=main)
    stock_dispense(medicine=lot.medicine, quantity=2, location=main)
    stock_return(lot=lot, quantity=1, location=main, quarantine=True, reason="Box crushed")
    quarantine = main.quarantine
    url = reverse("admin:catalog_lot_write_off_lot", args=[lot.pk])
    other = staff_client(Role.INVENTORY, locations=[yunusobod])

    refused = other.post(url, {"location": quarantine.pk, "packs": 1, "reason": "Destroyed"})
    assert messages_of(refused) == ["This lot has no stock at your locations."]
    assert LotStock.objects.get(lot=lot, location=quarantine).quantity == 1

    own = staff_client(Role.INVENTORY, locations=[main])
    assert "Main pharmacy · quarantine · 1 pack" in own.get(url).content.decode()
    response = own.post(url, {"location": quarantine.pk, "packs": 1, "reason": "Destroyed"})

    assert response.status_code == 302
    movement = StockMovement.objects.get(kind=MovementKind.WRITE_OFF)
    assert (movement.location, movement.quantity, movement.balance_after) == (quarantine, -1, 0)
    assert LotStock.objects.get(lot=lot, location=main).quantity == 3


def test_every_input_of_the_lot_add_form_is_styled_as_the_admin_s_the_note_too(staff_client, places):
    import re

    html = staff_client(Role.INVENTORY).get(reverse("admin:catalog_lot_add")).content.decode()
    form = html.split('id="lot_form"', 1)[1].split("</form>", 1)[0]

    inputs = re.findall(r"<(?:input|select|textarea)\b[^>]*>", form)
    shown = [tag for tag in inputs if not re.search(r'type="(?:hidden|checkbox|submit)"', tag)]
    assert any('name="reason"' in tag for tag in shown)  # the "Note"
    # The medicine's autocomplete is drawn by select2 in Unfold's theme; every other field carries Unfold's classes.
    unstyled = [tag for tag in shown if "border-base-200" not in tag and "admin-autocomplete" not in tag]
    assert unstyled == []
