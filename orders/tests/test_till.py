"""The till: what a scan finds at the shift's place, and completing the sale from the till's JSON."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from catalog.models import Lot, LotStock, Medicine, StockMovement, gtin_check_digit
from catalog.stock import lot_quarantine
from catalog.tests.factories import ActiveSubstanceFactory, LocationFactory, MedicineFactory, medicine_with, receive
from orders.models import LineLot, Order
from orders.selectors_till import controlled_confirmers
from orders.tests.factories import open_shift
from payments.models import Payment

pytestmark = pytest.mark.django_db

SCAN = "admin:orders_order_pos_scan"
COMPLETE = "admin:orders_order_pos_complete"
POS = "admin:orders_order_pos"

GTIN13 = "4601234567893"
GTIN14 = "0" + GTIN13
SERIAL = "ABC1234567890"


@pytest.fixture
def till(staff_client):
    """A pharmacist logged in to the admin with an open shift at the main location."""
    client = staff_client(Role.PHARMACIST)
    client.shift = open_shift(client.user)
    return client


def scan(client, query: str) -> dict:
    response = client.get(reverse(SCAN), {"q": query})
    assert response.status_code == 200, response.content
    return response.json()


def complete(client, body: dict, **headers):
    return client.post(reverse(COMPLETE), data=json.dumps(body), content_type="application/json", **headers)


# --- the page ---------------------------------------------------------------------------------


def test_the_till_page_has_the_scan_box_with_focus_and_the_shifts_place(till):
    response = till.get(reverse(POS))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="till-scan"' in html and "autofocus" in html
    assert till.shift.location.name in html
    assert "orders/js/till.js" in html


def test_without_an_open_shift_the_till_sends_to_opening_one(staff_client):
    client = staff_client(Role.PHARMACIST)
    response = client.get(reverse(POS))
    assert response.status_code == 200
    assert 'id="till-no-shift"' in response.content.decode()
    assert reverse("admin:orders_shift_open") in response.content.decode()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.INVENTORY])
def test_a_member_who_may_not_sell_is_refused_every_till_url(staff_client, role):
    client = staff_client(role)
    assert client.get(reverse(POS)).status_code == 403
    assert client.get(reverse(SCAN), {"q": "x"}).status_code == 403
    assert complete(client, {"lines": [], "payments": []}).status_code == 403


# --- scanning -------------------------------------------------------------------------------


@pytest.fixture
def boxed():
    """A medicine whose pack carries EAN-13 4601234567893, with two lots at the main location."""
    medicine = MedicineFactory(name="Citramon P", barcode=GTIN13, price=Decimal("12000"))
    later = receive(medicine, 5, expires_in_days=300, lot_number="LATE1")
    sooner = receive(medicine, 2, expires_in_days=100, lot_number="SOON1")
    return medicine, sooner, later


def _the_one_hit(data, medicine):
    assert [hit["medicine_id"] for hit in data["hits"]] == [medicine.pk]
    return data["hits"][0]


def test_an_ean13_finds_the_medicine_with_its_price_stock_here_and_fefo_lot(till, boxed):
    medicine, sooner, _later = boxed
    data = scan(till, GTIN13)
    assert data["kind"] == "code"
    hit = _the_one_hit(data, medicine)
    assert hit["price"] == "12000.00"
    assert hit["vat_rate"] == "12"
    assert hit["stock"] == 7
    assert hit["fefo_lot"]["number"] == sooner.lot_number
    assert hit["fefo_lot"]["expiry_date"] == sooner.expiry_date.isoformat()
    assert hit["alternatives"] == []


def test_a_gtin14_with_its_leading_zero_finds_the_ean13_medicine(till, boxed):
    _the_one_hit(scan(till, GTIN14), boxed[0])


@pytest.mark.parametrize(
    "raw",
    [
        f"]d201{GTIN14}21{SERIAL}\x1d91EE07\x1d92" + "a" * 44,
        f"01{GTIN14}21{SERIAL}\x1d91EE07\x1d92" + "a" * 44,
    ],
)
def test_a_marking_datamatrix_finds_the_medicine_and_keeps_the_serial(till, boxed, raw):
    data = scan(till, raw)
    _the_one_hit(data, boxed[0])
    assert data["code"]["serial"] == SERIAL


def test_a_code_with_a_batch_says_whether_that_lot_is_the_one_taken(till, boxed):
    medicine, sooner, later = boxed
    data = scan(till, f"(01){GTIN14}(10){later.lot_number}(17){later.expiry_date:%y%m%d}")
    hit = _the_one_hit(data, medicine)
    assert data["code"]["lot_number"] == later.lot_number
    assert hit["scanned_lot"]["number"] == later.lot_number
    assert hit["scanned_lot"]["sellable_here"] is True
    assert hit["scanned_lot"]["is_fefo"] is False
    assert hit["fefo_lot"]["number"] == sooner.lot_number


def test_a_scanned_pack_from_a_quarantined_lot_is_flagged(till, boxed):
    medicine, sooner, _later = boxed
    lot_quarantine(lot=Lot.objects.get(pk=sooner.pk), reason="Recall notice")
    hit = _the_one_hit(scan(till, f"]C101{GTIN14}10{sooner.lot_number}\x1d17{sooner.expiry_date:%y%m%d}"), medicine)
    assert hit["scanned_lot"]["status"] == "quarantined"
    assert hit["scanned_lot"]["sellable_here"] is False
    assert hit["fefo_lot"]["number"] == "LATE1"
    assert hit["stock"] == 5


def test_an_unknown_code_finds_nothing_and_is_not_an_error(till, boxed):
    unknown = "590123412345" + gtin_check_digit("590123412345")
    data = scan(till, unknown)
    assert data["kind"] == "code"
    assert data["hits"] == []


def test_a_name_is_searched_and_a_sku_found_exactly(till, boxed):
    medicine = boxed[0]
    assert scan(till, "citramon")["kind"] == "text"
    _the_one_hit(scan(till, "citramon"), medicine)
    _the_one_hit(scan(till, medicine.sku), medicine)


def test_stock_at_another_place_is_not_stock_here(till):
    medicine = MedicineFactory(barcode=GTIN13)
    receive(medicine, 9, location=LocationFactory())
    hit = scan(till, GTIN13)["hits"][0]
    assert hit["stock"] == 0
    assert hit["fefo_lot"] is None


def test_a_medicine_out_of_stock_here_comes_with_alternatives_in_stock_here(till):
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol")
    asked = medicine_with([(paracetamol, 500)], name="Panadol 500", barcode=GTIN13, price="18000")
    exact = medicine_with([(paracetamol, 500)], name="Paracetamol Nika 500", price="4500")
    receive(exact, 30)
    elsewhere = medicine_with([(paracetamol, 500)], name="Paracetamol Far Away", price="4000")
    receive(elsewhere, 30, location=LocationFactory())
    hit = _the_one_hit(scan(till, GTIN13), asked)
    assert hit["stock"] == 0
    assert [(a["medicine_id"], a["kind"], a["stock"]) for a in hit["alternatives"]] == [(exact.pk, "exact", 30)]


def _scan_queries(client, query: str) -> int:
    scan(client, query)  # warm the per-process caches
    with CaptureQueriesContext(connection) as captured:
        scan(client, query)
    return len(captured.captured_queries)


def _family(prefix: str, count: int, *, stocked: bool):
    substance = ActiveSubstanceFactory(inn_name=f"Zeta {prefix[0]}")
    for i in range(count):
        medicine = medicine_with([(substance, 100 + i)], name=f"{prefix} {i}")
        if stocked:
            receive(medicine, 3)
            receive(medicine, 2, expires_in_days=50)
    alternative = medicine_with([(substance, 100)], name=f"Spare {prefix[0]}")
    receive(alternative, 4)


@pytest.mark.parametrize("stocked", [True, False])
def test_a_scan_runs_a_fixed_number_of_queries_whatever_the_number_of_hits(till, stocked):
    _family("Alphazol", 1, stocked=stocked)
    _family("Betazol", 6, stocked=stocked)
    one = _scan_queries(till, "alphazol")
    many = _scan_queries(till, "betazol")
    assert len(scan(till, "betazol")["hits"]) == 6
    assert one == many


# --- completing the sale -----------------------------------------------------------------------


def _sale(medicine, quantity, amount, *, payments=None):
    return {
        "lines": [{"medicine_id": medicine.pk, "quantity": quantity, "expected_amount": str(amount)}],
        "payments": payments or [{"method": "cash", "amount": str(amount), "tendered": "50000"}],
    }


def _nothing_written():
    assert not Order.objects.exists()
    assert not StockMovement.objects.filter(kind="dispense").exists()
    assert not Payment.objects.exists()


def test_completing_a_sale_takes_the_fefo_lot_here_records_payments_and_gives_the_receipt(till, boxed):
    medicine, sooner, later = boxed
    other_place = LocationFactory()
    receive(medicine, 10, expires_in_days=30, location=other_place, lot_number="ELSEWHERE")
    body = _sale(
        medicine,
        3,
        "36000.00",
        payments=[
            {"method": "card", "amount": "10000.00", "card_network": "humo", "reference": "T-778"},
            {"method": "cash", "amount": "26000.00", "tendered": "30000"},
        ],
    )

    response = complete(till, body)

    assert response.status_code == 201, response.content
    data = response.json()
    order = Order.objects.get(number=data["number"])
    assert order.shift_id == till.shift.pk and order.location_id == till.shift.location_id
    assert data["change"] == "4000.00"
    assert data["receipt_url"] == reverse("admin:orders_order_receipt", args=[order.pk])
    taken = {ll.lot_id: ll.quantity for ll in LineLot.objects.filter(line__order=order)}
    assert taken == {sooner.pk: 2, later.pk: 1}
    assert LotStock.objects.get(lot__lot_number="ELSEWHERE").quantity == 10
    payments = list(Payment.objects.filter(order=order).order_by("pk"))
    assert [(p.method, p.amount, p.card_network, p.reference) for p in payments] == [
        ("card", Decimal("10000.00"), "humo", "T-778"),
        ("cash", Decimal("26000.00"), "", ""),
    ]
    assert payments[1].tendered == Decimal("30000.00")


def test_a_price_changed_since_the_scan_is_refused_with_the_new_price_and_nothing_is_written(till, boxed):
    medicine = boxed[0]
    Medicine.objects.filter(pk=medicine.pk).update(price=Decimal("13000"))

    response = complete(till, _sale(medicine, 1, "12000.00"))

    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "prices_changed"
    assert data["changes"] == [
        {"medicine_id": medicine.pk, "medicine": medicine.name, "expected": "12000.00", "current": "13000.00"}
    ]
    assert data["message"]
    _nothing_written()


def test_a_lot_quarantined_between_scan_and_payment_is_not_sold(till):
    medicine = MedicineFactory(barcode=GTIN13, price=Decimal("5000"))
    lot = receive(medicine, 3)
    assert scan(till, GTIN13)["hits"][0]["fefo_lot"]["number"] == lot.lot_number
    lot_quarantine(lot=Lot.objects.get(pk=lot.pk), reason="Suspected fake")

    response = complete(till, _sale(medicine, 1, "5000.00"))

    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "insufficient_stock"
    assert data["lines"] == [{"medicine_id": medicine.pk, "requested": 1, "available": 0}]
    _nothing_written()
    till.shift.refresh_from_db()
    assert till.shift.documents == 0


def test_without_an_open_shift_nothing_is_sold(staff_client, boxed):
    client = staff_client(Role.PHARMACIST)
    response = complete(client, _sale(boxed[0], 1, "12000.00"))
    assert response.status_code == 409
    assert response.json()["code"] == "shift_required"
    assert client.get(reverse(SCAN), {"q": GTIN13}).json()["code"] == "shift_required"
    _nothing_written()


def test_a_prescription_only_line_without_its_prescription_is_refused(till):
    medicine = MedicineFactory(price=Decimal("8000"), is_prescription=True)
    receive(medicine, 2)
    response = complete(till, _sale(medicine, 1, "8000.00"))
    assert response.status_code == 400
    assert response.json()["code"] == "prescription_required"
    _nothing_written()


def test_a_prescription_only_line_with_its_prescription_is_sold(till):
    medicine = MedicineFactory(price=Decimal("8000"), is_prescription=True)
    receive(medicine, 2)
    body = _sale(medicine, 1, "8000.00")
    body["prescription"] = {
        "prescriber": "Dr. Karimova",
        "number": "RX-17",
        "issued_on": "2026-11-30",
        "patient_name": "A. Valiyev",
    }
    response = complete(till, body)
    assert response.status_code == 201, response.content
    assert Order.objects.get().prescription.number == "RX-17"


def test_a_controlled_line_confirmed_by_another_pharmacist_needs_their_password(till, make_staff, password):
    medicine = MedicineFactory(price=Decimal("9000"), is_controlled=True)
    receive(medicine, 2)
    colleague = make_staff(Role.PHARMACIST)
    body = _sale(medicine, 1, "9000.00")
    body["prescription"] = {"prescriber": "Dr. X", "number": "7", "issued_on": "2026-11-30", "patient_name": "P"}
    body["confirmed_by"] = colleague.pk
    body["confirm_password"] = "wrong"

    refused = complete(till, body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "confirmation_refused"
    _nothing_written()

    body["confirm_password"] = password
    response = complete(till, body)
    assert response.status_code == 201, response.content
    assert Order.objects.get().controlled_confirmed_by_id == colleague.pk


def test_wrong_confirming_passwords_lock_that_pharmacist_out_at_the_till_as_at_the_login(
    till, make_staff, password, settings
):
    medicine = MedicineFactory(price=Decimal("9000"), is_controlled=True)
    receive(medicine, 2)
    colleague = make_staff(Role.PHARMACIST)
    body = _sale(medicine, 1, "9000.00")
    body["prescription"] = {"prescriber": "Dr. X", "number": "7", "issued_on": "2026-11-30", "patient_name": "P"}
    body["confirmed_by"] = colleague.pk
    body["confirm_password"] = "guess"
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert complete(till, body, HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 403
    # The last wrong guess locks the pair (that pharmacist, this address), as the login page does.
    assert complete(till, body, HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 429

    body["confirm_password"] = password  # the right one, too late
    assert complete(till, body, HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 429
    _nothing_written()


def test_payments_short_of_the_total_are_refused(till, boxed):
    body = _sale(boxed[0], 2, "24000.00", payments=[{"method": "cash", "amount": "20000.00", "tendered": "20000"}])
    response = complete(till, body)
    assert response.status_code == 400
    assert response.json()["code"] == "payment_short"
    _nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"lines": "x", "payments": []},
        {"lines": [{"medicine_id": "1", "quantity": 1}], "payments": []},
        {"lines": [{"medicine_id": 1, "quantity": 0}], "payments": []},
        {"lines": [{"medicine_id": 1, "quantity": 1}], "payments": [{"method": "payme", "amount": "1"}]},
    ],
)
def test_a_malformed_sale_is_a_400_and_writes_nothing(till, body):
    payload = body if isinstance(body, str) else json.dumps(body)
    response = till.post(reverse(COMPLETE), data=payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    _nothing_written()


def test_a_sale_is_completed_by_post_only(till):
    assert till.get(reverse(COMPLETE)).status_code == 405


def test_a_medicine_sold_by_the_part_is_priced_by_packs_and_parts(till):
    medicine = MedicineFactory(price=Decimal("10000"), parts_per_pack=10, part_name="blister", barcode=GTIN13)
    receive(medicine, 30)
    hit = scan(till, GTIN13)["hits"][0]
    assert (hit["parts_per_pack"], hit["price"], hit["part_price"]) == (10, "10000.00", "1000.00")

    # One pack and three blisters: 10 000 + 3 x 1 000.
    response = complete(till, _sale(medicine, 13, "13000.00"))

    assert response.status_code == 201, response.content
    line = Order.objects.get().lines.get()
    assert (line.quantity, line.total) == (13, Decimal("13000.00"))
    assert LotStock.objects.get(lot__medicine=medicine).quantity == 17
    receipt = till.get(response.json()["receipt_url"]).content.decode()
    assert "1 pack + 3 blister" in receipt.replace("\xa0", " ")


def test_who_may_confirm_a_controlled_line_are_the_pharmacists_of_the_place(make_staff):
    here = make_staff(Role.PHARMACIST)
    make_staff(Role.OPERATOR)
    make_staff(Role.PHARMACIST, locations=[LocationFactory()])
    assert list(controlled_confirmers(here.locations.get())) == [here]
