"""The demo data (fixtures/) loads through the stock services and shows every state the admin can show.

Loading replays ~1 000 stock operations and a dozen transfers, then sells the
story's sales at the branches' tills (``orders.demo``, as ``manage.py
load_demo`` does), so it runs once for this module (inside a transaction
rolled back at the end) and each test reads the result. The sales themselves
are tested in ``orders/tests/test_demo.py``.
"""

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from accounts.management.commands.demo_accounts import DEMO_ACCOUNTS
from accounts.models import User
from catalog.demo import CATALOGUE_FILE, load_demo, read_json
from catalog.ledger import all_problems, balance_chain_problems, derived_problems, lot_sum_problems
from catalog.models import (
    ActiveSubstance,
    Category,
    Discrepancy,
    Location,
    LocationKind,
    Lot,
    LotStatus,
    LotStock,
    Medicine,
    MedicineStock,
    MovementKind,
    StockMovement,
    Transfer,
    TransferLine,
    TransferState,
    validate_atc,
    validate_gtin,
)
from catalog.stock import stock_locations
from orders.demo import demo_sales_replay


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with transaction.atomic():
            result = load_demo()
            call_command("demo_accounts", stdout=io.StringIO(), stderr=io.StringIO())
            demo_sales_replay()
            yield result
            transaction.set_rollback(True)


def snapshot() -> dict:
    from orders.models import Order, Shift

    return {
        "orders": Order.objects.count(),
        "shifts": Shift.objects.count(),
        "medicines": Medicine.objects.count(),
        "history": Medicine.history.count(),
        "lots": Lot.objects.count(),
        "movements": StockMovement.objects.count(),
        "sold": sum(Medicine.objects.values_list("number_sold", flat=True)),
        "categories": Category.objects.count(),
        "locations": Location.objects.count(),
        "transfers": Transfer.objects.count(),
    }


def warehouse() -> Location:
    return stock_locations().get(kind=LocationKind.WAREHOUSE)


def branches() -> list[Location]:
    return list(stock_locations().filter(kind=LocationKind.BRANCH))


def on_hand(location: Location) -> int:
    return LotStock.objects.filter(location=location).aggregate(total=Sum("quantity"))["total"] or 0


def test_demo_loads_at_least_150_medicines_and_40_substances(demo, db):
    assert demo.medicines == Medicine.objects.count() >= 150
    assert ActiveSubstance.objects.exclude(atc_codes=[]).count() >= 40
    assert ActiveSubstance.objects.count() == demo.substances
    assert all(m.medicine_substances.exists() for m in Medicine.objects.all())


def test_every_demo_barcode_is_a_valid_gtin(demo, db):
    barcodes = list(Medicine.objects.values_list("barcode", flat=True))
    assert len(barcodes) == len(set(barcodes))
    for barcode in barcodes:
        validate_gtin(barcode)  # raises on a wrong check digit
    with pytest.raises(ValidationError):
        validate_gtin(barcodes[0][:-1] + str((int(barcodes[0][-1]) + 1) % 10))


def test_every_atc_code_is_valid_and_some_substances_have_several(demo, db):
    codes = list(ActiveSubstance.objects.values_list("inn_name", "atc_codes"))
    for _, atc_codes in codes:
        for code in atc_codes:
            validate_atc(code)
    assert sum(1 for _, atc in codes if len(atc) > 1) >= 10
    aspirin = ActiveSubstance.objects.get(inn_name="Acetylsalicylic acid")
    assert {"N02BA01", "B01AC06"} <= set(aspirin.atc_codes)


def test_every_medicine_in_the_file_is_loaded_with_its_strengths(demo, db):
    catalogue = read_json(CATALOGUE_FILE)
    assert Medicine.objects.count() == len(catalogue["medicines"])
    syrup = Medicine.objects.get(name__startswith="Paracetamol syrup 120 mg/5 ml")
    link = syrup.medicine_substances.get()
    assert link.strength_display == "120 mg/5 ml"
    citramon = Medicine.objects.get(name="Citramon P tablets №10")
    assert citramon.substances.count() == 3


def test_antibiotics_and_controlled_medicines_need_a_prescription(demo, db):
    antibiotics = [
        m
        for m in Medicine.objects.prefetch_related("substances")
        if any(code.startswith("J01") for s in m.substances.all() for code in s.atc_codes)
    ]
    assert len(antibiotics) >= 20
    assert all(m.is_prescription for m in antibiotics)
    controlled = Medicine.objects.filter(is_controlled=True)
    assert controlled.count() >= 3
    assert not controlled.filter(is_prescription=False).exists()
    assert Medicine.objects.filter(name__startswith="Tramal", is_controlled=True).exists()


def test_the_category_tree_has_children_and_icons(demo, db):
    top = Category.objects.filter(parent__isnull=True)
    assert top.count() >= 9
    assert Category.objects.filter(parent__isnull=False).count() >= 20
    assert all(c.icon.name.endswith(".svg") for c in top)
    assert not Medicine.objects.filter(category__parent__isnull=True, category__children__isnull=False).exists()


def test_demo_stock_shows_every_state(demo, db):
    today = timezone.localdate()
    lots = Lot.objects.all()
    assert lots.filter(status=LotStatus.EXPIRED, expiry_date__lte=today, quantity__gt=0).exists()
    assert (
        lots.filter(
            status=LotStatus.AVAILABLE,
            quantity__gt=0,
            expiry_date__gt=today,
            expiry_date__lte=today + datetime.timedelta(days=30),
        ).count()
        >= 5
    )
    assert lots.filter(expiry_date__gt=today + datetime.timedelta(days=600)).exists()
    assert lots.filter(status=LotStatus.QUARANTINED).count() >= 2
    assert lots.filter(status=LotStatus.RECALLED).count() == 1
    medicines = Medicine.objects.all()
    low = [m for m in medicines if m.is_low_stock]
    out = [m for m in medicines if m.is_out_of_stock]
    assert len(low) >= 10
    assert len(out) >= 5
    assert StockMovement.objects.filter(kind=MovementKind.WRITE_OFF).exists()


def test_demo_sales_are_counter_sales_made_after_the_stock_story(demo, db):
    """Every unit that left through a sale left through an order, stamped when the till made it (today)."""
    from orders.models import Order

    sales = StockMovement.objects.filter(kind=MovementKind.DISPENSE)
    numbers = set(Order.objects.values_list("number", flat=True))
    assert sales.count() >= 600
    assert set(sales.values_list("reference", flat=True)) <= numbers
    assert {timezone.localtime(t).date() for t in sales.values_list("created_at", flat=True)} == {timezone.localdate()}
    assert Medicine.objects.filter(number_sold__gt=0).count() >= 100
    # A receipt is dated when the lot arrived, before anything was sold from it.
    lot = Lot.objects.filter(movements__kind=MovementKind.DISPENSE).first()
    receipt = lot.movements.get(kind=MovementKind.RECEIPT)
    assert timezone.localtime(receipt.created_at).date() == lot.received_date
    assert not lot.movements.filter(kind=MovementKind.DISPENSE, created_at__lt=receipt.created_at).exists()


def test_the_ledger_balances_after_loading(demo, db):
    assert lot_sum_problems() == []
    assert balance_chain_problems() == []
    assert derived_problems() == []
    assert all_problems() == []
    out = io.StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "balances" in out.getvalue()


def test_loading_again_changes_nothing(demo, db):
    before = snapshot()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert snapshot() == before
    assert "already loaded" in out.getvalue()
    assert not load_demo().created_anything


# --- Places ---------------------------------------------------------------------------


def test_the_chain_is_a_warehouse_and_two_public_branches_in_tashkent(demo, db):
    assert demo.locations == 3
    kinds = sorted(stock_locations().values_list("kind", "is_public"))
    assert kinds == [(LocationKind.BRANCH, True), (LocationKind.BRANCH, True), (LocationKind.WAREHOUSE, False)]
    districts = set()
    for place in stock_locations():
        assert place.address and place.phone and place.opening_hours and place.district
        # Tashkent lies within about 41.2-41.4 N, 69.1-69.4 E.
        assert Decimal("41.2") < place.latitude < Decimal("41.4")
        assert Decimal("69.1") < place.longitude < Decimal("69.4")
        districts.add(place.district)
    assert len(districts) == 3


def test_stock_sits_in_every_place_most_of_it_at_the_warehouse(demo, db):
    store, shops = warehouse(), branches()
    assert all(on_hand(place) > 0 for place in stock_locations())
    assert on_hand(store) > sum(on_hand(branch) for branch in shops)
    for branch in shops:
        assert MedicineStock.objects.filter(location=branch, sellable_quantity__gt=0).count() >= 50
    receipts = StockMovement.objects.filter(kind=MovementKind.RECEIPT)
    assert receipts.filter(location=store).count() > receipts.exclude(location=store).count() > 0
    # Every sale is at a branch: the warehouse does not sell to the public.
    sales = StockMovement.objects.filter(kind=MovementKind.DISPENSE)
    assert not sales.filter(location=store).exists()
    assert all(sales.filter(location=branch).count() >= 100 for branch in shops)


def test_branches_are_stocked_by_transfers_that_arrive_before_their_stock_is_sold(demo, db):
    received = Transfer.objects.filter(state=TransferState.RECEIVED)
    assert received.count() >= 8
    assert set(received.values_list("source", flat=True)) == {warehouse().pk}
    assert all(t.sent_at <= t.received_at < timezone.now() for t in received)
    first_in: dict[tuple[int, int], datetime.datetime] = {}
    first_sale: dict[tuple[int, int], datetime.datetime] = {}
    movements = StockMovement.objects.filter(
        kind__in=[MovementKind.RECEIPT, MovementKind.TRANSFER_IN, MovementKind.DISPENSE]
    ).values_list("lot_id", "location_id", "kind", "created_at")
    for lot_id, location_id, kind, moment in movements:
        into = first_sale if kind == MovementKind.DISPENSE else first_in
        key = (lot_id, location_id)
        into[key] = min(into.get(key, moment), moment)
    assert first_sale
    for key, sold in first_sale.items():
        assert first_in[key] <= sold


def test_one_transfer_is_still_on_its_way(demo, db):
    [on_the_way] = Transfer.objects.filter(state=TransferState.SENT)
    assert demo.in_transit == 1
    assert on_the_way.received_at is None and on_the_way.destination.kind == LocationKind.BRANCH
    sent = on_the_way.lines.aggregate(total=Sum("quantity"))["total"]
    in_transit = LotStock.objects.filter(location__kind=LocationKind.TRANSIT).aggregate(total=Sum("quantity"))
    assert sent > 0 and in_transit["total"] == sent
    assert not on_the_way.lines.filter(received_quantity__isnull=False).exists()


def test_a_shortfall_on_receipt_is_written_off_or_returned_with_its_reason(demo, db):
    short = TransferLine.objects.exclude(discrepancy="").select_related("transfer", "lot")
    assert {line.discrepancy for line in short} == {Discrepancy.WRITTEN_OFF, Discrepancy.RETURNED}
    for line in short:
        assert line.received_quantity < line.quantity and line.discrepancy_reason
        movements = StockMovement.objects.filter(reference=line.transfer.number, lot=line.lot)
        if line.discrepancy == Discrepancy.WRITTEN_OFF:
            write_off = movements.get(kind=MovementKind.WRITE_OFF)
            assert write_off.location.kind == LocationKind.TRANSIT
            assert (write_off.quantity, write_off.reason) == (-line.shortfall, line.discrepancy_reason)
        else:
            back = movements.filter(kind=MovementKind.TRANSFER_IN, location=line.transfer.source).get()
            assert (back.quantity, back.reason) == (line.shortfall, line.discrepancy_reason)


# --- A medicine sold by the part ------------------------------------------------------


def test_a_medicine_sold_by_the_blister_has_an_opened_box_at_a_branch(demo, db):
    [medicine] = Medicine.objects.filter(parts_per_pack__gt=1)
    assert (medicine.parts_per_pack, medicine.part_name) == (2, "blister")
    assert medicine.reorder_level % medicine.parts_per_pack == 0
    stocks = LotStock.objects.filter(lot__medicine=medicine, quantity__gt=0).select_related("location")
    opened = [s for s in stocks if s.quantity % medicine.parts_per_pack]
    assert [s.location.kind for s in opened] == [LocationKind.BRANCH]
    single = StockMovement.objects.filter(lot__medicine=medicine, kind=MovementKind.DISPENSE, quantity=-1)
    assert single.filter(location=opened[0].location).exists()
    # The warehouse ships whole boxes.
    shipped = StockMovement.objects.filter(lot__medicine=medicine, kind=MovementKind.TRANSFER_OUT)
    assert shipped.exists()
    assert all(q % medicine.parts_per_pack == 0 for q in shipped.values_list("quantity", flat=True))


# --- Demo accounts ----------------------------------------------------------------------


def test_the_demo_accounts_work_at_their_places_and_the_output_says_where(demo, db):
    out = io.StringIO()
    call_command("demo_accounts", stdout=out, stderr=io.StringIO())

    text = out.getvalue()
    assert "Where each one works" in text
    by_code = {place.code: place for place in stock_locations()}
    for phone, _role, first_name, last_name, codes in DEMO_ACCOUNTS:
        user = User.objects.get(phone=phone)
        assert set(user.locations.values_list("code", flat=True)) == set(codes)
        line = next(line for line in text.splitlines() if f"{first_name} {last_name}" in line)
        if user.is_superuser:
            assert "every place" in line
        else:
            assert codes and all(by_code[code].name in line for code in codes)
    pharmacist = User.objects.get(phone=DEMO_ACCOUNTS[1][0])
    assert [place.kind for place in pharmacist.locations.all()] == [LocationKind.BRANCH]
    operator = User.objects.get(phone=DEMO_ACCOUNTS[2][0])
    assert sorted(operator.locations.values_list("kind", flat=True)) == [LocationKind.BRANCH] * 2


# --- The code -------------------------------------------------------------------------


def test_no_module_outside_the_tests_patches_with_unittest_mock():
    """Production code gives its services a today=/as_of= keyword instead of patching time."""
    pattern = re.compile(r"\bunittest\.mock\b|\bfrom\s+unittest\s+import\s+(\w+\s*,\s*)*mock\b")
    root = Path(settings.BASE_DIR)
    offenders = []
    for app in ("catalog", "accounts", "backoffice", "tasks"):
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root)
            if "tests" in relative.parts or path.name.startswith("test_") or path.name == "conftest.py":
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(relative))
    assert offenders == []
