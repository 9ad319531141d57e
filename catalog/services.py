"""Writes to the catalogue that are not stock: medicine details, search columns, alternatives keys, places.

Stock (quantities, the ledger, lot status and the derived stock columns) is
written only by the stock core, ``catalog.stock``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .exceptions import CatalogError, PartsPerPackLocked
from .models import Location, LotStock, Medicine, MedicineStock, StockMovement, Transfer, TransferState
from .selectors import SEARCH_TERM_TABLE
from .stock.locks import batched, lock_medicines
from .stock.places import check_works_at
from .stock.rules import ReasonRule
from .transliteration import search_document

REINDEX_BATCH_SIZE = 2000


def substance_keys(links: Iterable[tuple], dosage_form: str) -> tuple[str, str]:
    """``(substance_key, generic_key)`` from ``(substance_id, strength, unit, per_volume_ml)`` links.

    Two medicines are the same generic when their generic keys are equal: the
    same substances at the same strengths and units (per the same volume) in
    the same dosage form. Their substance keys are equal when only the set of
    substances is the same. Empty strings for a medicine without substances.
    """
    links = sorted(links, key=lambda link: link[0])
    if not links:
        return "", ""

    def number(value: Decimal | int | str) -> str:
        return f"{Decimal(value).normalize():f}"

    substance_key = "+".join(str(link[0]) for link in links)
    strengths = "|".join(
        f"{substance_id}:{number(strength)}{unit}" + (f"/{number(per_volume)}ml" if per_volume else "")
        for substance_id, strength, unit, per_volume in links
    )
    return substance_key, f"{dosage_form}|{strengths}"


@transaction.atomic
def medicine_reindex_search(*, medicine_ids: Iterable[int]) -> None:
    """Rebuild ``search_text`` (case-folded name, manufacturer, substance INN and uz/ru names, each
    with its Latin and Cyrillic spellings) and the alternatives keys (``substance_key``,
    ``generic_key``, see ``substance_keys``) for the given medicines.

    When it runs: ``catalog.receivers`` calls it on every save of a medicine,
    manufacturer, active substance or medicine-substance link (so admin edits
    and imports keep the column current), except for raw fixture loads and
    bulk_create/update(), whose callers (``load_demo``, ``generate_catalog``)
    call it themselves.
    """
    ids = sorted(set(medicine_ids))
    for chunk in batched(ids, REINDEX_BATCH_SIZE):
        lock_medicines(chunk)
        medicines = (
            Medicine.objects.filter(pk__in=chunk)
            .select_related("manufacturer")
            .prefetch_related("medicine_substances__substance")
            .only("pk", "name", "dosage_form", "search_text", "substance_key", "generic_key", "manufacturer__name")
        )
        changed = []
        for medicine in medicines:
            parts = [medicine.name, medicine.manufacturer.name]
            links = list(medicine.medicine_substances.all())
            for link in links:
                parts += [link.substance.inn_name, link.substance.name_uz, link.substance.name_ru]
            values = (
                search_document(parts),
                *substance_keys(
                    [(link.substance_id, link.strength, link.unit, link.per_volume_ml) for link in links],
                    medicine.dosage_form,
                ),
            )
            if values != (medicine.search_text, medicine.substance_key, medicine.generic_key):
                medicine.search_text, medicine.substance_key, medicine.generic_key = values
                changed.append(medicine)
        if changed:
            Medicine.objects.bulk_update(changed, ["search_text", "substance_key", "generic_key"], batch_size=500)
            search_terms_add(m.search_text for m in changed)


def search_terms_add(texts: Iterable[str]) -> None:
    """Add the words of search texts to the search vocabulary (PostgreSQL; no-op elsewhere).

    The vocabulary only grows: a word no medicine uses any more costs one
    useless correction candidate, never a wrong result.
    """
    if connection.vendor != "postgresql":
        return
    words = sorted(
        {word for text in texts for word in text.split(" ") if len(word) >= 3 and not any(c.isdigit() for c in word)}
    )
    if not words:
        return
    with connection.cursor() as cursor:
        for chunk in batched(words, 5000):
            cursor.execute(
                f"INSERT INTO {SEARCH_TERM_TABLE} (term) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [chunk]
            )


def search_terms_rebuild() -> None:
    """Refill the search vocabulary from every medicine's search_text, and refresh the planner's statistics.

    Run after bulk loads that skip the services (``generate_catalog``, fixtures).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEARCH_TERM_TABLE} (term) "
            "SELECT DISTINCT w FROM catalog_medicine, regexp_split_to_table(search_text, ' ') AS w "
            "WHERE length(w) >= 3 AND w !~ '[0-9]' ON CONFLICT DO NOTHING"
        )
        cursor.execute("ANALYZE catalog_medicine")
        cursor.execute(f"ANALYZE {SEARCH_TERM_TABLE}")


# --- Medicine details ------------------------------------------------------------------

# What a person edits on a medicine. Stock, sales and search columns are the services' own.
MEDICINE_DETAIL_FIELDS = (
    "name", "slug", "sku", "barcode", "manufacturer", "category", "dosage_form", "pack_size",
    "price", "reorder_level", "is_prescription", "is_controlled", "is_active", "description", "usage", "image",
    "parts_per_pack", "part_name", "part_price",
)  # fmt: skip
# A change of these is what a customer pays or whether they may buy: it is recorded with a reason.
MEDICINE_CHANGE_REASON = ReasonRule(
    ("price", "is_prescription", "is_controlled"),
    _("Say why the price or the dispensing rules change."),
    "medicine_reason_required",
)


def check_parts_per_pack_change(*, medicine: Medicine) -> None:
    """Refuse (``PartsPerPackLocked``) a new number of parts per pack once the medicine has stock movements.

    Quantities count parts: every one already recorded would change its meaning.
    The medicine form asks the same before saving.
    """
    if medicine.pk and StockMovement.objects.filter(lot__medicine_id=medicine.pk).exists():
        raise PartsPerPackLocked()


@transaction.atomic
def medicine_update(*, medicine: Medicine, changes: dict, user: User | None = None, reason: str = "") -> Medicine:
    """Write a medicine's edited details under its lock, only the fields that differ, recorded with who and why.

    ``changes`` maps a field of ``MEDICINE_DETAIL_FIELDS`` (or a foreign key's
    attname, ``manufacturer_id``) to its new value. Stock, ``number_sold`` and
    the search columns are never written here, so a sale committed while the
    form was open is not put back. A change of price or of the prescription or
    controlled flag without a reason is refused (``ReasonRequired``); a call
    that changes nothing writes nothing, not even a history row.
    """
    names = {field.attname: field.name for field in Medicine._meta.concrete_fields}
    unknown = {names.get(key, key) for key in changes} - set(MEDICINE_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not a medicine detail: {', '.join(sorted(unknown))}")
    lock_medicines([medicine.pk])
    locked = Medicine.objects.get(pk=medicine.pk)
    changed = []
    for key, value in changes.items():
        field = Medicine._meta.get_field(names.get(key, key))
        current = getattr(locked, key)
        if field.is_relation and key == field.name:
            current, value = getattr(locked, field.attname), getattr(value, "pk", value)
            key = field.attname
        if current != value:
            setattr(locked, key, value)
            changed.append(key)
    if not changed:
        return locked
    reason = (reason or "").strip()
    MEDICINE_CHANGE_REASON.require((names.get(key, key) for key in changed), reason)
    if "parts_per_pack" in changed:
        check_parts_per_pack_change(medicine=locked)
    if user is not None:
        locked._history_user = user
    locked._change_reason = reason[:100] or None
    locked.save(update_fields=[*changed, "updated_at"])
    return locked


@transaction.atomic
def medicine_reorder_level_set(
    *, medicine: Medicine, location: Location, level: int | None, user: User | None = None
) -> MedicineStock:
    """Set the reorder level of ``medicine`` at ``location`` (``None``: the medicine's own level applies there).

    The row is created when the medicine was never stocked there (its derived
    columns at zero until the stock core computes them). Only ``reorder_level``
    is written: the stock core's refresh never touches it, and this never
    touches what the refresh writes. The medicine's lock is taken first, as the
    stock core does, so the row's creation does not race with a refresh
    creating it. A member sets levels only at the places they work at
    (``LocationForbidden``).
    """
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level < 0):
        raise CatalogError(_("A reorder level is a whole number, zero or more."), code="invalid_reorder_level")
    check_works_at(user, location)
    lock_medicines([medicine.pk])
    row, _created = MedicineStock.objects.get_or_create(medicine_id=medicine.pk, location_id=location.pk)
    if row.reorder_level != level:
        row.reorder_level = level
        row.save(update_fields=["reorder_level"])
    return row


def location_check_may_close(*, location: Location) -> None:
    """Refuse (``CatalogError``) closing a place that still holds stock or awaits goods in transit.

    A closed place is offered nowhere (sales, transfers, forms), so stock left
    there could be neither sold nor moved, and a transfer on its way there
    could not be received.
    """
    if LotStock.objects.filter(location_id=location.pk, quantity__gt=0).exists():
        raise CatalogError(
            _("%(location)s still holds stock: transfer it elsewhere or write it off before closing the place."),
            code="location_holds_stock",
            location=location.name,
        )
    if Transfer.objects.filter(destination_id=location.pk, state=TransferState.SENT).exists():
        raise CatalogError(
            _("%(location)s awaits transfers in transit: receive them before closing the place."),
            code="location_awaits_transfers",
            location=location.name,
        )
