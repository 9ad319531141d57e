"""Factories for catalogue tests. Stock always goes through the services (``receive``)."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import (
    ActiveSubstance,
    Category,
    DosageForm,
    Location,
    LocationKind,
    Manufacturer,
    Medicine,
    MedicineSubstance,
    gtin_check_digit,
)


def gtin13(n: int) -> str:
    """A valid EAN-13 built from ``n`` (GS1 mod-10 check digit)."""
    body = f"478{n:09d}"
    return body + gtin_check_digit(body)


MAIN_LOCATION = {"code": "main", "name": "Main pharmacy", "kind": LocationKind.BRANCH}


def main_location() -> Location:
    """The one place of a one-pharmacy business: where ``receive`` puts stock and where test staff work."""
    location, _ = Location.objects.get_or_create(code=MAIN_LOCATION["code"], defaults=MAIN_LOCATION)
    return location


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Branch {n}")
    code = factory.Sequence(lambda n: f"branch-{n}")
    kind = LocationKind.BRANCH
    district = "Chilonzor"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manufacturer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Maker {n}")
    country = "Uzbekistan"


class ActiveSubstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActiveSubstance
        django_get_or_create = ("inn_name",)

    inn_name = factory.Sequence(lambda n: f"Substancium {n}")
    name_ru = ""
    name_uz = ""
    atc_codes = factory.LazyFunction(list)


class MedicineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Medicine

    name = factory.Sequence(lambda n: f"Medicine {n}")
    slug = factory.Sequence(lambda n: f"medicine-{n}")
    manufacturer = factory.SubFactory(ManufacturerFactory)
    category = factory.SubFactory(CategoryFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    barcode = factory.Sequence(lambda n: gtin13(n))
    dosage_form = DosageForm.TABLET
    pack_size = 20
    price = Decimal("10000.00")


class MedicineSubstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicineSubstance

    medicine = factory.SubFactory(MedicineFactory)
    substance = factory.SubFactory(ActiveSubstanceFactory)
    strength = Decimal("500")
    unit = "mg"
    per_volume_ml = None


def medicine_with(substances, *, dosage_form=DosageForm.TABLET, **kwargs) -> Medicine:
    """A medicine with ``substances``: a list of ``(ActiveSubstance, strength)`` or
    ``(ActiveSubstance, strength, unit, per_volume_ml)``."""
    medicine = MedicineFactory(dosage_form=dosage_form, **kwargs)
    for item in substances:
        substance, strength, *rest = item
        unit = rest[0] if rest else "mg"
        per_volume = rest[1] if len(rest) > 1 else None
        MedicineSubstanceFactory(
            medicine=medicine, substance=substance, strength=Decimal(str(strength)), unit=unit, per_volume_ml=per_volume
        )
    return medicine


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def receive(medicine, quantity, *, expires_in_days=365, lot_number=None, user=None, price="5000", location=None):
    """Stock ``medicine`` through the real receipt service (at the main location unless told)."""
    from catalog.stock import lot_receive

    receive.counter += 1
    return lot_receive(
        location=location or main_location(),
        medicine=medicine,
        lot_number=lot_number or f"L{receive.counter:05d}",
        expiry_date=days(expires_in_days),
        quantity=quantity,
        purchase_price=Decimal(price),
        supplier="Grand Pharm",
        user=user,
    )


receive.counter = 0
