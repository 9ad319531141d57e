"""The one place stock rows are locked.

Every stock write runs in one transaction and locks the rows it changes here,
always in the same global order: the medicines (primary-key order), then their
lots (primary-key order), then the lots' stock at each place (``LotStock``,
primary-key order). Two workers touching the same rows queue behind each other
instead of deadlocking, and a quantity is read only after its row is locked, so
two concurrent sales never sell the same unit twice. Because every writer locks
the medicine first, creating a lot's first stock row at a place never races.
Locks are ``FOR NO KEY UPDATE``: they do not block other tables inserting rows
that reference a medicine (order lines, for example).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import TypeVar

from django.db import connection, models, transaction

from catalog.models import Lot, LotStock, Medicine

from .rules import sellable_stock_q

ModelT = TypeVar("ModelT", bound=models.Model)


def batched(items: Iterable, size: int):
    """``itertools.batched`` (Python 3.12) for 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def lock_rows(queryset: models.QuerySet[ModelT]) -> list[ModelT]:
    """Lock the rows of ``queryset`` in primary-key order and return them, freshly read.

    The single place rows are locked (as Saleor's ``lock_objects``): a
    consistent order across all callers is what prevents deadlocks. Call it
    for medicines, then lots, then lot stocks. Only the queryset's own rows are
    locked (``of=("self",)``): a filter that joins another table (a sale's
    "sellable" joins the lot and the place) would otherwise lock the joined
    rows too, and every sale at a branch would queue on the branch's row.
    SQLite ignores row locks (its IMMEDIATE transactions lock the whole database).
    """
    return list(queryset.select_related(None).order_by("pk").select_for_update(no_key=True, of=("self",)))


# The sale's read, compiled once per number of medicines: the SQL the ORM builds from the sellable rule, with
# stand-ins where the place, the medicines and the day go. Compiling it cost more than running it.
_STAND_IN_PLACE = -2_000_000_001
_STAND_IN_DAY = datetime.date(1901, 2, 3)
_SALE_READ: dict[tuple[str, int], tuple[str, list, dict, list]] = {}


def _sale_read(count: int) -> tuple[str, list, dict, list]:
    """(sql, parameters with stand-ins, where each stand-in sits, which model and field each column is)."""
    key = (connection.vendor, count)
    if key not in _SALE_READ:
        medicines = [_STAND_IN_PLACE - 1 - n for n in range(count)]
        queryset = (
            LotStock.objects.filter(sellable_stock_q(_STAND_IN_DAY), location_id=_STAND_IN_PLACE)
            .filter(lot__medicine_id__in=medicines)
            .select_related("lot")
            .only("lot_id", "location_id", "quantity", "lot__medicine_id", "lot__quantity", "lot__expiry_date")
            .order_by("lot_id", "pk")
            .select_for_update(no_key=True, of=("self", "lot"))
        )
        compiler = queryset.query.get_compiler(connection=connection)
        with transaction.atomic():  # the ORM compiles FOR UPDATE only inside a transaction
            sql, params = compiler.as_sql()
        columns = [(col.target.model, col.target.attname, col) for col, _sql, _alias in compiler.select]
        params = list(params)
        day = connection.ops.adapt_datefield_value(_STAND_IN_DAY)  # as the ORM passes a date to this backend
        wanted = {_STAND_IN_PLACE: _STAND_IN_PLACE, _STAND_IN_DAY: day, **{m: m for m in medicines}}
        if any(params.count(value) != 1 for value in wanted.values()):
            raise RuntimeError("The sale's read no longer has one parameter per place, day and medicine.")
        slots = {stand_in: params.index(value) for stand_in, value in wanted.items()}
        _SALE_READ[key] = (sql, params, slots, columns)
    return _SALE_READ[key]


def lock_sellable_stock(location_id: int, medicine_ids: Sequence[int], today: datetime.date) -> list[LotStock]:
    """Lock the sellable stock of the medicines at the place with its lots, in one statement; lots loaded.

    The rows ``rules.sellable_stock_q`` names, each lot with its stock row, lot
    by lot in primary-key order. For a caller that already holds the lock of
    every medicine concerned (a sale): no other writer reaches these lots
    meanwhile, so taking each lot with its stock row, rather than all lots then
    all stock rows, cannot deadlock, and it saves a round trip on the till's path.
    The rows carry the stock row's fields and the lot's medicine, quantity and expiry.
    """
    ids = sorted(set(medicine_ids))
    sql, template, slots, columns = _sale_read(len(ids))
    params = list(template)
    params[slots[_STAND_IN_PLACE]] = location_id
    params[slots[_STAND_IN_DAY]] = connection.ops.adapt_datefield_value(today)
    for n, medicine_id in enumerate(ids):
        params[slots[_STAND_IN_PLACE - 1 - n]] = medicine_id
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The backend's converters of each column, as the ORM applies them (SQLite returns dates as text).
    converters = [
        (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)) for *_, col in columns
    ]
    stocks = []
    for row in rows:
        values: dict[type, dict] = {LotStock: {}, Lot: {}}
        for (model, attname, _col), (col, convert), value in zip(columns, converters, row, strict=True):
            for converter in convert:
                value = converter(value, col, connection)
            values[model][attname] = value
        stock = LotStock(**values[LotStock])
        stock.lot = Lot(**values[Lot])
        stocks.append(stock)
    return stocks


def lock_medicines(medicine_ids: Iterable[int]) -> None:
    """Lock the medicines in primary-key order (``lock_rows``), loading only their ids.

    Only the lock is wanted, not the rows: reading every column of 100,000
    medicines for an import cost more than the work it guarded. PostgreSQL
    takes any number of ids in one statement (an array); elsewhere they go in
    ordered chunks of 5,000, which keeps the primary-key order across chunks.
    """
    ids = sorted(set(medicine_ids))
    if not ids:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Medicine._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [ids])
        return
    for chunk in batched(ids, 5000):
        lock_rows(Medicine.objects.filter(pk__in=chunk).only("pk"))
