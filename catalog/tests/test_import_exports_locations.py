"""Stock exports by place, in packs and parts; and a refusal by the stock core at the write."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from catalog.exceptions import CatalogError, LinesRefused, RefusedLine
from catalog.formatting import format_units
from catalog.models import ImportState, Lot
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from catalog.tests.import_helpers import csv_bytes, run_import, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]


@pytest.mark.parametrize(
    "units, parts_per_pack, part_name, shown",
    [
        (3, 1, "", "3 packs"),
        (1, 1, "", "1 pack"),
        (7, 2, "blister", "3 packs + 1 blister"),
        (1, 2, "blister", "1 blister"),
        (14, 5, "", "2 packs + 4 parts"),
        (0, 10, "ampoule", "0 packs"),
        (12000, 1, "", "12\u00a0000 packs"),
    ],
)
def test_units_are_shown_as_packs_and_loose_parts(units, parts_per_pack, part_name, shown):
    assert format_units(units, parts_per_pack, part_name) == shown


def exported(client, dataset: str, **query) -> list[list[str]]:
    url = reverse("admin:catalog_importjob_export_file", args=[dataset, "csv"])
    response = client.get(url, query)
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def two_places():
    main = main_location()
    branch = LocationFactory(code="chilonzor", name="Chilonzor pharmacy")
    medicine = MedicineFactory(sku="BLI-1", parts_per_pack=2, part_name="blister", reorder_level=4)
    receive(medicine, 7, lot_number="L1", location=main, expires_in_days=30, price="1000")
    receive(medicine, 2, lot_number="L1", location=branch, expires_in_days=30, price="1000")
    return main, branch


def test_stock_exports_list_the_members_places_by_default(staff_client, two_places):
    main, _branch = two_places
    client = staff_client(Role.INVENTORY)  # works at the main pharmacy only

    lots = exported(client, "lots")
    stock = exported(client, "stock")
    expiry = exported(client, "expiry")

    assert lots[0][:5] == ["sku", "barcode", "medicine", "location", "lot_number"]
    assert [(row[3], row[8], row[9], row[10]) for row in lots[1:]] == [("main", "3", "1", "3 packs + 1 blister")]
    assert stock[0][:5] == ["location", "sku", "name", "sellable_quantity", "sellable"]
    assert [row[:5] for row in stock[1:]] == [["main", "BLI-1", stock[1][2], "7", "3 packs + 1 blister"]]
    # The purchase price is a pack's: 7 blisters of a 2-blister pack at 1000 are worth 3500.
    assert [(row[2], row[7], row[9]) for row in expiry[1:]] == [("main", "7", "3500.00")]


def test_the_administrator_exports_every_place_or_the_one_asked_for(staff_client, two_places):
    _main, branch = two_places
    client = staff_client(Role.ADMIN)

    assert sorted(row[3] for row in exported(client, "lots")[1:]) == ["chilonzor", "main"]
    assert [row[3] for row in exported(client, "lots", location=branch.pk)[1:]] == ["chilonzor"]
    stock = exported(client, "stock", location=branch.pk)
    assert [(row[0], row[3], row[7]) for row in stock[1:]] == [("chilonzor", "2", "low")]


def test_another_places_stock_is_not_exported(staff_client, two_places):
    _main, branch = two_places
    client = staff_client(Role.INVENTORY)
    url = reverse("admin:catalog_importjob_export_file", args=["stock", "csv"])

    assert client.get(url, {"location": branch.pk}).status_code == 403
    assert client.get(url, {"location": "x"}).status_code == 403


def test_the_export_form_offers_the_members_places(staff_client, two_places):
    main, _branch = two_places
    client = staff_client(Role.INVENTORY)

    page = client.get(reverse("admin:catalog_importjob_export")).content.decode()
    response = client.post(
        reverse("admin:catalog_importjob_export"), {"dataset": "stock", "file_format": "csv", "location": main.pk}
    )

    assert "Main pharmacy" in page and "Chilonzor pharmacy" not in page
    assert response["Location"].endswith(f"stock.csv?location={main.pk}")


def test_a_refusal_by_the_stock_core_at_the_write_ends_the_job_invalid_with_its_words(inventory_user, monkeypatch):
    from catalog.imports import receipt

    MedicineFactory(sku="PARA-1")

    def refuse(**kwargs):
        Lot.objects.update(supplier="written before the refusal")  # must be rolled back with the rest
        raise LinesRefused([RefusedLine(2, CatalogError("The lot was recalled a moment ago."))])

    monkeypatch.setattr(receipt, "lots_receive_bulk", refuse)
    receive(MedicineFactory(sku="OTHER"), 1, lot_number="X")
    before = snapshot()

    job = run_import(
        "receipt",
        csv_bytes(
            [
                ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"],
                ["PARA-1", "", "L1", "2027-03-31", "1", "1", ""],
            ]
        ),
        inventory_user,
    )

    assert job.state == ImportState.INVALID
    assert job.errors == [{"line": 2, "column": "", "message": "The lot was recalled a moment ago."}]
    assert job.error_rows == 1
    assert snapshot() == before
    assert Lot.objects.get().purchase_price == Decimal("5000")


@pytest.mark.parametrize(
    ("language", "words"),
    [("uz", ("yetarli", "ha")), ("ru", ("в норме", "да")), ("en", ("ok", "yes"))],
)
def test_an_export_writes_states_and_yes_no_in_its_own_language(staff_client, two_places, language, words):
    state_word, yes = words
    client = staff_client(Role.INVENTORY)
    client.cookies["django_language"] = language
    response = client.get(reverse("admin:catalog_importjob_export_file", args=["stock", "csv"]))

    # The rows are made while the response streams: whatever language is active by then.
    with translation.override("en" if language != "en" else "ru"):
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    header = rows[0]
    state, active = header.index("stock_state"), header.index("active")
    assert [(row[state], row[active]) for row in rows[1:]] == [(state_word, yes)]
