"""The database itself refuses what must never happen, whatever code writes the row."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from catalog.models import Lot, MedicineSubstance, MovementKind, StockMovement

from .factories import ActiveSubstanceFactory, MedicineFactory, days, receive

pytestmark = pytest.mark.django_db


def refused(fn) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_a_lot_quantity_can_never_go_negative():
    lot = receive(MedicineFactory(), 5)
    refused(lambda: Lot.objects.filter(pk=lot.pk).update(quantity=-1))
    lot.refresh_from_db()
    assert lot.quantity == 5


def test_a_lot_number_is_unique_per_medicine_but_not_across_medicines():
    medicine = MedicineFactory()
    receive(medicine, 5, lot_number="X1")
    lot = Lot(
        medicine=medicine,
        lot_number="X1",
        expiry_date=days(100),
        received_date=days(0),
        purchase_price=Decimal("1"),
    )
    refused(lot.save)
    receive(MedicineFactory(), 5, lot_number="X1")
    assert Lot.objects.filter(lot_number="X1").count() == 2


def test_a_lot_with_stock_must_expire_after_it_was_received():
    lot = Lot(
        medicine=MedicineFactory(),
        lot_number="Y",
        expiry_date=days(0),
        received_date=days(0),
        quantity=3,
        purchase_price=Decimal("1"),
    )
    refused(lot.save)


def test_prices_cannot_be_negative():
    medicine = MedicineFactory()
    refused(lambda: type(medicine).objects.filter(pk=medicine.pk).update(price=Decimal("-1")))
    lot = receive(medicine, 1)
    refused(lambda: Lot.objects.filter(pk=lot.pk).update(purchase_price=Decimal("-0.01")))


def test_a_movement_has_a_non_zero_quantity_and_a_non_negative_balance():
    lot = receive(MedicineFactory(), 5)
    refused(lambda: StockMovement.objects.create(lot=lot, kind=MovementKind.ADJUSTMENT, quantity=0, balance_after=5))
    refused(lambda: StockMovement.objects.create(lot=lot, kind=MovementKind.DISPENSE, quantity=-6, balance_after=-1))


def test_a_substance_appears_once_per_medicine_with_a_positive_strength():
    medicine = MedicineFactory()
    substance = ActiveSubstanceFactory()
    MedicineSubstance.objects.create(medicine=medicine, substance=substance, strength=Decimal("500"))
    refused(lambda: MedicineSubstance.objects.create(medicine=medicine, substance=substance, strength=Decimal("250")))
    refused(
        lambda: MedicineSubstance.objects.create(
            medicine=medicine, substance=ActiveSubstanceFactory(), strength=Decimal("0")
        )
    )


def test_a_lot_with_movements_cannot_be_deleted():
    lot = receive(MedicineFactory(), 5)

    with pytest.raises(ProtectedError):
        lot.delete()
    assert Lot.objects.filter(pk=lot.pk).exists()
