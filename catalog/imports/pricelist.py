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
        plan = self.new_plan()
        present = set(self.index)
        parsed, seen = [], {}
        manufacturer_names, substance_names, category_keys, barcodes = set(), set(), set(), set()
        for line, cells in self.table.rows:
            sku = cell_text(self.cell(cells, "sku"))
            if not sku:
                plan.error(line, "sku", _("This cell is empty."))
                continue
            if len(sku) > 64:
                plan.error(line, "sku", _("At most 64 characters."))
            if sku in seen:
                plan.error(line, "sku", _("SKU %(sku)s is already on line %(line)s.") % {"sku": sku, "line": seen[sku]})
                continue
            seen[sku] = line
            row: dict = {}
            if "name" in present:
                name = cell_text(self.cell(cells, "name"))
                if not name:
                    plan.error(line, "name", _("This cell is empty."))
                elif len(name) > 255:
                    plan.error(line, "name", _("At most 255 characters."))
                row["name"] = name
            if "price" in present:
                price = self.parse_cell(
                    plan, line, cells, "price", parse_decimal, field=Medicine._meta.get_field("price")
                )
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
                    barcodes.add(barcode)
                row["barcode"] = barcode
            if "category" in present:
                category = cell_text(self.cell(cells, "category"))
                if category:
                    category_keys.add(category.lower())
                row["category"] = category
            if "manufacturer" in present:
                manufacturer = cell_text(self.cell(cells, "manufacturer"))
                if manufacturer:
                    manufacturer_names.add(manufacturer.lower())
                row["manufacturer"] = manufacturer
            if "dosage_form" in present:
                row["dosage_form"] = self.parse_cell(plan, line, cells, "dosage_form", parse_form, required=False)
            if "pack_size" in present:
                pack = self.parse_cell(
                    plan,
                    line,
                    cells,
                    "pack_size",
                    parse_int,
                    required=False,
                    field=Medicine._meta.get_field("pack_size"),
                )
                if pack is not None and pack < 1:
                    plan.error(line, "pack_size", _("A pack holds at least one unit."))
                row["pack_size"] = pack
            if "is_prescription" in present:
                row["is_prescription"] = self.parse_cell(
                    plan, line, cells, "is_prescription", parse_bool, required=False
                )
            if "substances" in present:
                substances = self.parse_cell(plan, line, cells, "substances", parse_substances, required=False) or []
                substance_names.update(name.lower() for name, *_rest in substances)
                row["substances"] = substances
            parsed.append((line, sku, row))
        progress(20)

        medicines = {m.sku: m for m in chunked_in(Medicine.objects.order_by(), "sku", list(seen))}
        if lock and medicines:
            medicines = {
                m.sku: m for m in lock_rows(Medicine.objects.filter(pk__in=[m.pk for m in medicines.values()]))
            }
        categories: dict[str, list[Category]] = {}
        for category in Category.objects.all():
            categories.setdefault(category.slug.lower(), []).append(category)
            if category.slug.lower() != category.name.lower():
                categories.setdefault(category.name.lower(), []).append(category)
        manufacturers = (
            {
                m.lname: m
                for m in Manufacturer.objects.annotate(lname=Lower("name")).filter(lname__in=manufacturer_names)
            }
            if manufacturer_names
            else {}
        )
        substances_by_name = {}
        if substance_names:
            for substance in ActiveSubstance.objects.all():
                for label in (substance.inn_name, substance.name_uz, substance.name_ru):
                    if label and label.lower() in substance_names:
                        substances_by_name.setdefault(label.lower(), substance)
        barcode_owner = dict(chunked_in(Medicine.objects.order_by().values_list("barcode", "sku"), "barcode", barcodes))
        links_by_medicine: dict[int, set] = {}
        if "substances" in present and medicines:
            for link in chunked_in(
                MedicineSubstance.objects.order_by(), "medicine_id", [m.pk for m in medicines.values()]
            ):
                links_by_medicine.setdefault(link.medicine_id, set()).add(
                    (
                        link.substance_id,
                        link.strength.normalize(),
                        link.unit,
                        link.per_volume_ml.normalize() if link.per_volume_ml else None,
                    )
                )
        progress(45)

        barcode_in_file: dict[str, str] = {}
        for line, sku, row in parsed:
            medicine = medicines.get(sku)
            values: dict = {}
            for field in ("name", "price", "dosage_form", "pack_size", "is_prescription"):
                if field in row and row[field] is not None:
                    values[field] = row[field]
            if "barcode" in row:
                barcode = row["barcode"]
                owner = barcode_owner.get(barcode) if barcode else None
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
                found = categories.get(row["category"].lower(), [])
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
                existing_manufacturer = manufacturers.get(manufacturer_name.lower())
                values["manufacturer"] = existing_manufacturer.pk if existing_manufacturer else manufacturer_name
            wanted_links = None
            if "substances" in row:
                wanted_links = set()
                for name, strength, unit, volume in row["substances"]:
                    substance = substances_by_name.get(name.lower())
                    if substance is None:
                        plan.error(line, "substances", _("Unknown active substance “%(name)s”.") % {"name": name})
                        continue
                    wanted_links.add((substance.pk, strength.normalize(), unit, volume.normalize() if volume else None))
                if len({link[0] for link in wanted_links}) != len(wanted_links):
                    plan.error(line, "substances", _("A substance is listed twice."))
            if medicine is None:
                for field, column in (
                    ("name", "name"),
                    ("price", "price"),
                    ("category_id", "category"),
                    ("manufacturer", "manufacturer"),
                    ("dosage_form", "dosage_form"),
                ):
                    if field not in values and line not in plan.error_lines:
                        plan.error(line, column, _("A new medicine needs its %(column)s.") % {"column": column})
            if line in plan.error_lines:
                continue
            if medicine is None:
                plan.actions.append((None, sku, values, wanted_links))
                plan.mark(line, NEW, [sku, values.get("name", ""), values.get("price", ""), ""])
                continue
            changes = []
            for field, value in values.items():
                current = medicine.manufacturer_id if field == "manufacturer" else getattr(medicine, field)
                if field == "price":
                    if Decimal(current) != value:
                        changes.append(field)
                elif current != value:
                    changes.append(field)
            links_changed = wanted_links is not None and wanted_links != links_by_medicine.get(medicine.pk, set())
            if links_changed:
                changes.append("substances")
            if changes:
                plan.actions.append((medicine, sku, values, wanted_links if links_changed else None))
                plan.mark(line, UPDATED, [sku, medicine.name, values.get("price", medicine.price), ", ".join(changes)])
            else:
                plan.mark(line, UNCHANGED, [sku, medicine.name, medicine.price, ""])
        plan.finish()
        progress(60)
        return plan

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
