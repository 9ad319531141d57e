"""Lot actions in the admin: who may run them, and that each goes reason form -> service -> ledger/status/history."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from catalog import stock
from catalog.models import Lot, LotStatus, MovementKind, StockMovement
from catalog.stock import lot_quarantine
from catalog.tests.factories import MedicineFactory, days, main_location, receive

OPERATIONS = ["quarantine", "release", "recall", "write_off"]
ALLOWED = {
    Role.PHARMACIST: {"quarantine", "release", "recall", "write_off"},
    Role.INVENTORY: {"write_off", "count"},
    Role.OPERATOR: set(),
}
CHANGELIST = "admin:catalog_lot_changelist"


def detail_url(operation: str, lot: Lot) -> str:
    return reverse(f"admin:catalog_lot_{operation}_lot", args=[lot.pk])


def bulk_apply(client, operation: str, lots: list[Lot], reason: str = "Supplier notice 14/2026"):
    return client.post(
        reverse(CHANGELIST),
        {
            "action": f"{operation}_selected",
            "_selected_action": [lot.pk for lot in lots],
            "apply": "yes",
            "reason": reason,
            # Asked by the write-off (at which place), ignored by the status changes.
            "location": main_location().pk,
        },
    )


@pytest.fixture
def lot(db) -> Lot:
    return receive(MedicineFactory(name="Amoxicillin 500"), 20, expires_in_days=200, lot_number="AMX-1")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("operation", OPERATIONS)
def test_lot_action_is_offered_and_runs_only_for_roles_with_its_permission(staff_client, lot, role, operation):
    client = staff_client(role)
    if operation == "release":
        lot_quarantine(lot=lot, reason="setup")
    allowed = operation in ALLOWED[role]

    changelist = client.get(reverse(CHANGELIST))
    action_form = changelist.context["action_form"]  # None when no action at all is offered
    offered = {name for name, _ in action_form.fields["action"].choices} if action_form else set()
    assert (f"{operation}_selected" in offered) is allowed

    assert client.get(detail_url(operation, lot)).status_code == (200 if allowed else 403)

    before = (lot.status, lot.quantity, StockMovement.objects.count())
    bulk_apply(client, operation, [lot])
    lot.refresh_from_db()
    after = (lot.status, lot.quantity, StockMovement.objects.count())
    assert (after != before) is allowed


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ALLOWED))
def test_a_lot_page_shows_exactly_the_action_buttons_the_role_may_use(staff_client, lot, role):
    client = staff_client(role)
    response = client.get(reverse("admin:catalog_lot_change", args=[lot.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    shown = {operation for operation in [*OPERATIONS, "count"] if detail_url(operation, lot) in html}
    # An available lot is not released: that button waits for a quarantine.
    assert shown == ALLOWED[role] - {"release"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (LotStatus.AVAILABLE, {"quarantine", "recall", "write_off"}),
        (LotStatus.QUARANTINED, {"release", "recall", "write_off"}),
        (LotStatus.RECALLED, {"recall", "write_off"}),
    ],
)
def test_a_lot_page_offers_only_the_status_changes_its_status_allows(staff_client, lot, status, offered):
    client = staff_client(Role.PHARMACIST)
    if status == LotStatus.QUARANTINED:
        lot_quarantine(lot=lot, reason="setup")
    elif status == LotStatus.RECALLED:
        stock.lot_recall(lot=lot, reason="setup")

    html = client.get(reverse("admin:catalog_lot_change", args=[lot.pk])).content.decode()

    assert {operation for operation in OPERATIONS if detail_url(operation, lot) in html} == offered


@pytest.mark.django_db
def test_opening_a_status_change_the_lot_does_not_allow_says_why_and_changes_nothing(staff_client, lot):
    client = staff_client(Role.PHARMACIST)

    response = client.post(detail_url("release", lot), {"reason": "Lab test passed"}, follow=True)

    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    assert any("AMX-1" in m and "not allowed" in m for m in messages_of(response))


@pytest.mark.django_db
def test_quarantine_from_the_list_asks_a_reason_then_blocks_the_lot_with_history(staff_client, lot):
    client = staff_client(Role.PHARMACIST)

    form_page = client.post(
        reverse(CHANGELIST), {"action": "quarantine_selected", "_selected_action": [lot.pk], "index": 0}
    )
    assert form_page.status_code == 200
    assert 'name="reason"' in form_page.content.decode()
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE

    response = bulk_apply(client, "quarantine", [lot], reason="Damaged boxes from supplier")

    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED
    assert lot.status_reason == "Damaged boxes from supplier"
    latest = lot.history.first()
    assert latest.status == LotStatus.QUARANTINED
    assert latest.history_user == client.user
    assert latest.history_change_reason == "Damaged boxes from supplier"
    lot.medicine.refresh_from_db()
    assert lot.medicine.sellable_quantity == 0


@pytest.mark.django_db
def test_an_action_without_a_reason_changes_nothing_and_shows_the_form_again(staff_client, lot):
    client = staff_client(Role.PHARMACIST)

    response = bulk_apply(client, "recall", [lot], reason="   ")

    assert response.status_code == 200
    assert "Say why." in response.content.decode()
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE


@pytest.mark.django_db
def test_write_off_from_the_lot_page_writes_a_ledger_row_with_who_and_why(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    url = detail_url("write_off", lot)
    assert "Main pharmacy · 20 packs" in client.get(url).content.decode()

    response = client.post(url, {"location": main_location().pk, "packs": 3, "reason": "Broken vials"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:catalog_lot_change", args=[lot.pk])
    lot.refresh_from_db()
    assert lot.quantity == 17
    movement = StockMovement.objects.filter(lot=lot, kind=MovementKind.WRITE_OFF).get()
    assert (movement.quantity, movement.balance_after, movement.user, movement.reason) == (
        -3,
        17,
        client.user,
        "Broken vials",
    )
    assert lot.history.first().history_user == client.user
    lot.medicine.refresh_from_db()
    assert lot.medicine.sellable_quantity == 17


@pytest.mark.django_db
def test_write_off_cannot_take_more_than_the_lot_holds(staff_client, lot):
    client = staff_client(Role.INVENTORY)

    response = client.post(
        detail_url("write_off", lot), {"location": main_location().pk, "packs": 21, "reason": "Count"}
    )

    assert response.status_code == 200
    assert "Main pharmacy holds 20 packs of this lot." in response.content.decode()
    lot.refresh_from_db()
    assert lot.quantity == 20
    assert not StockMovement.objects.filter(kind=MovementKind.WRITE_OFF).exists()


@pytest.mark.django_db
def test_write_off_from_the_list_empties_each_selected_lot(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    other = receive(lot.medicine, 7, expires_in_days=300, lot_number="AMX-2")

    bulk_apply(client, "write_off", [lot, other], reason="Flood in the store room")

    lot.refresh_from_db()
    other.refresh_from_db()
    assert (lot.quantity, other.quantity) == (0, 0)
    assert sorted(StockMovement.objects.filter(kind=MovementKind.WRITE_OFF).values_list("quantity", flat=True)) == [
        -20,
        -7,
    ]


@pytest.mark.django_db
def test_recall_blocks_the_lot_and_reports_where_its_stock_went(staff_client, lot):
    client = staff_client(Role.PHARMACIST)

    response = client.post(detail_url("recall", lot), {"reason": "Manufacturer recall 2026-11"}, follow=True)

    lot.refresh_from_db()
    assert lot.status == LotStatus.RECALLED
    assert lot.status_reason == "Manufacturer recall 2026-11"
    assert any("20 on hand, 0 dispensed" in m for m in messages_of(response))


@pytest.mark.django_db
def test_release_returns_a_quarantined_lot_to_sale(staff_client, lot):
    client = staff_client(Role.PHARMACIST)
    lot_quarantine(lot=lot, reason="Check")

    client.post(detail_url("release", lot), {"reason": "Lab test passed"})

    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    lot.medicine.refresh_from_db()
    assert lot.medicine.sellable_quantity == 20


@pytest.mark.django_db
def test_releasing_a_lot_that_is_not_quarantined_is_refused_with_the_services_message(staff_client, lot):
    client = staff_client(Role.PHARMACIST)

    response = bulk_apply(client, "release", [lot], reason="Oops")

    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    assert any("AMX-1" in m and "not allowed" in m for m in messages_of(response))


@pytest.mark.django_db
def test_creating_a_lot_in_the_admin_is_a_receipt_through_the_service(staff_client):
    client = staff_client(Role.INVENTORY)
    medicine = MedicineFactory()

    response = client.post(
        reverse("admin:catalog_lot_add"),
        {
            "medicine": medicine.pk,
            "lot_number": "NEW-7",
            "expiry_date": days(365).isoformat(),
            "received_date": days(0).isoformat(),
            "location": main_location().pk,
            "packs": 40,
            "purchase_price": "8000",
            "supplier": "Grand Pharm",
            "reason": "Invoice 77",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    lot = Lot.objects.get(medicine=medicine, lot_number="NEW-7")
    assert lot.quantity == 40
    receipt = lot.movements.get()
    assert (receipt.kind, receipt.quantity, receipt.user) == (MovementKind.RECEIPT, 40, client.user)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 40


@pytest.mark.django_db
def test_receiving_the_same_lot_number_again_tops_up_that_lot(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    data = {
        "medicine": lot.medicine.pk,
        "lot_number": "AMX-1",
        "expiry_date": lot.expiry_date.isoformat(),
        "received_date": days(0).isoformat(),
        "location": main_location().pk,
        "packs": 5,
        "purchase_price": "8000",
    }

    response = client.post(reverse("admin:catalog_lot_add"), data)

    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.quantity == 25
    assert Lot.objects.filter(medicine=lot.medicine).count() == 1


@pytest.mark.django_db
def test_receiving_a_known_lot_number_with_another_expiry_is_a_form_error(staff_client, lot):
    client = staff_client(Role.INVENTORY)

    response = client.post(
        reverse("admin:catalog_lot_add"),
        {
            "medicine": lot.medicine.pk,
            "lot_number": "AMX-1",
            "expiry_date": days(500).isoformat(),
            "received_date": days(0).isoformat(),
            "location": main_location().pk,
            "packs": 5,
            "purchase_price": "8000",
        },
    )

    assert response.status_code == 200
    assert "already exists with expiry" in response.content.decode()
    lot.refresh_from_db()
    assert lot.quantity == 20


@pytest.mark.django_db
def test_a_lots_quantity_and_status_are_not_editable_in_its_form(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    url = reverse("admin:catalog_lot_change", args=[lot.pk])
    html = client.get(url).content.decode()
    assert 'name="quantity"' not in html
    assert 'name="status"' not in html

    response = client.post(
        url,
        {
            "lot_number": "AMX-1",
            "expiry_date": lot.expiry_date.isoformat(),
            "received_date": lot.received_date.isoformat(),
            "purchase_price": "9000",
            "supplier": "Other supplier",
            "quantity": 999,
            "status": LotStatus.RECALLED,
        },
    )

    assert response.status_code == 302
    lot.refresh_from_db()
    assert (lot.quantity, lot.status, lot.supplier) == (20, LotStatus.AVAILABLE, "Other supplier")


@pytest.mark.django_db
def test_correcting_a_lots_expiry_recomputes_the_medicines_nearest_expiry(staff_client, lot):
    client = staff_client(Role.INVENTORY)

    client.post(
        reverse("admin:catalog_lot_change", args=[lot.pk]),
        {
            "lot_number": "AMX-1",
            "expiry_date": days(30).isoformat(),
            "received_date": lot.received_date.isoformat(),
            "purchase_price": "9000",
            "supplier": "",
            "change_reason": "Supplier letter 12/2026: date misprinted",
        },
    )

    lot.medicine.refresh_from_db()
    assert lot.medicine.nearest_expiry == days(30)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["expiry_date", "lot_number"])
def test_correcting_a_lots_expiry_or_number_without_a_reason_is_refused_and_changes_nothing(staff_client, lot, field):
    client = staff_client(Role.PHARMACIST)
    before = Lot.objects.values("lot_number", "expiry_date").get(pk=lot.pk)
    versions = lot.history.count()
    data = {
        "lot_number": lot.lot_number,
        "expiry_date": lot.expiry_date.isoformat(),
        "received_date": lot.received_date.isoformat(),
        "purchase_price": str(lot.purchase_price),
        "supplier": lot.supplier,
        "change_reason": "   ",
    }
    data[field] = {"expiry_date": days(900).isoformat(), "lot_number": "AMX-9"}[field]

    response = client.post(reverse("admin:catalog_lot_change", args=[lot.pk]), data)

    assert response.status_code == 200
    assert "Say why the lot number or expiry date is corrected." in response.content.decode()
    assert Lot.objects.values("lot_number", "expiry_date").get(pk=lot.pk) == before
    assert lot.history.count() == versions


@pytest.mark.django_db
def test_a_corrected_expiry_is_recorded_in_the_history_with_who_and_why(staff_client, lot):
    client = staff_client(Role.PHARMACIST)
    old_expiry = lot.expiry_date

    response = client.post(
        reverse("admin:catalog_lot_change", args=[lot.pk]),
        {
            "lot_number": lot.lot_number,
            "expiry_date": days(900).isoformat(),
            "received_date": lot.received_date.isoformat(),
            "purchase_price": str(lot.purchase_price),
            "supplier": lot.supplier,
            "change_reason": "Supplier letter 12/2026",
        },
    )

    assert response.status_code == 302
    new, old = lot.history.all()[:2]
    assert (new.history_user, new.history_change_reason) == (client.user, "Supplier letter 12/2026")
    assert (old.expiry_date, new.expiry_date) == (old_expiry, days(900))
    # The ledger holds quantities only: a correction moves none and adds no row.
    assert StockMovement.objects.filter(lot=lot).count() == 1


@pytest.mark.django_db
def test_nobody_deletes_a_lot_in_the_admin(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    assert client.get(reverse("admin:catalog_lot_delete", args=[lot.pk])).status_code == 403


@pytest.mark.django_db
def test_the_receipt_form_asks_for_the_quantity_received(staff_client):
    client = staff_client(Role.INVENTORY)
    html = client.get(reverse("admin:catalog_lot_add")).content.decode()
    assert 'name="packs"' in html
    assert 'name="parts"' in html
    assert 'name="location"' in html
    assert 'name="medicine"' in html


@pytest.mark.django_db
def test_a_lot_page_opened_before_a_colleagues_correction_keeps_that_correction(staff_client, lot):
    client = staff_client(Role.INVENTORY)
    shown = {
        "lot_number": lot.lot_number,
        "expiry_date": lot.expiry_date.isoformat(),
        "received_date": lot.received_date.isoformat(),
        "purchase_price": str(lot.purchase_price),
        "supplier": lot.supplier,
    }
    form = {**shown, **{f"initial-{name}": value for name, value in shown.items()}, "purchase_price": "9100"}
    # Meanwhile a colleague puts the supplier right.
    stock.lot_update_details(lot=lot, changes={"supplier": "Grand Pharm"}, user=None, reason="")

    response = client.post(reverse("admin:catalog_lot_change", args=[lot.pk]), form)

    assert response.status_code == 302
    lot.refresh_from_db()
    assert (lot.supplier, lot.purchase_price) == ("Grand Pharm", Decimal("9100"))
