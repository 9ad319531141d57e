"""Medicines in the admin, place by place: stock per place, the reorder level there, and selling by the part."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from catalog import services
from catalog.exceptions import LocationForbidden
from catalog.models import Medicine, MedicineStock
from catalog.stock import stock_dispense
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from catalog.tests.test_admin_medicine import medicine_form_data

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:catalog_medicine_changelist"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def places(db):
    return main_location(), LocationFactory(name="Yunusobod", code="yunusobod")


def names(response) -> list[str]:
    return [medicine.name for medicine in response.context["cl"].result_list]


# --- the list -------------------------------------------------------------------------------
def test_the_list_shows_the_chosen_places_stock_and_keeps_every_medicine(staff_client, places):
    main, yunusobod = places
    both = MedicineFactory(name="Both", reorder_level=2)
    receive(both, 5, location=main)
    receive(both, 1, location=yunusobod)
    only_main = MedicineFactory(name="Only main")
    receive(only_main, 7, location=main)
    client = staff_client(Role.ADMIN)

    response = client.get(reverse(CHANGELIST), {"location": yunusobod.pk})

    rows = {m.name: m for m in response.context["cl"].result_list}
    assert (rows["Both"].place_sellable, rows["Only main"].place_sellable) == (1, 0)
    html = response.content.decode()
    assert "Low: 1 pack" in html
    assert "sellable stock here" in html.lower()


def test_the_stock_filter_reads_the_chosen_places_reorder_level(staff_client, places):
    main, yunusobod = places
    medicine = MedicineFactory(name="Levelled", reorder_level=2)
    receive(medicine, 5, location=main)
    receive(medicine, 5, location=yunusobod)
    services.medicine_reorder_level_set(medicine=medicine, location=yunusobod, level=10)
    client = staff_client(Role.ADMIN)

    low_chain = client.get(reverse(CHANGELIST), {"stock": "low"})
    low_here = client.get(reverse(CHANGELIST), {"stock": "low", "location": yunusobod.pk})
    low_main = client.get(reverse(CHANGELIST), {"stock": "low", "location": main.pk})

    assert names(low_chain) == []
    assert names(low_here) == ["Levelled"]
    assert names(low_main) == []


def test_a_member_picking_a_place_that_is_not_theirs_sees_no_medicine(staff_client, places):
    _main, yunusobod = places
    receive(MedicineFactory(name="Elsewhere"), 5, location=yunusobod)
    client = staff_client(Role.OPERATOR)

    response = client.get(reverse(CHANGELIST), {"location": yunusobod.pk})

    assert names(response) == []


@pytest.mark.parametrize("query", ["", "?stock=low", "?expiry=30", "?expiry=expired", "?o=5"])
def test_the_list_at_a_place_keeps_a_constant_query_count(staff_client, places, query):
    main, yunusobod = places
    client = staff_client(Role.ADMIN)
    separator = "&" if query else "?"
    url = reverse(CHANGELIST) + query + f"{separator}location={yunusobod.pk}"

    def add(count):
        for i in range(count):
            medicine = MedicineFactory(reorder_level=10, parts_per_pack=2 if i % 2 else 1)
            receive(medicine, 5, location=main, expires_in_days=20)
            receive(medicine, 3, location=yunusobod, expires_in_days=25)

    add(3)
    with_three, _ = queries_for(client, url)
    add(12)
    with_fifteen, response = queries_for(client, url)

    assert with_fifteen == with_three


# --- a medicine's page -------------------------------------------------------------------------
def test_the_medicine_page_shows_its_stock_at_each_place_in_packs_and_parts(staff_client, places):
    main, yunusobod = places
    medicine = MedicineFactory(parts_per_pack=2, part_name="blister", reorder_level=4)
    receive(medicine, 7, location=main)
    receive(medicine, 2, location=yunusobod)
    services.medicine_reorder_level_set(medicine=medicine, location=yunusobod, level=6)
    client = staff_client(Role.PHARMACIST)

    html = client.get(reverse("admin:catalog_medicine_change", args=[medicine.pk])).content.decode()

    assert "Stock by location" in html
    assert "3 packs + 1 blister" in html
    assert "4 (the medicine's)" in html
    set_here = reverse("admin:catalog_medicine_reorder_levels", args=[medicine.pk]) + f"?location={main.pk}"
    set_there = reverse("admin:catalog_medicine_reorder_levels", args=[medicine.pk]) + f"?location={yunusobod.pk}"
    assert set_here in html
    assert set_there not in html  # not the pharmacist's place


def test_a_pharmacist_sets_the_reorder_level_at_their_place(staff_client, places):
    main, _ = places
    medicine = MedicineFactory(reorder_level=4)
    client = staff_client(Role.PHARMACIST)
    url = reverse("admin:catalog_medicine_reorder_levels", args=[medicine.pk])

    response = client.post(url, {"location": main.pk, "level": 12}, follow=True)

    assert MedicineStock.objects.get(medicine=medicine, location=main).reorder_level == 12
    assert any("Reorder level of" in m and "12" in m for m in messages_of(response))

    client.post(url, {"location": main.pk, "level": ""})

    assert MedicineStock.objects.get(medicine=medicine, location=main).reorder_level is None


def test_a_reorder_level_at_a_place_that_is_not_the_members_is_refused(staff_client, places):
    _main, yunusobod = places
    medicine = MedicineFactory()
    client = staff_client(Role.PHARMACIST)

    response = client.post(
        reverse("admin:catalog_medicine_reorder_levels", args=[medicine.pk]), {"location": yunusobod.pk, "level": 3}
    )

    assert response.status_code == 200
    assert not MedicineStock.objects.filter(medicine=medicine).exists()
    with pytest.raises(LocationForbidden):
        services.medicine_reorder_level_set(medicine=medicine, location=yunusobod, level=3, user=client.user)


def test_only_who_may_change_medicines_sets_reorder_levels(staff_client, places):
    medicine = MedicineFactory()
    client = staff_client(Role.INVENTORY)

    assert client.get(reverse("admin:catalog_medicine_reorder_levels", args=[medicine.pk])).status_code == 403


def test_the_stock_cores_refresh_keeps_a_reorder_level_set_by_hand(places):
    main, _ = places
    medicine = MedicineFactory()
    services.medicine_reorder_level_set(medicine=medicine, location=main, level=9)

    receive(medicine, 5, location=main)
    stock_dispense(medicine=medicine, quantity=2, location=main)

    row = MedicineStock.objects.get(medicine=medicine, location=main)
    assert (row.sellable_quantity, row.reorder_level) == (3, 9)


# --- sold by the part ---------------------------------------------------------------------------
def test_a_medicine_becomes_sold_by_the_part_before_it_has_stock(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory()

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        medicine_form_data(medicine, parts_per_pack=2, part_name="blister", part_price="6000"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    medicine.refresh_from_db()
    assert (medicine.parts_per_pack, medicine.part_name, str(medicine.part_price)) == (2, "blister", "6000.00")


def test_parts_per_pack_cannot_change_once_there_are_movements_and_the_page_says_why(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory()
    receive(medicine, 5)

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        medicine_form_data(medicine, parts_per_pack=2, part_name="blister"),
    )

    assert response.status_code == 200
    assert "The number of parts per pack cannot change once the medicine has stock movements" in (
        response.content.decode()
    )
    medicine.refresh_from_db()
    assert (medicine.parts_per_pack, medicine.part_name) == (1, "")


def test_a_refusal_met_while_saving_is_shown_and_changes_nothing(staff_client, monkeypatch):
    """A stock movement arriving between the form's check and the write: the service refuses, nothing is saved."""
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price="5000")
    from catalog.admin import forms as admin_forms

    monkeypatch.setattr(admin_forms, "check_parts_per_pack_change", lambda **kwargs: None)
    receive(medicine, 5)

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        medicine_form_data(medicine, parts_per_pack=2, price="6000", change_reason="New supplier price"),
        follow=True,
    )

    assert any("parts per pack cannot change" in m for m in messages_of(response))
    medicine.refresh_from_db()
    assert (medicine.parts_per_pack, medicine.price) == (1, 5000)
    assert Medicine.history.filter(id=medicine.pk).count() == 1
