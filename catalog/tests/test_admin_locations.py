"""Places in the admin: the administrator keeps them, staff read them, transit is the stock core's own."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from catalog.models import Location, LocationKind
from catalog.stock import transit_location
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import LocationFactory, MedicineFactory, receive

pytestmark = pytest.mark.django_db


def location_form(**values) -> dict:
    data = {
        "name": "Chilonzor",
        "code": "chilonzor",
        "kind": LocationKind.BRANCH,
        "is_active": "on",
        "is_public": "on",
        "address": "Bunyodkor ko'chasi 5",
        "region": "tashkent_city",
        "district": "Chilonzor",
        "latitude": "41.285000",
        "longitude": "69.203000",
        "phone": "+998712000001",
        "opening_hours": "Mon–Sat 08:00–22:00",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def test_the_administrator_opens_a_branch_with_its_address_coordinates_and_hours(staff_client):
    client = staff_client(Role.ADMIN)

    response = client.post(reverse("admin:catalog_location_add"), location_form())

    assert response.status_code == 302, response.content.decode()[:2000]
    branch = Location.objects.get(code="chilonzor")
    assert (branch.kind, str(branch.latitude), branch.opening_hours) == (
        LocationKind.BRANCH,
        "41.285000",
        "Mon–Sat 08:00–22:00",
    )
    assert branch.history.first().history_user == client.user


def test_the_place_form_never_offers_transit_nor_accepts_it(staff_client):
    client = staff_client(Role.ADMIN)
    html = client.get(reverse("admin:catalog_location_add")).content.decode()
    assert 'value="transit"' not in html
    assert 'value="warehouse"' in html

    response = client.post(reverse("admin:catalog_location_add"), location_form(kind=LocationKind.TRANSIT))

    assert response.status_code == 200
    assert not Location.objects.filter(code="chilonzor").exists()


def test_transit_is_listed_but_not_editable_or_removable_even_by_the_administrator(staff_client):
    client = staff_client(Role.ADMIN)
    transit = transit_location()

    assert transit.name in client.get(reverse("admin:catalog_location_changelist")).content.decode()
    response = client.post(
        reverse("admin:catalog_location_change", args=[transit.pk]), location_form(name="Renamed", code="transit")
    )
    assert response.status_code == 403
    assert client.post(reverse("admin:catalog_location_delete", args=[transit.pk]), {"post": "yes"}).status_code == 403
    transit.refresh_from_db()
    assert transit.name == "In transit"


@pytest.mark.parametrize("role", [Role.INVENTORY, Role.PHARMACIST, Role.OPERATOR])
def test_staff_read_the_places_but_do_not_change_them(staff_client, role):
    client = staff_client(role)
    branch = LocationFactory(name="Yunusobod")

    assert client.get(reverse("admin:catalog_location_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_location_change", args=[branch.pk])).status_code == 200
    response = client.post(
        reverse("admin:catalog_location_change", args=[branch.pk]), location_form(name="Mine", code=branch.code)
    )

    assert response.status_code == 403
    branch.refresh_from_db()
    assert branch.name == "Yunusobod"


def test_closing_a_place_that_still_holds_stock_is_refused_with_the_reason(staff_client):
    client = staff_client(Role.ADMIN)
    branch = LocationFactory(name="Sergeli", code="sergeli")
    receive(MedicineFactory(), 5, location=branch)

    response = client.post(
        reverse("admin:catalog_location_change", args=[branch.pk]),
        location_form(name="Sergeli", code="sergeli", is_active=None),
    )

    assert response.status_code == 200
    assert "Sergeli still holds stock" in response.content.decode()
    branch.refresh_from_db()
    assert branch.is_active


def test_an_empty_place_may_be_closed(staff_client):
    client = staff_client(Role.ADMIN)
    branch = LocationFactory(name="Sergeli", code="sergeli")

    response = client.post(
        reverse("admin:catalog_location_change", args=[branch.pk]),
        location_form(name="Sergeli", code="sergeli", is_active=None),
    )

    assert response.status_code == 302
    branch.refresh_from_db()
    assert not branch.is_active


def test_the_places_list_runs_the_same_queries_for_3_and_12_places(staff_client, make_staff):
    client = staff_client(Role.INVENTORY)
    for _ in range(3):
        make_staff(Role.PHARMACIST, locations=[LocationFactory()])
    with_three, _ = queries_for(client, reverse("admin:catalog_location_changelist"))

    for _ in range(9):
        make_staff(Role.PHARMACIST, locations=[LocationFactory()])
    with_twelve, response = queries_for(client, reverse("admin:catalog_location_changelist"))

    assert with_twelve == with_three
    assert len(response.context["cl"].result_list) >= 12
