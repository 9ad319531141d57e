"""Reading uploaded spreadsheets and parsing their cells.

CSV files come from Excel, LibreOffice and Russian-language accounting
software: UTF-8 with or without a BOM, or Windows-1251; comma or semicolon
delimited (Excel in ru/uz locales writes semicolons). XLSX files are read with
openpyxl in read-only (streaming) mode after checking the zip's declared
uncompressed sizes, so a decompression bomb is refused before it is opened.

Cells: dates as ``2027-03-31``, ``31.03.2027`` or a month ``03/2027``/``03.2027``
(= the last day of that month, as packs print it); numbers with space, comma or
dot grouping and a comma or dot decimal separator (``12 500,50``, ``12,500.50``).
"""

from __future__ import annotations

import calendar
import csv
import functools
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext_lazy

from backoffice.exceptions import DomainError
from catalog.imports.messages import deferred as _  # stored, put into words when read


class FileRejected(DomainError):
    """The whole file is refused (format, size, encoding, header); ``message`` is translated."""

    code = "file_rejected"


class CellError(DomainError, ValueError):
    """One cell cannot be read; ``message`` is the stored message, put into words when read
    (``catalog.imports.messages``): the plan keeps it as it is for whoever reads the errors later."""

    code = "cell_invalid"

    @property
    def message(self):
        return self._message

    def __str__(self) -> str:
        return str(self._message)


@dataclass
class Table:
    """A header and its data rows. ``rows`` holds ``(line_number, cells)``; line 1 is the header."""

    header: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)
    file_format: str = "csv"
    encoding: str = ""
    delimiter: str = ""


def max_file_bytes() -> int:
    return settings.IMPORT_MAX_FILE_BYTES


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def detect_format(filename: str, data: bytes) -> str:
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.endswith((".xlsx", ".xlsm")):
        raise FileRejected(_("The file is named .xlsx but is not an Excel workbook."))
    if name.endswith(".xls"):
        raise FileRejected(_("Old Excel files (.xls) are not supported: save the sheet as .xlsx or CSV."))
    return "csv"


def read_table(data: bytes, filename: str) -> Table:
    if len(data) > max_file_bytes():
        raise FileRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(len(data) / 1048576, 1), "limit": round(max_file_bytes() / 1048576, 1)}
        )
    if not data.strip():
        raise FileRejected(_("The file is empty."))
    if detect_format(filename, data) == "xlsx":
        return read_xlsx(data)
    return read_csv(data)


# --- CSV --------------------------------------------------------------------

_CP1251_LETTERS = re.compile(r"[\u0400-\u04ff\u2116]")
# Characters a Windows-1251 decode yields from bytes that are almost never in a
# real Russian/Uzbek text file (box drawing, rare Serbian/Macedonian letters).
_CP1251_UNLIKELY = set("ЂЃ‚ѓ„…†‡€‰Љ‹ЊЌЋЏђ‘’“”•–—™љ›њќћџЎўЈ¤Ґ¦§Ё©Є«¬®Ї°±Ііґµ¶·ё№є»јЅѕї")
_CP1251_TOLERATED = set("«»—–№“”‘’…•°Ёё§©®±µ")


# One refusal for every 8-bit file that is not what we read, naming what we do.
ENCODING_REFUSED = gettext_lazy(
    "The file's text is not in an encoding the import reads: UTF-8 (with or without BOM), UTF-16 with BOM, or "
    'Windows-1251 (Russian or Uzbek). Save it as "CSV UTF-8" and upload it again.'
)
_CYRILLIC_RUN = re.compile(r"[\u0400-\u04ff]+")


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)``: UTF-8 (BOM or not) first, strictly; then Windows-1251 if it reads as Cyrillic text."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRejected(_("The file starts as UTF-8 but contains bytes that are not UTF-8.")) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise FileRejected(_("The file is not valid UTF-16 text.")) from exc
    if b"\x00" in data[:4096]:
        raise FileRejected(_('This is not a text CSV file: save it as "CSV UTF-8" or as .xlsx.'))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise FileRejected(ENCODING_REFUSED) from exc
    if not _reads_as_cyrillic(text):
        raise FileRejected(ENCODING_REFUSED)
    return text, "cp1251"


def _reads_as_cyrillic(text: str) -> bool:
    """Whether 8-bit text decoded as Windows-1251 is really Russian/Uzbek text, not another code page.

    Every byte decodes under 1251, so the question is what the letters look like.
    Real 1251 text is Cyrillic letters and a little typography (Uzbek Latin is
    ASCII with ‘ ’ apostrophes); bytes of another encoding read as 1251 give a
    scatter of rare letters and symbols. Latin-1/Windows-1252 text is subtler:
    its accented letters land on ordinary Cyrillic ones (ü -> ь, ö -> ц, ß -> Я),
    but inside Latin words: "Müller Größe" reads "Mьller GrцЯe". A Russian
    word is Cyrillic through and through, so when most runs of Cyrillic letters
    touch a Latin letter, the text is not Cyrillic. (A lot number typed half in
    the Latin layout among Cyrillic text stays the minority.)
    """
    counts = Counter(text)  # C speed; the checks below then go over distinct characters only
    non_ascii = {ch: n for ch, n in counts.items() if ord(ch) > 127}
    if not non_ascii:
        return True
    letters = sum(n for ch, n in non_ascii.items() if _CP1251_LETTERS.match(ch) and ch not in _CP1251_UNLIKELY)
    tolerated = sum(n for ch, n in non_ascii.items() if ch in _CP1251_TOLERATED)
    if (letters + tolerated) / sum(non_ascii.values()) < 0.95:
        return False
    runs = mixed = 0
    end_of_text = len(text)
    for match in _CYRILLIC_RUN.finditer(text):
        runs += 1
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < end_of_text else ""
        if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
            mixed += 1
    return mixed * 2 <= runs


_LINE_END = re.compile(r"\r\n|\r|\n")


def detect_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    # The header line, whichever line end the file uses (old Mac and some exporters write CR only).
    first_line = _LINE_END.split(text, maxsplit=1)[0]
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise FileRejected(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise FileRejected(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc
    table = Table(header=[h.strip() for h in header], file_format="csv", encoding=encoding, delimiter=delimiter)
    limit = max_rows()
    rows = table.rows
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(rows) >= limit:
                raise FileRejected(
                    _("The file has more than %(limit)s rows: split it into smaller files.") % {"limit": limit}
                )
            rows.append((line, cells))
    except csv.Error as exc:
        raise FileRejected(
            _("The CSV file cannot be read at line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from exc
    del text
    return table


# --- XLSX -------------------------------------------------------------------


def check_zip_bomb(data: bytes) -> None:
    """Refuse an XLSX whose zip entries declare more uncompressed bytes than allowed, before opening it."""
    limit = settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise FileRejected(_("The Excel file is damaged (not a valid .xlsx archive).")) from exc
    total = sum(info.file_size for info in infos)
    if total > limit or len(infos) > 10_000:
        raise FileRejected(
            _("The Excel file unpacks to %(size)s MB, above the %(limit)s MB limit: it is refused unopened.")
            % {"size": round(total / 1048576), "limit": round(limit / 1048576)}
        )
    for info in infos:
        # Spreadsheet XML compresses ~10-20x; hundreds of times is a crafted file.
        if info.compress_size and info.file_size > 10 * 1048576 and info.file_size / info.compress_size > 200:
            raise FileRejected(_("The Excel file looks like a decompression bomb: it is refused unopened."))


def read_xlsx(data: bytes) -> Table:
    import openpyxl

    check_zip_bomb(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise FileRejected(_("The Excel file cannot be opened: %(error)s") % {"error": exc}) from exc
    try:
        sheet = workbook.worksheets[0]
        # Read-only openpyxl stops at the sheet's own <dimension> tag, which writers
        # may leave stale (A1:F2 over 30,000 rows) or out: forget it and read every row
        # and every cell there is.
        sheet.reset_dimensions()
        iterator = sheet.iter_rows(values_only=True)
        header_row = next(iterator, None)
        if header_row is None:
            raise FileRejected(_("The file is empty."))
        header = ["" if v is None else str(v).strip() for v in header_row]
        while header and not header[-1]:
            header.pop()
        table = Table(header=header, file_format="xlsx")
        limit = max_rows()
        for line, values in enumerate(iterator, start=2):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            if len(table.rows) >= limit:
                raise FileRejected(
                    _("The file has more than %(limit)s rows: split it into smaller files.") % {"limit": limit}
                )
            table.rows.append((line, ["" if v is None else v for v in values]))
    except FileRejected:
        raise
    except Exception as exc:  # the sheet's XML breaks off or is malformed past the part read at opening
        raise FileRejected(_("The Excel file cannot be opened: %(error)s") % {"error": exc}) from exc
    finally:
        workbook.close()
    return table


def count_data_rows(data: bytes, filename: str) -> int:
    """A cheap estimate of the data rows, to choose between a request and a worker.

    Never below the real count for a readable file, whatever it declares: CSV line
    ends of any kind (CRLF, LF or CR alone) are counted, and an XLSX sheet's
    ``<row>`` elements are counted in its XML, streamed, as its ``<dimension>`` may
    be missing or wrong. Blank rows are counted too; reading skips them later.
    """
    if data[:4] == b"PK\x03\x04":
        try:
            return max(_count_sheet_rows(data) - 1, 0)
        except Exception:  # damaged or refused: reading it says what is wrong, at once and in the request
            return 0
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return max(lines - 1 + (0 if data.endswith((b"\n", b"\r")) else 1), 0)


# A row element, whatever namespace prefix the writer chose: <row ...>, <row/>, <x:row ...>.
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


def _count_sheet_rows(data: bytes, chunk_size: int = 1 << 20) -> int:
    """The ``<row>`` elements of the first sheet (the one imported), decompressed a megabyte at a time."""
    import openpyxl

    check_zip_bomb(data)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        # Read-only worksheets know their part in the archive; loading the workbook parsed no rows.
        path = workbook.worksheets[0]._worksheet_path
    finally:
        workbook.close()
    count, carry = 0, b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(path) as stream:
        while chunk := stream.read(chunk_size):
            buffer = carry + chunk
            # A tag cut in two by the chunk boundary is counted with the next chunk.
            cut = buffer.rfind(b"<")
            if cut == -1 or cut < len(buffer) - 64:
                cut = len(buffer)
            count += len(_ROW_TAG.findall(buffer, 0, cut))
            carry = buffer[cut:]
    return count + len(_ROW_TAG.findall(carry))


# --- Header -----------------------------------------------------------------


def normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower().lstrip("\ufeff"))


# --- Cells ------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_MONTH_ONLY = re.compile(r"^(\d{1,2})[./](\d{4})$")


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


_PLAIN_INT = re.compile(r"^\d{1,15}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def parse_decimal(value, *, places: int = 2) -> Decimal:
    if isinstance(value, str) and _PLAIN_INT.match(value):
        return Decimal(value)
    return _parse_decimal_text(value, places) if isinstance(value, str) else _parse_decimal(value, places)


@functools.lru_cache(maxsize=8192)
def _parse_decimal_text(value: str, places: int) -> Decimal:
    # Price lists repeat the same few hundred prices: the cache makes 100,000 rows cheap.
    return _parse_decimal(value, places)


def _parse_decimal(value, places: int) -> Decimal:
    if isinstance(value, bool):
        raise CellError(_("Expected a number."))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = _SPACES.sub("", str(value).strip())
        if not text:
            raise CellError(_("This cell is empty."))
        if "," in text and "." in text:
            # The separator that comes last is the decimal one: 12,500.50 / 12.500,50.
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif text.count(",") > 1:
            text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        elif text.count(".") > 1:
            text = text.replace(".", "")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise CellError(_("“%(value)s” is not a number.") % {"value": value})
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(_("“%(value)s” is not a number.") % {"value": value}) from exc
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": value})
    if -number.normalize().as_tuple().exponent > places:
        raise CellError(_("At most %(places)s digits after the decimal point.") % {"places": places})
    return number


def parse_int(value) -> int:
    if isinstance(value, str) and _PLAIN_INT.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = parse_decimal(value, places=6)
    if number != number.to_integral_value():
        raise CellError(_("Expected a whole number, not %(value)s.") % {"value": cell_text(value)})
    return int(number)


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _parse_date_text(str(value).strip())


@functools.lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> date:
    """Dates repeat across a delivery's rows; parsed once each."""
    for pattern, order in ((_ISO_DATE, (1, 2, 3)), (_DOTTED_DATE, (3, 2, 1))):
        match = pattern.match(text)
        if match:
            try:
                return date(int(match.group(order[0])), int(match.group(order[1])), int(match.group(order[2])))
            except ValueError as exc:
                raise CellError(
                    _("“%(value)s” is not a date: use 2027-03-31, 31.03.2027 or a month 03/2027.") % {"value": text}
                ) from exc
    if not text:
        raise CellError(_("This cell is empty."))
    month_only = _MONTH_ONLY.match(text)
    if month_only:
        month, year = int(month_only.group(1)), int(month_only.group(2))
        if not 1 <= month <= 12 or year < 1:
            raise CellError(_("“%(value)s” is not a month: use MM/YYYY.") % {"value": text})
        return date(year, month, calendar.monthrange(year, month)[1])
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date: use 2027-03-31, 31.03.2027 or a month 03/2027.") % {"value": text})


_TRUE = {"1", "yes", "y", "true", "ha", "да", "rx", "+", "x"}
_FALSE = {"0", "no", "n", "false", "yo'q", "yoq", "yo‘q", "yoʻq", "yo’q", "нет", "otc", "-", ""}


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("“%(value)s” is not yes or no.") % {"value": value})


def iter_chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
