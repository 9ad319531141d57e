"""The shift's pages in the admin: open with the opening cash, close with the count, print the Z-report."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from orders import services
from orders.models import Shift, ShiftState
from orders.tests.factories import card, open_shift, sell

pytestmark = pytest.mark.django_db

OPEN = reverse("admin:orders_shift_open")
TILL = reverse("admin:orders_order_pos")


def close_url(shift) -> str:
    return reverse("admin:orders_shift_close", args=[shift.pk])


def zreport_url(shift) -> str:
    return reverse("admin:orders_shift_zreport", args=[shift.pk])


def test_a_pharmacist_opens_a_shift_at_a_place_they_work_at_and_lands_at_the_till(staff_client):
    elsewhere = LocationFactory(name="Yunusobod branch")
    client = staff_client(Role.PHARMACIST)

    page = client.get(OPEN)
    assert page.status_code == 200
    html = page.content.decode()
    assert main_location().name in html
    assert elsewhere.name not in html

    response = client.post(OPEN, {"location": main_location().pk, "opening_cash": "150000"})

    assert response.status_code == 302
    assert response["Location"] == TILL
    shift = Shift.objects.get(cashier=client.user)
    assert (shift.state, shift.location, shift.opening_cash) == (ShiftState.OPEN, main_location(), Decimal("150000"))


def test_bad_opening_cash_or_a_foreign_place_opens_nothing(staff_client):
    elsewhere = LocationFactory()
    client = staff_client(Role.PHARMACIST)

    assert client.post(OPEN, {"location": main_location().pk, "opening_cash": "-5"}).status_code == 200
    assert client.post(OPEN, {"location": main_location().pk, "opening_cash": "1.005"}).status_code == 200
    assert client.post(OPEN, {"location": elsewhere.pk, "opening_cash": "100"}).status_code == 200
    assert not Shift.objects.exists()


def test_a_second_shift_is_not_offered_while_one_is_open(staff_client):
    client = staff_client(Role.PHARMACIST)
    open_shift(client.user)

    response = client.get(OPEN, follow=False)

    assert response.status_code == 302
    assert response["Location"] == TILL
    client.post(OPEN, {"location": main_location().pk, "opening_cash": "1"})
    assert Shift.objects.filter(cashier=client.user).count() == 1


def test_an_operator_may_not_open_a_shift(staff_client):
    client = staff_client(Role.OPERATOR)
    assert client.get(OPEN).status_code == 403
    assert client.post(OPEN, {"location": main_location().pk, "opening_cash": "1"}).status_code == 403
    assert not Shift.objects.exists()


def _day_of_sales(shift):
    medicine = MedicineFactory(price=Decimal("10000"))
    exempt = MedicineFactory(price=Decimal("5000"), vat_rate=Decimal("0"))
    receive(medicine, 20)
    receive(exempt, 20)
    first = sell(shift, (medicine, 2))  # 20000 cash
    sell(shift, (medicine, 1), (exempt, 1), payments=[card("15000")])
    services.order_return(
        order=first,
        items=[services.ReturnItem(line_id=first.lines.get().pk, quantity=1, resaleable=True)],
        reason="Wrong strength",
        shift=shift,
        user=shift.cashier,
    )  # 10000 cash back


def test_closing_shows_the_expected_cash_records_the_difference_and_shows_the_z_report(staff_client):
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user, opening_cash="100000")
    _day_of_sales(shift)

    page = client.get(close_url(shift))
    assert page.status_code == 200
    # 100 000 opening + 20 000 cash sales − 10 000 cash back.
    assert "110" in page.content.decode().split('id="shift-expected-cash"')[1][:60]

    response = client.post(close_url(shift), {"counted_cash": "109500"})

    assert response.status_code == 302
    assert response["Location"] == zreport_url(shift)
    shift.refresh_from_db()
    assert shift.state == ShiftState.CLOSED
    assert (shift.expected_cash, shift.counted_cash, shift.cash_difference) == (
        Decimal("110000"),
        Decimal("109500"),
        Decimal("-500"),
    )
    assert client.get(close_url(shift))["Location"] == zreport_url(shift)


def test_another_cashiers_shift_is_closed_only_by_who_may_close_any(staff_client, make_staff, login_staff, client):
    shift = open_shift()
    pharmacist = staff_client(Role.PHARMACIST)
    assert pharmacist.get(close_url(shift)).status_code == 403
    assert pharmacist.post(close_url(shift), {"counted_cash": "100000"}).status_code == 403
    shift.refresh_from_db()
    assert shift.is_open

    client.logout()
    login_staff(make_staff(Role.ADMIN))
    assert client.post(close_url(shift), {"counted_cash": "100000"}).status_code == 302
    shift.refresh_from_db()
    assert shift.state == ShiftState.CLOSED
    assert shift.closed_by.role == Role.ADMIN


def test_the_z_report_prints_what_the_shift_kept_on_an_80_mm_page(
    staff_client, settings, django_assert_max_num_queries
):
    settings.PHARMACY_NAME = "Dorixona No. 1"
    settings.PHARMACY_STIR = "301234567"
    client = staff_client(Role.PHARMACIST)
    shift = open_shift(client.user, opening_cash="100000")
    _day_of_sales(shift)
    services.shift_close(shift=shift, user=client.user, counted_cash=Decimal("110000"))

    with django_assert_max_num_queries(12):
        response = client.get(zreport_url(shift))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Dorixona No. 1" in html and "301234567" in html
    assert "size: 80mm" in html
    assert "<script>" not in html and "onclick" not in html
    assert "orders/js/zreport.js" in html
    assert 'id="zreport-print"' in html
    for figure in ("z-sales", "z-returns", "z-expected", "z-counted", "z-difference", "z-vat"):
        assert f'id="{figure}"' in html
    sales = html.split('id="z-sales">')[1].split("<")[0]
    assert sales.replace("\xa0", " ").startswith("35")  # 20 000 + 15 000
    assert "12 percent" in html and "0 percent" in html


def test_the_z_report_is_for_who_may_view_the_shift_at_its_place(staff_client, make_staff, login_staff, client):
    shift = open_shift()
    elsewhere = LocationFactory()
    client.logout()
    login_staff(make_staff(Role.PHARMACIST, locations=[elsewhere]))
    assert client.get(zreport_url(shift)).status_code == 403

    client.logout()
    login_staff(make_staff(Role.INVENTORY))
    response = client.get(zreport_url(shift))
    assert response.status_code == 200
    assert "Interim" in response.content.decode()
