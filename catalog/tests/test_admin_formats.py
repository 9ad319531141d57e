"""One date format and one money format in every language: forms show and accept what lists show."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from catalog.admin.money import format_money_input, parse_money_input
from catalog.models import Lot, Medicine
from catalog.tests.factories import MedicineFactory, main_location, receive
from catalog.tests.test_admin_medicine import medicine_form_data

NBSP = "\u00a0"
LANGUAGES = ["uz", "ru", "en"]


def in_language(client, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("55000.00"), f"55{NBSP}000"),
        (Decimal("1250.5"), f"1{NBSP}250,50"),
        (Decimal("999"), "999"),
        (Decimal("0"), "0"),
        (None, ""),
    ],
)
def test_a_price_input_shows_the_amount_grouped_as_lists_do(amount, shown):
    assert format_money_input(amount) == shown


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("55 000", "55000"),
        (f"55{NBSP}000", "55000"),
        ("55\u202f000", "55000"),
        ("1 250,50", "1250.50"),
        ("1250.50", "1250.50"),
        ("55 000 so'm", "55000"),
        ("55 000 сум", "55000"),
    ],
)
def test_a_price_input_accepts_grouped_amounts_and_a_decimal_comma(typed, read):
    assert parse_money_input(typed) == read


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_medicine_page_shows_its_price_grouped_and_saves_a_grouped_price(staff_client, language):
    client = in_language(staff_client(Role.PHARMACIST), language)
    medicine = MedicineFactory(price=Decimal("55000.00"))
    url = reverse("admin:catalog_medicine_change", args=[medicine.pk])

    html = client.get(url).content.decode()
    assert input_value(html, "price") == f"55{NBSP}000"
    assert 'inputmode="decimal"' in re.search(r'<input[^>]*name="price"[^>]*>', html).group(0)

    data = medicine_form_data(medicine, price=f"56{NBSP}500,50", change_reason="Supplier price list 3")
    data["initial-price"] = input_value(html, "initial-price")
    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    medicine.refresh_from_db()
    assert medicine.price == Decimal("56500.50")


@pytest.mark.django_db
def test_a_price_with_foreign_grouping_is_refused_not_guessed(staff_client):
    client = in_language(staff_client(Role.PHARMACIST), "en")
    medicine = MedicineFactory(price=Decimal("55000.00"))
    url = reverse("admin:catalog_medicine_change", args=[medicine.pk])

    response = client.post(url, medicine_form_data(medicine, price="56,500.50", change_reason="Price list 3"))

    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    medicine.refresh_from_db()
    assert medicine.price == Decimal("55000.00")


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_lot_is_received_with_dates_and_price_typed_as_lists_show_them(staff_client, language):
    client = in_language(staff_client(Role.INVENTORY), language)
    medicine = MedicineFactory()

    response = client.post(
        reverse("admin:catalog_lot_add"),
        {
            "medicine": medicine.pk,
            "lot_number": "FMT-1",
            "expiry_date": "15.03.2027",
            "received_date": "01.12.2026",
            "location": main_location().pk,
            "packs": 4,
            "purchase_price": "8 500",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    lot = Lot.objects.get(lot_number="FMT-1")
    assert (lot.expiry_date, lot.received_date) == (datetime.date(2027, 3, 15), datetime.date(2026, 12, 1))
    assert lot.purchase_price == Decimal("8500")


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_lot_page_shows_dates_as_the_lot_list_does(staff_client, language):
    client = in_language(staff_client(Role.PHARMACIST), language)
    with time_machine.travel(datetime.datetime(2026, 12, 1, 23, 45, tzinfo=timezone.get_current_timezone())):
        lot = receive(MedicineFactory(), 5, price="55000")
    Lot.objects.filter(pk=lot.pk).update(expiry_date=datetime.date(2027, 3, 15))

    page = client.get(reverse("admin:catalog_lot_change", args=[lot.pk])).content.decode()
    listing = client.get(reverse("admin:catalog_lot_changelist")).content.decode()

    assert input_value(page, "expiry_date") == "15.03.2027"
    assert input_value(page, "purchase_price") == f"55{NBSP}000"
    assert "01.12.2026 23:45" in page  # created at, read-only
    assert "15.03.2027" in listing
    shown = re.sub(r'<input type="hidden"[^>]*>', "", page)  # hidden initial values are for the form only
    for other in ("2027-03-15", "March 15, 2027", "Dec. 1, 2026", "11:45 p.m.", "15-mart", "15 марта"):
        assert other not in shown and other not in listing


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_calendar_writes_dates_as_inputs_read_them(staff_client, language):
    # The calendar's "Today" and the picker fill the input with the first input format.
    catalog = in_language(staff_client(Role.PHARMACIST), language).get(reverse("admin:jsi18n")).content.decode()

    assert re.search(r'"DATE_INPUT_FORMATS": \[\s*"%d\.%m\.%Y"', catalog)
    assert '"THOUSAND_SEPARATOR": "\\u00a0"' in catalog


@pytest.mark.django_db
def test_medicines_keep_their_price_when_saved_unchanged_in_english(staff_client):
    client = in_language(staff_client(Role.PHARMACIST), "en")
    medicine = MedicineFactory(price=Decimal("18000.00"))
    url = reverse("admin:catalog_medicine_change", args=[medicine.pk])
    html = client.get(url).content.decode()
    data = medicine_form_data(medicine, price=input_value(html, "price"))
    data["initial-price"] = input_value(html, "initial-price")

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Medicine.objects.get(pk=medicine.pk).history.count() == medicine.history.count()
