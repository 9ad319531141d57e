import datetime
from decimal import Decimal

import pytest

from catalog.imports.parsing import parse_date, parse_decimal
from catalog.models import ImportState, Lot, MovementKind, StockMovement
from catalog.tests.factories import MedicineFactory, receive
from catalog.tests.import_helpers import csv_bytes, run_import, snapshot, xlsx_bytes
from conftest import requires_postgres

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2027-03-31", datetime.date(2027, 3, 31)),
        ("31.03.2027", datetime.date(2027, 3, 31)),
        ("03/2027", datetime.date(2027, 3, 31)),
        ("02.2028", datetime.date(2028, 2, 29)),
        (datetime.datetime(2027, 1, 5, 0, 0), datetime.date(2027, 1, 5)),
    ],
)
def test_expiry_dates_are_read_in_every_supported_spelling(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12 500,50", "12500.50"),
        ("12,500.50", "12500.50"),
        ("12500", "12500"),
        ("12\u00a0500", "12500"),
        ("12.500,50", "12500.50"),
        (8400.5, "8400.5"),
        (7, "7"),
    ],
)
def test_numbers_are_read_with_space_or_comma_grouping(text, expected):
    assert parse_decimal(text) == Decimal(expected)


def test_a_receipt_creates_lots_ledger_rows_and_history_attributed_to_the_importer(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    other = MedicineFactory()
    data = csv_bytes(
        [
            HEADER,
            ["PARA-1", "", "L1", "31.03.2027", "12", "12 500,50", "Grand Pharm"],
            ["", other.barcode, "L2", "03/2027", "5", "8400", ""],
        ]
    )

    job = run_import("receipt", data, inventory_user)

    assert job.state == ImportState.DONE, job.errors
    assert (job.new_rows, job.updated_rows, job.error_rows) == (2, 0, 0)
    lot = Lot.objects.get(medicine=medicine, lot_number="L1")
    assert (lot.quantity, lot.expiry_date, lot.purchase_price) == (12, datetime.date(2027, 3, 31), Decimal("12500.50"))
    assert Lot.objects.get(medicine=other).expiry_date == datetime.date(2027, 3, 31)
    movement = StockMovement.objects.get(lot=lot)
    assert (movement.kind, movement.quantity, movement.balance_after) == (MovementKind.RECEIPT, 12, 12)
    assert (movement.user, movement.reference) == (inventory_user, f"import:{job.pk}")
    assert lot.history.get().history_user == inventory_user
    medicine.refresh_from_db()
    assert (medicine.sellable_quantity, medicine.nearest_expiry) == (12, datetime.date(2027, 3, 31))
    assert job.applied_by == inventory_user


def test_receipt_into_an_existing_lot_adds_stock_as_lot_receive_does(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", expires_in_days=300)

    job = run_import(
        "receipt",
        csv_bytes([HEADER, ["PARA-1", "", "L1", lot.expiry_date.isoformat(), "5", "100", "X"]], delimiter=";"),
        inventory_user,
    )

    assert job.state == ImportState.DONE, job.errors
    assert job.updated_rows == 1
    lot.refresh_from_db()
    assert lot.quantity == 15
    assert list(lot.movements.order_by("pk").values_list("quantity", "balance_after")) == [(10, 10), (5, 15)]
    assert lot.history.first().history_user == inventory_user


def test_an_xlsx_receipt_is_read_in_streaming_mode(inventory_user):
    MedicineFactory(sku="PARA-1")
    data = xlsx_bytes([HEADER, ["PARA-1", None, "L1", datetime.datetime(2027, 3, 31), 7, 1500.5, "Grand"]])

    job = run_import("receipt", data, inventory_user, filename="delivery.xlsx")

    assert job.state == ImportState.DONE, job.errors
    assert Lot.objects.get(lot_number="L1").quantity == 7


def test_a_utf8_bom_and_semicolons_are_understood(inventory_user):
    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "3", "1,5", "Поставщик"]], delimiter=";", bom=True)

    job = run_import("receipt", data, inventory_user)

    assert job.state == ImportState.DONE, job.errors
    lot = Lot.objects.get(lot_number="L1")
    assert (lot.supplier, lot.purchase_price) == ("Поставщик", Decimal("1.5"))


def test_a_windows_1251_file_is_decoded(inventory_user):
    MedicineFactory(sku="ПАРА-1")
    data = csv_bytes(
        [HEADER, ["ПАРА-1", "", "Л-1", "2027-03-31", "3", "100", "ООО «Гранд Фарм»"]], delimiter=";", encoding="cp1251"
    )

    job = run_import("receipt", data, inventory_user)

    assert job.state == ImportState.DONE, job.errors
    assert Lot.objects.get(lot_number="Л-1").supplier == "ООО «Гранд Фарм»"


MALFORMED = [
    (
        "unknown column",
        [HEADER + ["colour"], ["PARA-1", "", "L1", "2027-03-31", "1", "1", "", "red"]],
        "Unknown columns: colour",
    ),
    (
        "missing column",
        [["sku", "lot_number", "quantity", "purchase_price"], ["PARA-1", "L1", "1", "1"]],
        "Missing columns: expiry_date",
    ),
    ("zero quantity", [HEADER, ["PARA-1", "", "L1", "2027-03-31", "0", "1", ""]], "greater than zero"),
    ("negative quantity", [HEADER, ["PARA-1", "", "L1", "2027-03-31", "-4", "1", ""]], "greater than zero"),
    ("fractional quantity", [HEADER, ["PARA-1", "", "L1", "2027-03-31", "1,5", "1", ""]], "whole number"),
    ("past expiry", [HEADER, ["PARA-1", "", "L1", "2026-05-31", "1", "1", ""]], "expires on 2026-05-31"),
    ("expiry today", [HEADER, ["PARA-1", "", "L1", "2026-06-01", "1", "1", ""]], "expires on 2026-06-01"),
    ("bad date", [HEADER, ["PARA-1", "", "L1", "31/31/2027", "1", "1", ""]], "is not a date"),
    ("bad month", [HEADER, ["PARA-1", "", "L1", "13/2027", "1", "1", ""]], "is not a month"),
    ("bad number", [HEADER, ["PARA-1", "", "L1", "2027-03-31", "1", "abc", ""]], "is not a number"),
    ("negative price", [HEADER, ["PARA-1", "", "L1", "2027-03-31", "1", "-1", ""]], "cannot be negative"),
    ("unknown sku", [HEADER, ["NOPE-9", "", "L1", "2027-03-31", "1", "1", ""]], "Unknown SKU “NOPE-9”"),
    ("unknown barcode", [HEADER, ["", "4780000009999", "L1", "2027-03-31", "1", "1", ""]], "Unknown barcode"),
    ("no medicine", [HEADER, ["", "", "L1", "2027-03-31", "1", "1", ""]], "SKU or barcode"),
    ("empty lot", [HEADER, ["PARA-1", "", "", "2027-03-31", "1", "1", ""]], "This cell is empty"),
    (
        "duplicate line",
        [HEADER, ["PARA-1", "", "L1", "2027-03-31", "1", "1", ""], ["PARA-1", "", "L1", "2027-03-31", "2", "1", ""]],
        "already on line 3",
    ),
    (
        "other expiry for existing lot",
        [HEADER, ["PARA-1", "", "OLD", "2028-01-31", "1", "1", ""]],
        "already exists with expiry date",
    ),
    ("only header", [HEADER], "no rows below the header"),
]


@pytest.mark.parametrize("name, rows, message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_receipt_is_refused_with_its_message_and_writes_nothing(inventory_user, name, rows, message):
    medicine = MedicineFactory(sku="PARA-1")
    receive(medicine, 4, lot_number="OLD", expires_in_days=200)
    # One good row beside the bad one: it must not be written either.
    good = ["PARA-1", "", "GOOD", "2027-03-31", "9", "1", ""] if len(rows) > 1 and rows[0] == HEADER else None
    if good:
        rows = [rows[0], good, *rows[1:]]
    before = snapshot()

    job = run_import("receipt", csv_bytes(rows), inventory_user)

    assert job.state == ImportState.INVALID
    messages = " | ".join(e["message"] for e in job.errors)
    assert message in messages
    assert snapshot() == before


def test_errors_name_the_line_and_the_column(inventory_user):
    MedicineFactory(sku="PARA-1")
    data = csv_bytes(
        [HEADER, ["PARA-1", "", "L1", "2027-03-31", "1", "1", ""], ["PARA-1", "", "L2", "x", "0", "1", ""]]
    )

    job = run_import("receipt", data, inventory_user)

    assert {(e["line"], e["column"]) for e in job.errors} == {(3, "expiry_date"), (3, "quantity")}
    assert (job.new_rows, job.error_rows) == (1, 1)


def test_a_file_that_is_not_text_nor_cp1251_is_refused_with_a_message(inventory_user):
    data = bytes(range(128, 256)) * 20
    job = run_import("receipt", data, inventory_user)
    assert job.state == ImportState.INVALID
    assert "UTF-8" in job.errors[0]["message"]


def test_an_xlsx_decompression_bomb_is_refused_unopened(inventory_user, settings):
    import io
    import zipfile

    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 5 * 1024 * 1024
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    before = snapshot()

    job = run_import("receipt", out.getvalue(), inventory_user, filename="bomb.xlsx")

    assert job.state == ImportState.INVALID
    assert "refused unopened" in job.errors[0]["message"]
    assert snapshot() == before


def test_too_many_rows_are_refused(inventory_user, settings):
    settings.IMPORT_MAX_ROWS = 2
    MedicineFactory(sku="PARA-1")
    rows = [HEADER] + [["PARA-1", "", f"L{i}", "2027-03-31", "1", "1", ""] for i in range(3)]
    job = run_import("receipt", csv_bytes(rows), inventory_user)
    assert job.state == ImportState.INVALID
    assert "more than 2 rows" in job.errors[0]["message"]


def test_too_large_a_file_is_refused_before_it_is_kept(inventory_user, settings):
    from catalog.imports.engine import import_job_create
    from catalog.imports.parsing import FileRejected

    settings.IMPORT_MAX_FILE_BYTES = 100
    with pytest.raises(FileRejected, match="limit"):
        import_job_create(kind="receipt", filename="big.csv", data=b"sku\n" + b"x\n" * 100, user=inventory_user)


def test_the_same_file_twice_is_refused_unless_confirmed(inventory_user):
    from catalog.imports.engine import ImportNotAllowed

    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "2", "1", ""]])
    first = run_import("receipt", data, inventory_user)
    assert first.state == ImportState.DONE

    with pytest.raises(ImportNotAllowed, match="already imported"):
        run_import("receipt", data, inventory_user)
    assert Lot.objects.get().quantity == 2

    again = run_import("receipt", data, inventory_user, confirm_duplicate=True)
    assert again.state == ImportState.DONE and again.duplicate_of == first
    assert Lot.objects.get().quantity == 4


def test_the_preview_is_stored_on_the_job_for_any_process(inventory_user):
    from catalog.imports.engine import import_job_check, import_job_create

    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "2", "1", ""]])
    job = import_job_create(kind="receipt", filename="a.csv", data=data, user=inventory_user)
    import_job_check(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == ImportState.READY
    assert job.preview["rows"][0]["status"] == "new"
    assert job.file.storage.exists(job.file.name)
    assert job.checksum and len(job.checksum) == 64
    assert not Lot.objects.exists()


def _checked(data, user):
    from catalog.imports.engine import import_job_check, import_job_create

    job = import_job_create(kind="receipt", filename="file.csv", data=data, user=user, language="en")
    return import_job_check(job_id=job.pk)


def test_a_second_upload_of_a_file_still_being_applied_is_held_as_a_duplicate(inventory_user):
    from catalog.imports.engine import ImportNotAllowed, import_job_apply, import_job_confirm

    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    first, second = _checked(data, inventory_user), _checked(data, inventory_user)
    # The first was confirmed and handed to the worker (a large file): applying, not done yet.
    first.__class__.objects.filter(pk=first.pk).update(state=ImportState.APPLYING, applied_by=inventory_user)

    with pytest.raises(ImportNotAllowed, match="being applied right now"):
        import_job_confirm(job=second, user=inventory_user)
    second.refresh_from_db()
    assert second.state == ImportState.READY and second.duplicate_of == first

    import_job_apply(job_id=first.pk)
    assert Lot.objects.get().quantity == 5
    # Once the first is done, the second is the ordinary duplicate: refused unless ticked.
    with pytest.raises(ImportNotAllowed, match="already imported"):
        import_job_confirm(job=second, user=inventory_user)
    assert import_job_confirm(job=second, user=inventory_user, confirm_duplicate=True).state == ImportState.DONE
    assert Lot.objects.get().quantity == 10


def test_import_it_again_is_refused_while_the_same_file_is_being_applied(inventory_user):
    from catalog.imports.engine import ImportNotAllowed, import_job_confirm

    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    done = run_import("receipt", data, inventory_user)
    applying = run_import("receipt", data, inventory_user, confirm_duplicate=True)
    applying.__class__.objects.filter(pk=applying.pk).update(state=ImportState.APPLYING, applied_at=None)
    third = _checked(data, inventory_user)
    assert third.duplicate_of == applying

    with pytest.raises(ImportNotAllowed, match="being applied right now"):
        import_job_confirm(job=third, user=inventory_user, confirm_duplicate=True)
    third.refresh_from_db()
    assert third.state == ImportState.READY and done.pk != third.duplicate_of_id == applying.pk


def test_an_upload_while_the_same_file_is_being_applied_shows_it_on_its_page(staff_client, inventory_user):
    from django.urls import reverse

    from accounts.roles import Role

    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    first = _checked(data, inventory_user)
    first.__class__.objects.filter(pk=first.pk).update(state=ImportState.APPLYING, applied_by=inventory_user)
    second = _checked(data, inventory_user)

    response = staff_client(Role.INVENTORY).get(reverse("admin:catalog_importjob_preview", args=[second.pk]))
    assert "This exact file is being applied right now" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@requires_postgres
def test_two_confirmations_of_two_uploads_of_the_same_file_at_once_apply_it_once(inventory_user, monkeypatch):
    import threading
    import time

    from django.db import connection

    from catalog.imports import engine
    from catalog.imports.engine import ImportNotAllowed, import_job_confirm

    # A pause between the duplicate check and the claim: without a lock both would pass it every time.
    check = engine._earlier_applied

    def slow_check(*args, **kwargs):
        found = check(*args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(engine, "_earlier_applied", slow_check)
    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    jobs = [_checked(data, inventory_user), _checked(data, inventory_user)]
    barrier = threading.Barrier(len(jobs))
    outcomes = [""] * len(jobs)

    def confirm(index, job):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = import_job_confirm(job=job, user=inventory_user).state
        except ImportNotAllowed:
            outcomes[index] = "refused"
        except Exception as exc:  # a deadlock or anything else fails the test below
            outcomes[index] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a confirmation is stuck"

    assert sorted(outcomes) == sorted([ImportState.DONE, "refused"]), outcomes
    assert Lot.objects.get().quantity == 5
    assert StockMovement.objects.filter(kind=MovementKind.RECEIPT).count() == 1
