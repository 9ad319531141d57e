"""Data and helpers shared by the catalogue API tests (test_api_*.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import DosageForm, LocationKind, Region
from catalog.versioning import catalog_cache_bump

from .factories import (
    ActiveSubstanceFactory,
    CategoryFactory,
    LocationFactory,
    ManufacturerFactory,
    main_location,
    medicine_with,
    receive,
)

API = "/api/v1/catalog/"

# Keys that must never appear anywhere in a public response, at any depth.
FORBIDDEN_KEYS = {
    "purchase_price",
    "lot",
    "lots",
    "lot_number",
    "supplier",
    "quantity",
    "sellable_quantity",
    "number_sold",
    "reorder_level",
    "nearest_expiry",
    "search_text",
    "status_reason",
    "balance_after",
    "movements",
    "user",
    "users",
    "phone",
    "email",
    "password",
    "created_at",
    "updated_at",
}
SUPPLIER = "Grand Pharm"
# A public place's own telephone is published on purpose (the locations list,
# availability): there "phone" is the pharmacy's, never a person's.
PLACE_KEYS = {"phone"}
# What the API shows of a public place, and what availability adds.
LOCATION_KEYS = {
    "id",
    "name",
    "kind",
    "address",
    "region",
    "region_name",
    "district",
    "phone",
    "opening_hours",
    "latitude",
    "longitude",
}
AVAILABILITY_KEYS = LOCATION_KEYS | {"level"}


@pytest.fixture
def api(settings) -> Client:
    """An anonymous client with a fresh catalogue cache and a generous rate limit.

    The cache (Redis in CI) outlives the per-test database rollback, so each
    test starts a new catalogue version; its own address keeps its throttle
    counter apart from every other test's.
    """
    settings.CATALOG_API_THROTTLE_RATE = "100000/min"
    catalog_cache_bump()
    return Client(REMOTE_ADDR=f"198.51.100.{uuid.uuid4().int % 250 + 1}")


@pytest.fixture
def shop(db):
    """A small catalogue with every visibility case.

    pain (active)
      headache (active)          Tsitramon, in stock
      Panadol (in pain)          in stock, cheaper than Nurofen
      Nurofen                    prescription, out of stock
      Ghost                      inactive medicine
    hidden (inactive)
      hidden-child (active)      Lurker: invisible because its parent is
    """
    pain = CategoryFactory(name="Pain relief", slug="pain", sort_order=1)
    headache = CategoryFactory(name="Headache", slug="headache", parent=pain)
    cold = CategoryFactory(name="Cold and flu", slug="cold", sort_order=2)
    hidden = CategoryFactory(name="Hidden", slug="hidden", is_active=False)
    hidden_child = CategoryFactory(name="Hidden child", slug="hidden-child", parent=hidden)

    paracetamol = ActiveSubstanceFactory(
        inn_name="Paracetamol", name_ru="Парацетамол", name_uz="Paratsetamol", atc_codes=["N02BE01"]
    )
    ibuprofen = ActiveSubstanceFactory(inn_name="Ibuprofen", name_ru="Ибупрофен", name_uz="Ibuprofen")
    gsk = ManufacturerFactory(name="GlaxoSmithKline", country="United Kingdom")
    dori = ManufacturerFactory(name="Dori-Darmon", country="Uzbekistan")

    panadol = medicine_with(
        [(paracetamol, 500)],
        name="Panadol",
        slug="panadol",
        manufacturer=gsk,
        category=pain,
        price=Decimal("12000.00"),
        description="Tablets for pain and fever.",
        usage="One tablet up to four times a day.",
    )
    tsitramon = medicine_with(
        [(paracetamol, 500)],
        name="Tsitramon",
        slug="tsitramon",
        manufacturer=dori,
        category=headache,
        price=Decimal("8000.00"),
    )
    nurofen = medicine_with(
        [(ibuprofen, 100, "mg", Decimal("5"))],
        name="Nurofen",
        slug="nurofen",
        manufacturer=ManufacturerFactory(name="Reckitt Benckiser"),
        category=cold,
        dosage_form=DosageForm.SUSPENSION,
        is_prescription=True,
        price=Decimal("25000.00"),
    )
    ghost = medicine_with([(paracetamol, 500)], name="Ghost", slug="ghost", category=pain, is_active=False)
    lurker = medicine_with([(paracetamol, 500)], name="Lurker", slug="lurker", category=hidden_child)

    panadol_lot = receive(panadol, 40, lot_number="PAN-0001")
    receive(tsitramon, 7, lot_number="TSI-0001")
    receive(ghost, 5, lot_number="GHO-0001")
    receive(lurker, 5, lot_number="LUR-0001")
    for medicine in (panadol, tsitramon, nurofen, ghost, lurker):
        medicine.refresh_from_db()
    return {
        "categories": {
            "pain": pain,
            "headache": headache,
            "cold": cold,
            "hidden": hidden,
            "hidden_child": hidden_child,
        },
        "substances": {"paracetamol": paracetamol, "ibuprofen": ibuprofen},
        "manufacturers": {"gsk": gsk, "dori": dori},
        "panadol": panadol,
        "tsitramon": tsitramon,
        "nurofen": nurofen,
        "ghost": ghost,
        "lurker": lurker,
        "panadol_lot": panadol_lot,
    }


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


def forbidden_keys_in(value, path: str = "$", allowed: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Every forbidden key anywhere in a decoded JSON value, with its path; ``allowed`` ones excepted."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in FORBIDDEN_KEYS and key not in allowed:
                found.append(f"{path}.{key}")
            found += forbidden_keys_in(item, f"{path}.{key}", allowed)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += forbidden_keys_in(item, f"{path}[{index}]", allowed)
    return found


@pytest.fixture
def places(shop):
    """The shop's stock spread over places of every kind, through the real stock services.

    Main pharmacy (public)    Panadol 37 (40 received, 3 sent away), Tsitramon 7
    Chilonzor (public)        Panadol 2: few
    Yunusobod (public)        Panadol 25: many; 3 more on their way from Main
    Central depot             Panadol 100, not public (a warehouse that sells to nobody)
    Old town                  Panadol 5, then closed (inactive)
    In transit                Panadol 3 (Main -> Yunusobod, sent, not yet received)
    """
    from catalog.stock import transfer_create, transfer_send

    main = main_location()
    chilonzor = LocationFactory(
        name="Chilonzor",
        code="chilonzor",
        address="Bunyodkor 12",
        region=Region.TASHKENT_CITY,
        district="Chilonzor",
        phone="+998712000001",
        opening_hours="Mon–Sun 08:00–22:00",
        latitude=Decimal("41.275100"),
        longitude=Decimal("69.203400"),
    )
    yunusobod = LocationFactory(name="Yunusobod", code="yunusobod", region=Region.TASHKENT, district="Yunusobod")
    depot = LocationFactory(name="Central depot", code="depot", kind=LocationKind.WAREHOUSE, is_public=False)
    old_town = LocationFactory(name="Old town", code="old-town")
    panadol = shop["panadol"]
    receive(panadol, 2, location=chilonzor)
    receive(panadol, 25, location=yunusobod)
    receive(panadol, 100, location=depot)
    receive(panadol, 5, location=old_town)
    old_town.is_active = False
    old_town.save()
    transfer_send(transfer=transfer_create(source=main, destination=yunusobod, lines=[(panadol, 3)]))
    return {"main": main, "chilonzor": chilonzor, "yunusobod": yunusobod, "depot": depot, "old_town": old_town}
