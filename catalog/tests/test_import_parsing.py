"""Reading uploads: every row of a sheet or a CSV is read and counted, whatever its metadata or line ends say."""

import pytest

from catalog.imports.engine import import_job_create, import_job_start_check
from catalog.imports.parsing import count_data_rows, read_table
from catalog.models import ImportState, Lot
from catalog.tests.factories import MedicineFactory
from catalog.tests.import_helpers import csv_bytes, run_import, snapshot, xlsx_bytes, xlsx_declaring

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]


def receipt_rows(count: int) -> list[list]:
    return [["PARA-1", None, f"L{n}", "2027-03-31", 5, 1.5, "Grand"] for n in range(count)]


# --- item: rows a sheet's <dimension> does not declare --------------------------------------


@pytest.mark.parametrize("dimension", ["A1:F2", None], ids=["understated", "missing"])
def test_every_row_of_a_sheet_is_read_whatever_its_dimension_claims(dimension):
    data = xlsx_declaring([HEADER, *receipt_rows(300)], dimension)

    table = read_table(data, "delivery.xlsx")

    assert len(table.rows) == 300
    assert table.rows[-1][0] == 301
    # The columns past the stated F are read too: G is the supplier.
    assert table.rows[-1][1][6] == "Grand"


def test_a_sheet_understating_its_size_previews_and_applies_every_row(inventory_user):
    MedicineFactory(sku="PARA-1")
    data = xlsx_declaring([HEADER, *receipt_rows(300)], "A1:F2")

    job = run_import("receipt", data, inventory_user, filename="delivery.xlsx")

    assert job.state == ImportState.DONE, job.errors
    assert (job.total_rows, job.new_rows) == (300, 300)
    assert Lot.objects.count() == 300
    assert set(Lot.objects.values_list("supplier", flat=True)) == {"Grand"}


# --- item: the size estimate that sends large files to a worker ------------------------------


@pytest.mark.parametrize("dimension", ["A1:F2", None], ids=["understated", "missing"])
def test_the_row_estimate_of_a_sheet_does_not_trust_its_dimension(dimension):
    data = xlsx_declaring([HEADER, *receipt_rows(300)], dimension)

    assert count_data_rows(data, "delivery.xlsx") == 300


@pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_the_row_estimate_of_a_csv_does_not_depend_on_its_line_ends(line_end):
    rows = [",".join(HEADER)] + [f"PARA-1,,L{n},2027-03-31,5,1,Grand" for n in range(300)]
    data = line_end.join(rows).encode()

    assert count_data_rows(data, "delivery.csv") == 300


@pytest.mark.parametrize(
    "name, data",
    [
        ("cr-only.csv", "\r".join([",".join(HEADER)] + [f"PARA-1,,L{n},2027-03-31,5,1," for n in range(30)]).encode()),
        ("no-dimension.xlsx", xlsx_declaring([HEADER, *receipt_rows(30)], None)),
        ("understated.xlsx", xlsx_declaring([HEADER, *receipt_rows(30)], "A1:F2")),
    ],
)
def test_a_large_file_goes_to_the_worker_whatever_its_line_ends_or_dimension(inventory_user, settings, name, data):
    settings.IMPORT_ASYNC_ROWS = 10
    MedicineFactory(sku="PARA-1")
    job = import_job_create(kind="receipt", filename=name, data=data, user=inventory_user)

    job = import_job_start_check(job=job)

    assert job.task_id, "checked in the web request instead of the worker"
    assert job.state == ImportState.READY, job.errors
    assert job.total_rows == job.new_rows == 30


def test_a_csv_with_cr_line_ends_takes_its_delimiter_from_the_header_line(inventory_user):
    MedicineFactory(sku="PARA-1")
    header = ";".join(HEADER)
    # Suppliers with commas in them: more commas than semicolons in the file as a whole.
    rows = [f'PARA-1;;L{n};2027-03-31;5;1,5;"Grand Pharm, Tashkent, Chilonzor, 5, 12, 3, 1, A, B, C"' for n in range(3)]
    data = "\r".join([header, *rows]).encode()

    job = run_import("receipt", data, inventory_user)

    assert job.state == ImportState.DONE, job.errors
    assert set(Lot.objects.values_list("supplier", flat=True)) == {
        "Grand Pharm, Tashkent, Chilonzor, 5, 12, 3, 1, A, B, C"
    }


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1 << 20])
def test_row_tags_cut_by_a_chunk_boundary_are_counted_once(chunk_size):
    from catalog.imports.parsing import _count_sheet_rows

    data = xlsx_declaring([HEADER, *receipt_rows(40)], None)

    assert _count_sheet_rows(data, chunk_size=chunk_size) == 41


# --- which 8-bit text a CSV is -------------------------------------------------------------


def receipt_csv(supplier: str, encoding: str, *, lot: str = "L1") -> bytes:
    return csv_bytes(
        [HEADER, ["PARA-1", "", lot, "2027-03-31", "3", "100", supplier]], delimiter=";", encoding=encoding
    )


@pytest.mark.parametrize(
    "supplier", ["Müller Größe", "Ärzte-Großhandel Süd", "Société Pharmacie à Genève", "Farmacéutica Peña"]
)
def test_a_latin_1_csv_is_refused_naming_the_encodings_accepted(inventory_user, supplier):
    MedicineFactory(sku="PARA-1")
    before = snapshot()

    job = run_import("receipt", receipt_csv(supplier, "latin-1"), inventory_user)

    assert job.state == ImportState.INVALID
    message = job.errors[0]["message"]
    assert "UTF-8" in message and "Windows-1251" in message
    assert snapshot() == before


@pytest.mark.parametrize(
    "supplier, lot",
    [
        ("ООО «Гранд Фарм», Тошкент", "Л-1"),
        ("O‘zbekiston dori-darmon, G‘alla-Orol tumani", "L1"),
        ("Oʼzbekiston – «Nika Pharm» №2", "L1"),
        # One lot number typed half in the Latin layout among Cyrillic text is still Cyrillic text.
        ("ООО «Гранд Фарм»", "АB-12"),
    ],
)
def test_russian_and_uzbek_latin_csvs_in_windows_1251_still_import(inventory_user, supplier, lot):
    MedicineFactory(sku="PARA-1")
    supplier_in_1251 = supplier.replace("ʼ", "’")  # ʼ has no Windows-1251 byte; a typist uses ’

    job = run_import("receipt", receipt_csv(supplier_in_1251, "cp1251", lot=lot), inventory_user)

    assert job.state == ImportState.DONE, job.errors
    assert Lot.objects.get(lot_number=lot).supplier == supplier_in_1251


def test_an_xlsx_whose_sheet_breaks_off_half_way_is_refused_with_a_message(inventory_user):
    import io
    import zipfile

    # With its <dimension> in place the workbook opens; the break is met while reading rows.
    good = xlsx_bytes([HEADER, *receipt_rows(50)])
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]  # the XML stops mid-element, rows read before it
            target.writestr(info.filename, content)
    before = snapshot()

    job = run_import("receipt", out.getvalue(), inventory_user, filename="broken.xlsx")

    assert job.state == ImportState.INVALID, job.message
    assert "Excel file" in job.errors[0]["message"]
    assert snapshot() == before
