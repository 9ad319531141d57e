"""Helpers of the import tests: build files, run the flow, snapshot what the database holds."""

import csv
import io

from catalog.imports.engine import import_job_check, import_job_confirm, import_job_create
from catalog.models import Lot, Medicine, MedicineSubstance, StockMovement


def csv_bytes(rows: list[list], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_import(
    kind: str, data: bytes, user, *, filename: str = "file.csv", confirm: bool = True, location=None, **confirm_kwargs
):
    job = import_job_create(kind=kind, filename=filename, data=data, user=user, language="en", location=location)
    job = import_job_check(job_id=job.pk)
    if confirm and job.state == "ready":
        job = import_job_confirm(job=job, user=user, **confirm_kwargs)
    job.refresh_from_db()
    return job


def as_read(errors: list[dict]) -> list[dict]:
    """A job's errors as a reader sees them: line, column and the message (not the stored message id)."""
    return [{key: error[key] for key in ("line", "column", "message")} for error in errors]


def snapshot() -> dict:
    """Everything an import could write, to compare before and after a refused file."""
    return {
        "lots": list(Lot.objects.order_by("pk").values_list("pk", "quantity", "supplier", "status")),
        "movements": StockMovement.objects.count(),
        "lot_history": Lot.history.count(),
        "medicines": list(Medicine.objects.order_by("pk").values_list("pk", "name", "price", "sellable_quantity")),
        "medicine_history": Medicine.history.count(),
        "links": MedicineSubstance.objects.count(),
    }


def xlsx_declaring(rows: list[list], dimension: str | None) -> bytes:
    """An XLSX whose sheet declares ``<dimension ref="...">`` = ``dimension`` (none at all for ``None``).

    Some writers (accounting exports, scripts) leave the tag out or write a stale
    one; openpyxl writes the true one, so it is edited inside the zip here.
    """
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                tag = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
                content, found = re.subn(rb"<dimension [^>]*/>", tag, content, count=1)
                assert found == 1, "openpyxl wrote no dimension to replace"
            target.writestr(info.filename, content)
    return out.getvalue()
