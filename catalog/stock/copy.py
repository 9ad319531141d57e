"""PostgreSQL ``COPY`` for the import's inserts: the same rows ``bulk_create`` and simple-history write, faster.

Django's ``bulk_create`` prepares every value in Python and sends it as SQL text;
for 100,000 lots, their history rows and their ledger rows that costs more than
the database's own work. ``COPY`` streams the rows instead. Primary keys are taken
from the tables' sequences first (the ledger and history rows need the lots' ids).
The rows are exactly what ``bulk_create_with_history`` writes: every tracked field
of the lot, ``history_type`` "+", ``history_user`` the importing user, the change
reason, one ``history_date`` for the batch (``tests/test_import_receipt`` compares
the two paths row by row).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Model


def _columns(fields) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def allocate_ids(model: type[Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[Model], fields: list, rows) -> None:
    """COPY ``rows`` (sequences of values in ``fields`` order) into ``model``'s table."""
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({_columns(fields)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def copy_objects(objs: list[Model], *, with_pk: bool) -> None:
    """Insert model instances (all concrete fields; the pk too when ``with_pk``)."""
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    copy_rows(model, fields, ([getattr(obj, f.attname) for f in fields] for obj in objs))


def copy_history_created(objs: list[Model], *, user, reason: str, when) -> None:
    """The "+" history rows of freshly created ``objs``, as simple-history's ``bulk_history_create`` builds them."""
    if not objs:
        return
    history_model = type(objs[0]).history.model
    tracked = history_model.tracked_fields
    extra = ["history_date", "history_change_reason", "history_type", "history_user"]
    fields = [history_model._meta.get_field(f.name) for f in tracked] + [
        history_model._meta.get_field(n) for n in extra
    ]
    user_id = user.pk if user is not None else None
    copy_rows(
        history_model,
        fields,
        ([getattr(obj, f.attname) for f in tracked] + [when, reason or None, "+", user_id] for obj in objs),
    )
