"""The demo data (fixtures/) loads through the stock services and shows every state the admin can show.

Loading replays ~1 000 stock operations, so it runs once for this module
(inside a transaction rolled back at the end) and each test reads the result.
"""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from catalog.demo import CATALOGUE_FILE, load_demo, read_json
from catalog.ledger import balance_chain_problems, derived_problems, lot_sum_problems
from catalog.models import (
    ActiveSubstance,
    Category,
    Lot,
    LotStatus,
    Medicine,
    MovementKind,
    StockMovement,
    validate_atc,
    validate_gtin,
)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with transaction.atomic():
            result = load_demo()
            yield result
            transaction.set_rollback(True)


def snapshot() -> dict:
    return {
        "medicines": Medicine.objects.count(),
        "history": Medicine.history.count(),
        "lots": Lot.objects.count(),
        "movements": StockMovement.objects.count(),
        "sold": sum(Medicine.objects.values_list("number_sold", flat=True)),
        "categories": Category.objects.count(),
    }


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


def test_demo_sales_spread_over_the_last_30_days(demo, db):
    now = timezone.now()
    sales = StockMovement.objects.filter(kind=MovementKind.DISPENSE)
    assert (
        sales.count()
        == StockMovement.objects.filter(
            kind=MovementKind.DISPENSE, created_at__gte=now - datetime.timedelta(days=31)
        ).count()
    )
    days = {timezone.localtime(t).date() for t in sales.values_list("created_at", flat=True)}
    assert len(days) >= 25
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
