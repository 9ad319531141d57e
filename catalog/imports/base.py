"""What the three imports share: column specs, header mapping, the plan a dry run produces."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from catalog.exceptions import CatalogError
from catalog.imports.messages import Deferred, from_error
from catalog.imports.messages import deferred as _  # stored, put into words when read
from catalog.imports.parsing import CellError, FileRejected, Table, cell_text, normalise_header

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
ERROR = "error"
# A row of the downloadable template's examples, left in the file: shown, counted as unchanged, never written.
EXAMPLE = "example"

PREVIEW_ROWS = 100
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_STORED_ERRORS = 2000
APPLY_CHUNK = 5000


@dataclass(frozen=True)
class Column:
    name: str
    guide: str | Promise
    example: tuple[str, ...]
    required: bool = True
    aliases: tuple[str, ...] = ()


# A medicine is named by its SKU or its barcode (either column may be left empty).
MEDICINE_CODE_COLUMNS = (
    Column("sku", gettext_lazy("Medicine SKU (or give the barcode)."), ("PARA-500-20", ""), required=False),
    Column(
        "barcode",
        gettext_lazy("Medicine barcode, GTIN (or give the SKU)."),
        ("", "4780000000017"),
        required=False,
        aliases=("gtin", "ean"),
    ),
)


@functools.cache
def column_range(field: models.Field) -> tuple[int | Decimal, int | Decimal]:
    """The lowest and highest value the database column of a numeric model field can hold.

    Taken from the field itself, never retyped: an integer field's range on this
    backend (``PositiveIntegerField`` holds 0 to 2,147,483,647 on PostgreSQL), or
    a ``DecimalField``'s ``max_digits``/``decimal_places`` (14, 2 holds up to
    999,999,999,999.99). Business rules (a quantity above zero) are checked apart.
    Worked out once per field: an import asks it for every numeric cell.
    """
    if isinstance(field, models.DecimalField):
        high = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(10) ** -field.decimal_places
        return -high, high
    return connection.ops.integer_field_range(field.get_internal_type())


def out_of_range_message(field: models.Field, value) -> str | None:
    """The cell error for a number its column cannot hold, or ``None`` when it fits."""
    low, high = column_range(field)
    if low <= value <= high:
        return None
    return _("%(value)s does not fit this column: it holds numbers from %(min)s to %(max)s.") % {
        "value": f"{value:f}" if isinstance(value, Decimal) else value,
        "min": f"{low:f}" if isinstance(low, Decimal) else low,
        "max": f"{high:f}" if isinstance(high, Decimal) else high,
    }


@dataclass
class Plan:
    """The outcome of checking every row: counts, errors by cell, and what applying will write."""

    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {NEW: 0, UPDATED: 0, UNCHANGED: 0, ERROR: 0})
    errors: list[dict] = field(default_factory=list)
    error_lines: set[int] = field(default_factory=set)
    preview_rows: list[dict] = field(default_factory=list)
    # Importer-specific: the rows to write, already resolved to ids.
    actions: list = field(default_factory=list)
    # Importer-specific, JSON: what a dry run's rows were checked against, stored with
    # the job and handed back to the confirmation (``Importer(basis=...)``), e.g. the
    # book quantity of each lot a stocktake counted.
    basis: dict = field(default_factory=dict)

    def error(self, line: int, column: str, message) -> None:
        """``message``: a deferred message (kept as id and parameters, read in the reader's language) or a text."""
        self.error_lines.add(line)
        entry = {"line": line, "column": column, "message": str(message)}
        if isinstance(message, Deferred):
            entry["text"] = message.as_json()
        self.errors.append(entry)

    def skip_example(self, line: int) -> None:
        self.counts[UNCHANGED] += 1
        if len(self.preview_rows) < PREVIEW_ROWS:
            self.preview_rows.append({"line": line, "status": EXAMPLE, "values": []})

    def mark(self, line: int, status: str, values: list | Callable[[], list]) -> None:
        """Count the row; the first rows are kept for the preview (``values`` may be a callable: made only then)."""
        self.counts[status] += 1
        if len(self.preview_rows) < PREVIEW_ROWS:
            shown = values() if callable(values) else values
            self.preview_rows.append({"line": line, "status": status, "values": [str(v) for v in shown]})

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def finish(self) -> None:
        """Rows with any error count as error rows only, whatever status they reached."""
        if self.total == 0 and not self.errors:
            self.error(0, "", _("The file has no rows below the header."))
        self.counts[ERROR] = len(self.error_lines - {0})
        self.errors.sort(key=lambda e: (e["line"], e["column"]))


ProgressCallback = Callable[[int], None]


def no_progress(percent: int) -> None:
    return None


def progress_between(progress: ProgressCallback, low: int, high: int) -> ProgressCallback:
    """A callback for one step of the work: its 0-100 becomes ``low``-``high`` of the whole."""
    return lambda percent: progress(low + (high - low) * percent // 100)


def apply_by_place(planned, write, progress: ProgressCallback) -> None:
    """Hand each place's planned items to ``write(location, items, progress)`` (a bulk service of the stock core),
    places in id order, the progress from 60 to 95 shared by the number of items.

    ``planned``: ``(location, item)`` pairs in the plan's order.
    """
    by_place: dict[int, tuple] = {}
    for location, item in planned:
        by_place.setdefault(location.pk, (location, []))[1].append(item)
    total, done = max(len(planned), 1), 0
    for _pk, (location, items) in sorted(by_place.items()):
        write(
            location, items, progress_between(progress, 60 + 35 * done // total, 60 + 35 * (done + len(items)) // total)
        )
        done += len(items)


class Importer:
    kind: str = ""
    columns: list[Column] = []
    # Groups of columns of which at least one must be present (e.g. sku or barcode).
    one_of: list[tuple[str, ...]] = []
    # Columns an export carries for people to read, accepted and not imported.
    ignored: tuple[str, ...] = ()
    # What a row is and what its numbers count, for the upload page.
    summary: str | Promise = ""

    def __init__(self, table: Table, *, basis: dict | None = None, user=None, location=None) -> None:
        """``basis`` is ``None`` for a dry run; at confirmation, the ``Plan.basis`` the dry run stored.

        ``user`` is who acts: the uploader for the dry run, whoever confirms for
        the write. ``location`` is the job's place (receipts and stocktakes).
        """
        self.table = table
        self.basis = basis
        self.user = user
        self.location = location
        self.index = self.map_header(table.header)
        self.example_lines = self._drop_examples()

    # --- the template's example rows ------------------------------------------
    @classmethod
    def example_rows(cls) -> list[list[str]]:
        """The template's two example rows, one value per column (an empty cell where a column has none)."""
        return [[column.example[i] if i < len(column.example) else "" for column in cls.columns] for i in range(2)]

    def _drop_examples(self) -> list[int]:
        """Take the template's example rows, exactly as written there, out of the table; their line numbers.

        A clerk fills the template below its examples and uploads it: the
        examples name medicines and lots the pharmacy may not have, and must not
        write anything (nor fail the file). A row changed in any cell is the
        clerk's own and is imported.
        """
        examples = [[cell_text(value) for value in row] for row in self.example_rows()]
        kept, skipped = [], []
        for line, cells in self.table.rows:
            if [cell_text(self.cell(cells, column.name)) for column in self.columns] in examples:
                skipped.append(line)
            else:
                kept.append((line, cells))
        self.table.rows = kept
        return skipped

    def new_plan(self) -> Plan:
        """The plan of this file's rows: the example rows already counted and shown as skipped."""
        plan = Plan(total=len(self.table.rows) + len(self.example_lines))
        for line in self.example_lines:
            plan.skip_example(line)
        return plan

    # --- header -------------------------------------------------------------
    @classmethod
    def column_names(cls) -> list[str]:
        return [c.name for c in cls.columns]

    def map_header(self, header: list[str]) -> dict[str, int]:
        known: dict[str, str] = {}
        for column in self.columns:
            known[column.name] = column.name
            for alias in column.aliases:
                known[alias] = column.name
        index: dict[str, int] = {}
        unknown, repeated = [], []
        for position, raw in enumerate(header):
            name = normalise_header(raw)
            if not name or name in self.ignored:
                continue
            if name not in known:
                unknown.append(str(raw))
                continue
            if known[name] in index:
                repeated.append(str(raw))
                continue
            index[known[name]] = position
        missing = [c.name for c in self.columns if c.required and c.name not in index]
        for group in self.one_of:
            if not any(name in index for name in group):
                missing.append(" / ".join(group))
        problems = []
        if unknown:
            problems.append(_("Unknown columns: %(names)s.") % {"names": ", ".join(unknown)})
        if missing:
            problems.append(_("Missing columns: %(names)s.") % {"names": ", ".join(missing)})
        if repeated:
            problems.append(_("Columns given twice: %(names)s.") % {"names": ", ".join(repeated)})
        if problems:
            expected = ", ".join(self.column_names())
            expected_text = _("Expected columns: %(names)s.") % {"names": expected}
            raise FileRejected(" ".join(str(problem) for problem in problems) + " " + str(expected_text))
        return index

    def preview_columns(self) -> list[str]:
        """Headers of the values each preview row shows."""
        return list(self.preview_headers)

    preview_headers: tuple[str, ...] = ()

    # --- cells --------------------------------------------------------------
    def cell(self, cells: list, name: str):
        position = self.index.get(name)
        if position is None or position >= len(cells):
            return ""
        value = cells[position]
        if not isinstance(value, str):
            return value
        value = value.strip()
        # Our exports write a formula-like text as '=...; reading it back gives the text itself.
        if value[:1] == "'" and value[1:2] in FORMULA_PREFIXES:
            value = value[1:]
        return value

    def parse_cell(
        self,
        plan: Plan,
        line: int,
        cells: list,
        name: str,
        parser,
        *,
        required: bool = True,
        field: models.Field | None = None,
    ):
        """The parsed value of a cell, or ``None`` with the cell's error on the plan.

        With ``field``, the model field the value is written to, a number its
        column cannot hold is an error here, in the dry run, not a database
        error at confirmation.

        A parser says what is wrong with a value by raising ``CellError``; any other
        error it lets through (a date the calendar has no room for, a number
        ``Decimal`` refuses) still only means this value cannot be read: it is this
        cell's error too, never a failed import.
        """
        value = self.cell(cells, name)
        if value == "" or value is None:
            if required:
                plan.error(line, name, _("This cell is empty."))
            return None
        try:
            parsed = parser(value)
        except CellError as exc:
            plan.error(line, name, exc.message)
        except (ValueError, TypeError, ArithmeticError):
            plan.error(line, name, _("“%(value)s” cannot be read in this column.") % {"value": cell_text(value)})
        else:
            problem = out_of_range_message(field, parsed) if field is not None else None
            if problem is None:
                return parsed
            plan.error(line, name, problem)
        return None

    # --- the two phases -------------------------------------------------------
    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        raise NotImplementedError


# The column of the file a stock rule's refusal belongs to, by the error's code.
RULE_COLUMNS = {
    "invalid_quantity": "quantity",
    "lot_number_required": "lot_number",
    "lot_expired": "expiry_date",
    "lot_mismatch": "expiry_date",
    "lot_status": "lot_number",
    "invalid_price": "purchase_price",
    "negative_price": "purchase_price",
    "location_forbidden": "location",
    "location_required": "location",
}


def rule_error(plan: Plan, line: int, error: CatalogError, *, column: str | None = None) -> None:
    """Put a stock rule's refusal on the row, in the rule's own words (the service would refuse the same)."""
    plan.error(line, column or RULE_COLUMNS.get(error.code, ""), from_error(error))


LOCATION_COLUMN = Column(
    "location",
    gettext_lazy(
        "Optional: the location of this row (its code or name), if not the one chosen on upload; "
        "only a place you work at."
    ),
    ("", "chilonzor"),
    required=False,
    aliases=("branch", "warehouse"),
)


class Places:
    """The place each row of a receipt or a stocktake is at: its ``location`` cell, else the job's.

    A cell names a place by its code or its name (either case). A place that is
    not known, holds no stock (transit, closed) or is not one the member works
    at is that cell's error, in the stock core's words (``check_works_at``).
    With no place chosen for the job, the only place there is serves.
    """

    def __init__(self, *, user, default) -> None:
        from catalog.models import Location
        from catalog.stock.places import resolve_location

        self.user = user
        self.known: dict[str, Location] = {}
        for place in Location.objects.all():
            self.known.setdefault(place.code.lower(), place)
            self.known.setdefault(place.name.strip().lower(), place)
        self.default = default
        self.default_error: CatalogError | None = None
        if default is None:
            try:
                self.default = resolve_location(None)
            except CatalogError as error:
                self.default_error = error

    def check_default(self, plan: Plan) -> None:
        """The job's own place: one the member works at, or the whole file is refused (line 0)."""
        if self.default is None:
            return
        problem = self._problem(self.default)
        if problem:
            plan.error(0, "location", problem)

    def _problem(self, place):
        from catalog.stock.places import check_holds_stock, check_works_at

        try:
            check_holds_stock(place)
            check_works_at(self.user, place)
        except CatalogError as error:
            return from_error(error)
        return None

    def for_row(self, plan: Plan, line: int, text: str):
        """The row's place, or ``None`` with the cell's error on the plan."""
        if not text:
            if self.default is None:
                plan.error(line, "location", from_error(self.default_error) if self.default_error else "")
            return self.default
        place = self.known.get(text.strip().lower())
        if place is None:
            plan.error(line, "location", _("Unknown location “%(value)s”: give its code or name.") % {"value": text})
            return None
        problem = self._problem(place)
        if problem:
            plan.error(line, "location", problem)
            return None
        return place


def chunked_in(queryset, field_name: str, values: Iterable) -> list:
    """``queryset.filter(<field>__in=values)`` as one query where the database allows it (PostgreSQL)."""
    values = list(values)
    if not values:
        return []
    size = connection.features.max_query_params or len(values)
    size = max(1, min(size - 10, len(values)))
    out = []
    for start in range(0, len(values), size):
        out.extend(queryset.filter(**{f"{field_name}__in": values[start : start + size]}))
    return out
