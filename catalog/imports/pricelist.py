"""Catalogue / price list import: create or update medicines by SKU.

Only the columns present in the file are compared and written, so a supplier
price list with ``sku;price`` updates prices and nothing else. A new medicine
needs its name, price, category, manufacturer and dosage form. Manufacturers
unknown so far are created; categories and active substances must exist
(a typo there would otherwise spawn a duplicate). Substances are written as
``Paracetamol 500 mg; Caffeine 50 mg`` (liquids: ``Amoxicillin 250 mg/5 ml``).

Medicines, their substance links and new manufacturers are written with
simple-history's bulk helpers (history attributed to the importing user), then
``medicine_reindex_search`` rebuilds their search text, as the save receivers
would for one medicine.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from catalog.imports.base import (
    APPLY_CHUNK,
    NEW,
    UNCHANGED,
    UPDATED,
    Column,
    Importer,
    Plan,
    ProgressCallback,
    chunked_in,
    no_progress,
    out_of_range_message,
)
from catalog.imports.messages import deferred as _  # stored, put into words when read
from catalog.imports.parsing import CellError, cell_text, iter_chunks, parse_bool, parse_decimal, parse_int
from catalog.models import (
    ActiveSubstance,
    Category,
    DosageForm,
    Manufacturer,
    Medicine,
    MedicineSubstance,
    StrengthUnit,
    validate_gtin,
)
from catalog.services import medicine_reindex_search
from catalog.stock import lock_rows

_SUBSTANCE = re.compile(
    r"^(?P<name>.+?)\s+(?P<strength>\d[\d\s.,]*)\s*(?P<unit>mg/ml|mcg|mg|g|IU|%)"
    r"(?:\s*/\s*(?P<volume>\d[\d.,]*)\s*ml)?$",
    re.IGNORECASE,
)
_UNITS = {u.value.lower(): u.value for u in StrengthUnit}
STRENGTH = MedicineSubstance._meta.get_field("strength")
PER_VOLUME = MedicineSubstance._meta.get_field("per_volume_ml")


def format_substances(links) -> str:
    """The cell text of a medicine's substances, as the import reads it back."""
    parts = []
    for link in sorted(links, key=lambda link: link.substance.inn_name):
        strength = f"{link.strength.normalize():f}"
        part = f"{link.substance.inn_name} {strength} {link.unit}"
        if link.per_volume_ml:
            part += f"/{link.per_volume_ml.normalize():f} ml"
        parts.append(part)
    return "; ".join(parts)


def parse_substances(value) -> list[tuple[str, Decimal, str, Decimal | None]]:
    text = cell_text(value)
    out = []
    for part in [p.strip() for p in re.split(r"[;\n]", text) if p.strip()]:
        match = _SUBSTANCE.match(part)
        if not match:
            raise CellError(_("“%(part)s” is not “Substance 500 mg”.") % {"part": part})
        strength = parse_decimal(match["strength"], places=STRENGTH.decimal_places)
        if strength <= 0:
            raise CellError(_("The strength of %(name)s must be above zero.") % {"name": match["name"]})
        volume = parse_decimal(match["volume"], places=PER_VOLUME.decimal_places) if match["volume"] else None
        for field, number in ((STRENGTH, strength), (PER_VOLUME, volume)):
            problem = out_of_range_message(field, number) if number is not None else None
            if problem:
                raise CellError(problem)
        out.append((match["name"].strip(), strength, _UNITS[match["unit"].lower()], volume))
    return out


def parse_form(value) -> str:
    text = cell_text(value).lower()
    for choice in DosageForm:
        if text in (choice.value, str(choice.label).lower()):
            return choice.value
    raise CellError(
        _("“%(value)s” is not a dosage form; use one of: %(choices)s.")
        % {"value": value, "choices": ", ".join(c.value for c in DosageForm)}
    )


FIELDS = ("name", "price", "barcode", "category", "manufacturer", "dosage_form", "pack_size", "is_prescription")


@dataclasses.dataclass
class _ReadRows:
    """The file's rows as parsed: ``(line, sku, cells)`` per distinct SKU, and the names and codes they mention."""

    rows: list[tuple[int, str, dict]] = dataclasses.field(default_factory=list)
    seen: dict[str, int] = dataclasses.field(default_factory=dict)  # SKU -> its line
    manufacturer_names: set[str] = dataclasses.field(default_factory=set)  # lower-cased
    substance_names: set[str] = dataclasses.field(default_factory=set)  # lower-cased
    barcodes: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class _Known:
    """What the rows name that exists already."""

    medicines: dict[str, Medicine] = dataclasses.field(default_factory=dict)  # by SKU
    categories: dict[str, list[Category]] = dataclasses.field(default_factory=dict)  # by lower-cased slug and name
    manufacturers: dict[str, Manufacturer] = dataclasses.field(default_factory=dict)  # by lower-cased name
    substances_by_name: dict[str, ActiveSubstance] = dataclasses.field(default_factory=dict)  # by any lower-cased name
    barcode_owner: dict[str, str] = dataclasses.field(default_factory=dict)  # barcode -> SKU
    links_by_medicine: dict[int, set] = dataclasses.field(default_factory=dict)  # medicine id -> its substance links


class PricelistImporter(Importer):
    kind = "pricelist"
    columns = [
        Column(
            "sku",
            gettext_lazy("Medicine SKU: an existing one is updated, a new one created."),
            ("PARA-500-20", "IBU-200-10"),
        ),
        Column(
            "name",
            gettext_lazy("Trade name with strength and pack."),
            ("Paracetamol 500 mg No. 20", "Ibuprofen 200 mg No. 10"),
            required=False,
        ),
        Column(
            "price", gettext_lazy("Retail price, UZS: 12 500,50 or 12500.50."), ("4 500", "12 500,50"), required=False
        ),
        Column("barcode", gettext_lazy("GTIN/EAN barcode (optional)."), ("4780000000017", ""), required=False),
        Column(
            "category",
            gettext_lazy("Category name or slug (must exist)."),
            ("Pain relief", "Pain relief"),
            required=False,
        ),
        Column(
            "manufacturer",
            gettext_lazy("Manufacturer name (created if new)."),
            ("Nika Pharm", "Berlin-Chemie"),
            required=False,
        ),
        Column(
            "dosage_form",
            gettext_lazy("Dosage form code, e.g. tablet, capsule, syrup."),
            ("tablet", "coated_tablet"),
            required=False,
            aliases=("form",),
        ),
        Column("pack_size", gettext_lazy("Units in a pack."), ("20", "10"), required=False),
        Column(
            "is_prescription",
            gettext_lazy("Prescription only: yes / no."),
            ("no", "no"),
            required=False,
            aliases=("rx", "prescription"),
        ),
        Column(
            "substances",
            gettext_lazy("Active substances with strengths: Paracetamol 500 mg; Caffeine 50 mg."),
            ("Paracetamol 500 mg", "Ibuprofen 200 mg"),
            required=False,
        ),
    ]
    preview_headers = ("sku", "name", "price", "changes")

    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        """Check every row and decide what to create or update: read the file, then what exists, then compare."""
        plan = self.new_plan()
        present = set(self.index)
        read = self._read_rows(plan, present)
        progress(20)
        known = self._load_known(read, present, lock=lock)
        progress(45)
        barcode_in_file: dict[str, str] = {}
        for line, sku, row in read.rows:
            values, wanted_links = self._row_values(plan, line, sku, row, known, barcode_in_file)
            medicine = known.medicines.get(sku)
            if medicine is None:
                self._check_new_has_required(plan, line, values)
            if line in plan.error_lines:
                continue
            self._plan_row(plan, line, sku, medicine, values, wanted_links, known)
        plan.finish()
        progress(60)
        return plan

    # --- the steps of plan() ----------------------------------------------------------------

    def _read_rows(self, plan: Plan, present: set[str]) -> _ReadRows:
        """Every row's cells parsed (errors on the plan), with the names and codes they mention."""
        read = _ReadRows()
        for line, cells in self.table.rows:
            sku = cell_text(self.cell(cells, "sku"))
            if not sku:
                plan.error(line, "sku", _("This cell is empty."))
                continue
            if len(sku) > 64:
                plan.error(line, "sku", _("At most 64 characters."))
            if sku in read.seen:
                plan.error(
                    line, "sku", _("SKU %(sku)s is already on line %(line)s.") % {"sku": sku, "line": read.seen[sku]}
                )
                continue
            read.seen[sku] = line
            read.rows.append((line, sku, self._read_row(plan, line, cells, present, read)))
        return read

    def _read_row(self, plan: Plan, line: int, cells, present: set[str], read: _ReadRows) -> dict:
        """The cells of one row that the file has, parsed; a cell that does not parse is an error and ``None``."""
        row: dict = {}
        if "name" in present:
            name = cell_text(self.cell(cells, "name"))
            if not name:
                plan.error(line, "name", _("This cell is empty."))
            elif len(name) > 255:
                plan.error(line, "name", _("At most 255 characters."))
            row["name"] = name
        if "price" in present:
            price = self.parse_cell(plan, line, cells, "price", parse_decimal, field=Medicine._meta.get_field("price"))
            if price is not None and price < 0:
                plan.error(line, "price", _("The price cannot be negative."))
            row["price"] = price
        if "barcode" in present:
            barcode = cell_text(self.cell(cells, "barcode")) or None
            if barcode:
                try:
                    validate_gtin(barcode)
                except ValidationError as exc:
                    plan.error(line, "barcode", " ".join(str(m) for m in exc.messages))
                read.barcodes.add(barcode)
            row["barcode"] = barcode
        if "category" in present:
            row["category"] = cell_text(self.cell(cells, "category"))
        if "manufacturer" in present:
            manufacturer = cell_text(self.cell(cells, "manufacturer"))
            if manufacturer:
                read.manufacturer_names.add(manufacturer.lower())
            row["manufacturer"] = manufacturer
        if "dosage_form" in present:
            row["dosage_form"] = self.parse_cell(plan, line, cells, "dosage_form", parse_form, required=False)
        if "pack_size" in present:
            pack = self.parse_cell(
                plan, line, cells, "pack_size", parse_int, required=False, field=Medicine._meta.get_field("pack_size")
            )
            if pack is not None and pack < 1:
                plan.error(line, "pack_size", _("A pack holds at least one unit."))
            row["pack_size"] = pack
        if "is_prescription" in present:
            row["is_prescription"] = self.parse_cell(plan, line, cells, "is_prescription", parse_bool, required=False)
        if "substances" in present:
            substances = self.parse_cell(plan, line, cells, "substances", parse_substances, required=False) or []
            read.substance_names.update(name.lower() for name, *_rest in substances)
            row["substances"] = substances
        return row

    def _load_known(self, read: _ReadRows, present: set[str], *, lock: bool) -> _Known:
        """What the rows name that exists already, in a fixed number of queries (the medicines locked if asked)."""
        known = _Known()
        known.medicines = {m.sku: m for m in chunked_in(Medicine.objects.order_by(), "sku", list(read.seen))}
        if lock and known.medicines:
            known.medicines = {
                m.sku: m for m in lock_rows(Medicine.objects.filter(pk__in=[m.pk for m in known.medicines.values()]))
            }
        for category in Category.objects.all():
            known.categories.setdefault(category.slug.lower(), []).append(category)
            if category.slug.lower() != category.name.lower():
                known.categories.setdefault(category.name.lower(), []).append(category)
        if read.manufacturer_names:
            known.manufacturers = {
                m.lname: m
                for m in Manufacturer.objects.annotate(lname=Lower("name")).filter(lname__in=read.manufacturer_names)
            }
        if read.substance_names:
            for substance in ActiveSubstance.objects.all():
                for label in (substance.inn_name, substance.name_uz, substance.name_ru):
                    if label and label.lower() in read.substance_names:
                        known.substances_by_name.setdefault(label.lower(), substance)
        known.barcode_owner = dict(
            chunked_in(Medicine.objects.order_by().values_list("barcode", "sku"), "barcode", read.barcodes)
        )
        if "substances" in present and known.medicines:
            for link in chunked_in(
                MedicineSubstance.objects.order_by(), "medicine_id", [m.pk for m in known.medicines.values()]
            ):
                known.links_by_medicine.setdefault(link.medicine_id, set()).add(
                    (
                        link.substance_id,
                        link.strength.normalize(),
                        link.unit,
                        link.per_volume_ml.normalize() if link.per_volume_ml else None,
                    )
                )
        return known

    def _row_values(
        self, plan: Plan, line: int, sku: str, row: dict, known: _Known, barcode_in_file: dict[str, str]
    ) -> tuple[dict, set | None]:
        """The fields a row writes, its names resolved to what exists, and the substance links it wants (or None)."""
        values: dict = {}
        for field in ("name", "price", "dosage_form", "pack_size", "is_prescription"):
            if field in row and row[field] is not None:
                values[field] = row[field]
        if "barcode" in row:
            barcode = row["barcode"]
            owner = known.barcode_owner.get(barcode) if barcode else None
            if barcode and owner not in (None, sku):
                plan.error(
                    line,
                    "barcode",
                    _("Barcode %(barcode)s already belongs to SKU %(sku)s.") % {"barcode": barcode, "sku": owner},
                )
            elif barcode and barcode_in_file.get(barcode, sku) != sku:
                plan.error(
                    line,
                    "barcode",
                    _("Barcode %(barcode)s is also given to SKU %(sku)s in this file.")
                    % {"barcode": barcode, "sku": barcode_in_file[barcode]},
                )
            if barcode:
                barcode_in_file[barcode] = sku
            values["barcode"] = barcode
        if row.get("category"):
            found = known.categories.get(row["category"].lower(), [])
            if not found:
                plan.error(line, "category", _("Unknown category “%(name)s”.") % {"name": row["category"]})
            elif len({c.pk for c in found}) > 1:
                plan.error(
                    line,
                    "category",
                    _("Several categories are called “%(name)s”: use the slug.") % {"name": row["category"]},
                )
            else:
                values["category_id"] = found[0].pk
        manufacturer_name = row.get("manufacturer")
        if manufacturer_name:
            existing_manufacturer = known.manufacturers.get(manufacturer_name.lower())
            values["manufacturer"] = existing_manufacturer.pk if existing_manufacturer else manufacturer_name
        wanted_links = None
        if "substances" in row:
            wanted_links = set()
            for name, strength, unit, volume in row["substances"]:
                substance = known.substances_by_name.get(name.lower())
                if substance is None:
                    plan.error(line, "substances", _("Unknown active substance “%(name)s”.") % {"name": name})
                    continue
                wanted_links.add((substance.pk, strength.normalize(), unit, volume.normalize() if volume else None))
            if len({link[0] for link in wanted_links}) != len(wanted_links):
                plan.error(line, "substances", _("A substance is listed twice."))
        return values, wanted_links

    @staticmethod
    def _check_new_has_required(plan: Plan, line: int, values: dict) -> None:
        """A new medicine needs its name, price, category, manufacturer and form (one error per row: the first)."""
        for field, column in (
            ("name", "name"),
            ("price", "price"),
            ("category_id", "category"),
            ("manufacturer", "manufacturer"),
            ("dosage_form", "dosage_form"),
        ):
            if field not in values and line not in plan.error_lines:
                plan.error(line, column, _("A new medicine needs its %(column)s.") % {"column": column})

    @staticmethod
    def _plan_row(
        plan: Plan, line: int, sku: str, medicine: Medicine | None, values: dict, wanted_links, known: _Known
    ) -> None:
        """Record what a valid row does: create, update the fields that differ, or nothing."""
        if medicine is None:
            plan.actions.append((None, sku, values, wanted_links))
            plan.mark(line, NEW, [sku, values.get("name", ""), values.get("price", ""), ""])
            return
        changes = []
        for field, value in values.items():
            current = medicine.manufacturer_id if field == "manufacturer" else getattr(medicine, field)
            if field == "price":
                if Decimal(current) != value:
                    changes.append(field)
            elif current != value:
                changes.append(field)
        links_changed = wanted_links is not None and wanted_links != known.links_by_medicine.get(medicine.pk, set())
        if links_changed:
            changes.append("substances")
        if changes:
            plan.actions.append((medicine, sku, values, wanted_links if links_changed else None))
            plan.mark(line, UPDATED, [sku, medicine.name, values.get("price", medicine.price), ", ".join(changes)])
        else:
            plan.mark(line, UNCHANGED, [sku, medicine.name, medicine.price, ""])

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        assert transaction.get_connection().in_atomic_block, "apply runs inside the import's transaction"
        reason = f"import {reference}"[:100]
        # Manufacturers named for the first time.
        new_names = {}
        for _medicine, _sku, values, _links in plan.actions:
            if isinstance(values.get("manufacturer"), str):
                new_names.setdefault(values["manufacturer"].lower(), values["manufacturer"])
        created = (
            bulk_create_with_history(
                [Manufacturer(name=name[:200]) for name in new_names.values()],
                Manufacturer,
                default_user=user,
                default_change_reason=reason,
            )
            if new_names
            else []
        )
        manufacturer_ids = {m.name.lower(): m.pk for m in created}
        touched: list[int] = []
        total, done = max(len(plan.actions), 1), 0
        for chunk in iter_chunks(plan.actions, APPLY_CHUNK):
            new, changed, changed_fields, links = [], [], set(), []
            for medicine, sku, values, wanted_links in chunk:
                fields = {}
                for field, value in values.items():
                    if field == "manufacturer":
                        fields["manufacturer_id"] = manufacturer_ids[value.lower()] if isinstance(value, str) else value
                    else:
                        fields[field] = value
                if medicine is None:
                    medicine = Medicine(
                        sku=sku, slug=slugify(f"{fields['name']}-{sku}")[:280] or slugify(sku), **fields
                    )
                    new.append(medicine)
                else:
                    for field, value in fields.items():
                        setattr(medicine, field, value)
                    changed.append(medicine)
                    changed_fields.update(fields)
                if wanted_links is not None:
                    links.append((medicine, wanted_links))
            if new:
                bulk_create_with_history(
                    new, Medicine, batch_size=1000, default_user=user, default_change_reason=reason
                )
            if changed:
                now = timezone.now()
                for medicine in changed:
                    medicine.updated_at = now
                bulk_update_with_history(
                    changed,
                    Medicine,
                    sorted(changed_fields | {"updated_at"}),
                    batch_size=500,
                    default_user=user,
                    default_change_reason=reason,
                )
            if links:
                self._replace_links(links, user=user, reason=reason)
            touched += [m.pk for m in new] + [m.pk for m in changed]
            done += len(chunk)
            progress(60 + int(35 * done / total))
        if touched:
            medicine_reindex_search(medicine_ids=touched)

    @staticmethod
    def _replace_links(links: list, *, user, reason: str) -> None:
        medicine_ids = [medicine.pk for medicine, _wanted in links]
        current = {}
        for link in MedicineSubstance.objects.filter(medicine_id__in=medicine_ids):
            current.setdefault(link.medicine_id, []).append(link)
        to_create = []
        for medicine, wanted in links:
            existing = {
                (
                    link.substance_id,
                    link.strength.normalize(),
                    link.unit,
                    link.per_volume_ml.normalize() if link.per_volume_ml else None,
                ): link
                for link in current.get(medicine.pk, [])
            }
            for key, link in existing.items():
                if key not in wanted:
                    # One by one so each deletion's history row names the importing user.
                    link._history_user = user
                    link._change_reason = reason
                    link.delete()
            kept_substances = {key[0] for key in existing if key in wanted}
            for substance_id, strength, unit, volume in sorted(wanted, key=lambda k: k[0]):
                if (substance_id, strength, unit, volume) in existing or substance_id in kept_substances:
                    continue
                to_create.append(
                    MedicineSubstance(
                        medicine_id=medicine.pk,
                        substance_id=substance_id,
                        strength=strength,
                        unit=unit,
                        per_volume_ml=volume,
                    )
                )
        if to_create:
            bulk_create_with_history(
                to_create, MedicineSubstance, batch_size=1000, default_user=user, default_change_reason=reason
            )
