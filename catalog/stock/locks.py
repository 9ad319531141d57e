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

from collections.abc import Iterable
from itertools import islice
from typing import TypeVar

from django.db import connection, models

from catalog.models import Medicine

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


def lock_stock_with_lots(queryset: models.QuerySet) -> list:
    """Lock ``LotStock`` rows and their lots in one statement, lot by lot in primary-key order; lots loaded.

    For a caller that already holds the lock of every medicine concerned (a
    sale): no other writer can reach these lots meanwhile, so taking each lot
    with its stock row, rather than all lots then all stock rows, cannot
    deadlock, and it saves a round trip on the till's path.
    """
    return list(
        queryset.select_related("lot").order_by("lot_id", "pk").select_for_update(no_key=True, of=("self", "lot"))
    )


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
        array = Medicine.objects.extra(where=[f"{Medicine._meta.db_table}.id = ANY(%s)"], params=[ids])
        lock_rows(array.only("pk"))
        return
    for chunk in batched(ids, 5000):
        lock_rows(Medicine.objects.filter(pk__in=chunk).only("pk"))
