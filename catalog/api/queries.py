"""The SQL behind the public medicine list and detail: the API's hot path.

Every anonymous storefront request that misses the response cache lands here,
so these reads skip the ORM's query building and compiling (which cost more
than PostgreSQL takes to answer them) and run short, parameterised statements
written out below. They read the same columns the serializers document
(``serializers.MEDICINE_LIST_FIELDS``), through the same indexes, and apply
the same rules: active medicines of visible categories only, ties broken by
id in the direction of the last ordering key, ``q`` narrowed as the
catalogue's ``medicine_search`` decides (``selectors.search_plan``).

The statements are plain SQL that PostgreSQL and SQLite both run (the
typo-tolerant similarity condition is PostgreSQL's, as in ``medicine_search``).
``catalog/tests/test_api_hot_path.py`` checks them against the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from catalog.models import ActiveSubstance, Manufacturer, Medicine, MedicineStock, MedicineSubstance
from catalog.selectors import SearchPlan, search_plan

from . import serializers as s
from .caching import versioned_get_or_set
from .filters import MedicineFilter
from .tree import VisibleTree

MEDICINE = Medicine._meta.db_table
MANUFACTURER = Manufacturer._meta.db_table
LINK = MedicineSubstance._meta.db_table
SUBSTANCE = ActiveSubstance._meta.db_table
STOCK = MedicineStock._meta.db_table

# Column expressions of the serializers' fields. The category's slug and name
# come from the visible tree (``VisibleTree.nodes``): every listed medicine's
# category is in it, and leaving the join out makes the page a third cheaper.
_COLUMNS = {
    "id": "m.id",
    "slug": "m.slug",
    "name": "m.name",
    "manufacturer_id": "m.manufacturer_id",
    "manufacturer__name": "mf.name",
    "category_id": "m.category_id",
    "dosage_form": "m.dosage_form",
    "pack_size": "m.pack_size",
    "price": "m.price",
    "sellable_quantity": "m.sellable_quantity",
    "is_prescription": "m.is_prescription",
    "is_controlled": "m.is_controlled",
    "image": "m.image",
    "description": "m.description",
    "usage": "m.usage",
    "manufacturer__country": "mf.country",
}
_FROM_TREE = ("category__slug", "category__name")
LIST_FIELDS = tuple(name for name in s.MEDICINE_LIST_FIELDS if name not in _FROM_TREE)
DETAIL_FIELDS = tuple(name for name in s.MEDICINE_DETAIL_FIELDS if name not in _FROM_TREE)
_FROM = f"FROM {MEDICINE} m JOIN {MANUFACTURER} mf ON mf.id = m.manufacturer_id"
LIST_SELECT = "SELECT " + ", ".join(_COLUMNS[name] for name in LIST_FIELDS) + " " + _FROM
DETAIL_SELECT = "SELECT " + ", ".join(_COLUMNS[name] for name in DETAIL_FIELDS) + " " + _FROM

# Public ordering names -> columns, as MedicineFilter's ``ordering`` documents them.
ORDERING_COLUMNS = {
    public: "m." + Medicine._meta.get_field(name).column
    for public, name in MedicineFilter.base_filters["ordering"].param_map.items()
}

# The substance's names by scalar subqueries rather than a join: PostgreSQL
# would hash the whole substance table to join a page's twenty rows.
_STRENGTHS = (
    "SELECT ms.medicine_id, ms.substance_id, "
    f"(SELECT sub.inn_name FROM {SUBSTANCE} sub WHERE sub.id = ms.substance_id), "
    "ms.strength, ms.unit, ms.per_volume_ml{extra} "
    f"FROM {LINK} ms WHERE ms.medicine_id IN ({{ids}}) ORDER BY ms.medicine_id, 3, ms.id"
)
_STRENGTHS_DETAIL = (
    f", (SELECT sub.name_uz FROM {SUBSTANCE} sub WHERE sub.id = ms.substance_id)"
    f", (SELECT sub.name_ru FROM {SUBSTANCE} sub WHERE sub.id = ms.substance_id)"
)


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


@dataclass
class MedicineQuery:
    """The visible medicines narrowed by the cleaned list parameters, as one WHERE clause.

    ``conditions``/``params`` grow with each filter; ``order_by`` is the
    ORDER BY clause. ``empty`` is set when a filter can match nothing (an
    unknown or invisible category, a search for nothing), so no statement runs.
    """

    tree: VisibleTree
    version: int | None = None  # the catalogue version the request reads (counts are cached under it)
    conditions: list[str] = field(default_factory=lambda: ["m.is_active"])
    params: list[Any] = field(default_factory=list)
    order_by: str = "m.name, m.id"
    order_params: list[Any] = field(default_factory=list)
    empty: bool = False

    def __post_init__(self) -> None:
        if self.tree.hidden_ids:
            self.where(f"m.category_id NOT IN ({_placeholders(self.tree.hidden_ids)})", self.tree.hidden_ids)

    def where(self, condition: str, params: Iterable[Any] = ()) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    @classmethod
    def from_params(cls, tree: VisibleTree, cleaned: dict[str, Any], version: int | None = None) -> MedicineQuery:
        """``cleaned``: ``MedicineFilter``'s fields, cleaned (``MedicineFilter.clean``); absent ones are skipped."""
        query = cls(tree, version)
        if cleaned.get("category"):
            category_id = tree.by_slug.get(cleaned["category"])
            if category_id is None:
                query.empty = True
            else:
                ids = tree.descendants_and_self(category_id)
                query.where(f"m.category_id IN ({_placeholders(ids)})", ids)
        if cleaned.get("substance") is not None:
            query.where(
                f"EXISTS (SELECT 1 FROM {LINK} x WHERE x.medicine_id = m.id AND x.substance_id = %s)",
                [cleaned["substance"]],
            )
        if cleaned.get("manufacturer") is not None:
            query.where("m.manufacturer_id = %s", [cleaned["manufacturer"]])
        if cleaned.get("dosage_form"):
            query.where("m.dosage_form = %s", [cleaned["dosage_form"]])
        if cleaned.get("is_prescription") is not None:
            query.where("m.is_prescription = %s", [cleaned["is_prescription"]])
        if cleaned.get("in_stock") is not None:
            query.where("m.sellable_quantity > 0" if cleaned["in_stock"] else "m.sellable_quantity = 0")
        if cleaned.get("location") is not None:
            # In stock there: the place's derived row (one per medicine and place, unique index).
            # The cleaner has already refused a place that is not public.
            query.where(
                f"EXISTS (SELECT 1 FROM {STOCK} ms WHERE ms.medicine_id = m.id AND ms.location_id = %s "
                "AND ms.sellable_quantity > 0)",
                [cleaned["location"]],
            )
        if cleaned.get("price_min") is not None:
            query.where("m.price >= %s", [cleaned["price_min"]])
        if cleaned.get("price_max") is not None:
            query.where("m.price <= %s", [cleaned["price_max"]])
        if cleaned.get("q") and not query.empty:
            query.search(cleaned["q"])
        if cleaned.get("ordering"):
            query.order(cleaned["ordering"])
        return query

    def search(self, text: str) -> None:
        """Narrow to ``text`` as ``medicine_search`` does, in its order (name, or similarity)."""
        plan: SearchPlan = search_plan(text, using=connection.alias, code_exists=self._code_exists)
        if plan.nothing:
            self.empty = True
        elif plan.code is not None:
            self.where("(m.sku = %s OR m.barcode = %s)", [plan.code, plan.code])
        elif plan.similar_to is not None:
            self.where("m.search_text %%> %s", [plan.similar_to])
            self.order_by = "word_similarity(%s, m.search_text) DESC, m.name, m.id"
            self.order_params = [plan.similar_to]
        else:
            for word in plan.words:
                self.where("m.search_text LIKE %s ESCAPE '\\'", ["%" + connection.ops.prep_for_like_query(word) + "%"])

    def _code_exists(self, code: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {MEDICINE} m WHERE {self.where_sql} AND (m.sku = %s OR m.barcode = %s) LIMIT 1",
                [*self.params, code, code],
            )
            return cursor.fetchone() is not None

    def order(self, keys: list[str]) -> None:
        terms = []
        for key in keys:
            descending = key.startswith("-")
            terms.append(ORDERING_COLUMNS[key.lstrip("-")] + (" DESC" if descending else ""))
        # Ties broken by id in the last key's direction: pages never overlap, and one
        # (is_active, price, id) index serves a page read forwards or backwards.
        terms.append("m.id DESC" if keys[-1].startswith("-") else "m.id")
        self.order_by = ", ".join(terms)
        self.order_params = []

    @property
    def where_sql(self) -> str:
        return " AND ".join(self.conditions)

    # The Paginator's interface: count() and slicing.

    def count(self) -> int:
        """The number of matches, counted once per catalogue version (``caching.versioned_get_or_set``)."""
        if self.empty:
            return 0
        sql = f"SELECT COUNT(*) FROM {MEDICINE} m WHERE {self.where_sql}"

        def compute() -> int:
            with connection.cursor() as cursor:
                cursor.execute(sql, self.params)
                return cursor.fetchone()[0]

        return versioned_get_or_set("count", ("medicine", sql, repr(self.params)), compute, version=self.version)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        if self.empty or window.stop <= window.start:
            return []
        sql = (
            f"{LIST_SELECT} WHERE {self.where_sql} ORDER BY {self.order_by} "
            f"LIMIT {int(window.stop - window.start)} OFFSET {int(window.start)}"
        )
        return _rows(self.tree, LIST_FIELDS, sql, [*self.params, *self.order_params])


def _rows(tree: VisibleTree, fields: tuple[str, ...], sql: str, params: list) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts of ``fields``, with their category's slug and name from the tree.

    Rows of a category the tree does not show are left out.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(fields, row, strict=True)) for row in cursor.fetchall()]
    return [tree.with_category(row) for row in rows if row["category_id"] in tree.nodes]


def medicine_by_slug(tree: VisibleTree, slug: str) -> dict[str, Any] | None:
    """One visible medicine's detail row, or None."""
    query = MedicineQuery(tree)
    query.where("m.slug = %s", [slug])
    rows = _rows(tree, DETAIL_FIELDS, f"{DETAIL_SELECT} WHERE {query.where_sql}", query.params)
    return rows[0] if rows else None


def medicine_stock_by_slug(tree: VisibleTree, slug: str) -> tuple[dict[str, Any], dict[int, int]] | None:
    """One visible medicine (id, parts_per_pack) and its sellable units by place, or None: one statement.

    Every place with stock is returned; which of them customers may see is the caller's
    business (``locations.public_locations``), as is what the counts may show (levels only).
    """
    query = MedicineQuery(tree)
    query.where("m.slug = %s", [slug])
    sql = (
        f"SELECT m.id, m.category_id, m.parts_per_pack, ms.location_id, ms.sellable_quantity FROM {MEDICINE} m "
        f"LEFT JOIN {STOCK} ms ON ms.medicine_id = m.id AND ms.sellable_quantity > 0 WHERE {query.where_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, query.params)
        rows = cursor.fetchall()
    if not rows or rows[0][1] not in tree.nodes:
        return None
    medicine_id, _category_id, parts_per_pack = rows[0][:3]
    units = {location_id: quantity for *_, location_id, quantity in rows if location_id is not None}
    return {"id": medicine_id, "parts_per_pack": parts_per_pack}, units


def medicine_rows(tree: VisibleTree, medicine_ids: list[int]) -> dict[int, dict[str, Any]]:
    """List rows of the given medicines that are in visible categories, by id (one statement)."""
    if not medicine_ids:
        return {}
    rows = _rows(tree, LIST_FIELDS, f"{LIST_SELECT} WHERE m.id IN ({_placeholders(medicine_ids)})", medicine_ids)
    return {row["id"]: row for row in rows}


def strengths_by_medicine(medicine_ids: Iterable[int], detail: bool = False) -> dict[int, list[dict]]:
    """The substances and strengths of each medicine, by INN: one statement for a whole page."""
    ids = list(medicine_ids)
    out: dict[int, list[dict]] = defaultdict(list)
    if not ids:
        return out
    fields = s.STRENGTH_DETAIL_FIELDS if detail else s.STRENGTH_FIELDS
    sql = _STRENGTHS.format(extra=_STRENGTHS_DETAIL if detail else "", ids=_placeholders(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for row in cursor.fetchall():
            out[row[0]].append(s.strength_row(dict(zip(fields, row, strict=True)), detail=detail))
    return out
