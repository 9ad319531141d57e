"""Staff and their places in the users admin: who works where."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from accounts.tests.factories import CustomerFactory, StaffFactory
from catalog.stock import transit_location
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import LocationFactory, main_location

pytestmark = pytest.mark.django_db


def user_form(user, **changes) -> dict:
    data = {
        "phone": user.phone,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": "",
        "address": "",
        "role": user.role,
        "is_active": "on",
        "locations": [place.pk for place in user.locations.all()],
    }
    data.update(changes)
    return data


def test_the_administrator_puts_a_pharmacist_to_work_at_two_branches(staff_client):
    client = staff_client(Role.ADMIN)
    yunusobod = LocationFactory(name="Yunusobod")
    member = StaffFactory(role=Role.PHARMACIST)

    response = client.post(
        reverse("admin:accounts_user_change", args=[member.pk]),
        user_form(member, locations=[main_location().pk, yunusobod.pk]),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(member.locations.values_list("name", flat=True)) == {"Main pharmacy", "Yunusobod"}


def test_the_places_offered_are_branches_and_warehouses_never_transit(staff_client):
    client = staff_client(Role.ADMIN)
    transit = transit_location()
    warehouse = LocationFactory(name="Central warehouse", kind="warehouse")
    member = StaffFactory(role=Role.INVENTORY)

    html = client.get(reverse("admin:accounts_user_change", args=[member.pk])).content.decode()

    assert f'name="locations" value="{warehouse.pk}"' in html
    assert f'name="locations" value="{transit.pk}"' not in html


def test_a_new_staff_member_is_given_their_places_at_once(staff_client):
    client = staff_client(Role.ADMIN)
    yunusobod = LocationFactory(name="Yunusobod")

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "phone": "+998901234567",
            "first_name": "Dilnoza",
            "last_name": "Karimova",
            "role": Role.PHARMACIST,
            "locations": [yunusobod.pk],
            "password1": "Long-enough-pass-77",
            "password2": "Long-enough-pass-77",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(User.objects.get(phone="+998901234567").locations.values_list("name", flat=True)) == ["Yunusobod"]


def test_a_customer_works_nowhere(staff_client):
    client = staff_client(Role.ADMIN)
    customer = CustomerFactory()

    response = client.post(
        reverse("admin:accounts_user_change", args=[customer.pk]), user_form(customer, locations=[main_location().pk])
    )

    assert response.status_code == 200
    assert "Only staff work at a location." in response.content.decode()
    assert not customer.locations.exists()


def test_the_users_list_shows_where_each_works_in_a_constant_number_of_queries(staff_client):
    client = staff_client(Role.ADMIN)
    url = reverse("admin:accounts_user_changelist")
    for _ in range(3):
        StaffFactory(locations=[main_location(), LocationFactory()])
    with_three, _ = queries_for(client, url)

    for _ in range(9):
        StaffFactory(locations=[LocationFactory()])
    with_twelve, response = queries_for(client, url)

    assert with_twelve == with_three
    html = response.content.decode()
    assert "Main pharmacy" in html
    assert "Every location" in html  # the administrator
