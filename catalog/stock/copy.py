"""PostgreSQL ``COPY`` for bulk inserts: the same rows ``bulk_create`` and simple-history write, faster.

Django's ``bulk_create`` sends every row as SQL text, and for 100,000 lots, their
stock rows, history rows and ledger rows that costs more than the database's own
work. ``COPY`` streams the rows instead. Each value is prepared by its field's own
``get_db_prep_save``, exactly as ``bulk_create`` would prepare it (decimals, JSON,
aware datetimes, foreign keys), except where that is the value itself (``_AS_IS``:
an int, a string, a decimal, a date as the driver takes it), so the two paths write the same rows
(``tests/test_import_concurrency_celery`` compares them). Primary keys are taken
from the tables' own sequences first, so they are what ``INSERT`` would have used
and the rows that point at them (stock, ledger, history) can be built before
anything is sent. History rows are what ``bulk_create_with_history`` writes: every
tracked field, ``history_type`` "+", the acting user, the change reason, one
``history_date`` for the batch.

``insert_objects`` is the one writer the stock core's bulk services and the
synthetic catalogue use: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Model

# Off: every database takes the ``bulk_create`` path (the tests compare the two).
USE_COPY = True


def enabled() -> bool:
    """Whether inserts go through ``COPY`` on this connection."""
    return USE_COPY and connection.vendor == "postgresql"


def _columns(fields) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def allocate_ids(model: type[Model], count: int) -> list[int]:
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[Model], fields: Sequence, rows: Iterable[Sequence]) -> None:
    """COPY ``rows`` (values already prepared for the database, in ``fields`` order) into ``model``'s table."""
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({_columns(fields)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _real_connection():
    # The connection itself, not the ``django.db.connection`` proxy: it is read once per value.
    return connections[DEFAULT_DB_ALIAS]


def _stamped(fields) -> set[str]:
    return {f.attname for f in fields if getattr(f, "auto_now_add", False)}


def _value(field, obj, stamped: set[str]):
    # A creation time set by the caller (a receipt dated on its received day) wins over auto_now_add,
    # which bulk_create would apply; every other field gives what its pre_save gives on an insert.
    if field.attname in stamped and getattr(obj, field.attname) is not None:
        return getattr(obj, field.attname)
    return field.pre_save(obj, True)


# Fields whose value PostgreSQL's driver takes as it is: for these, on this backend, ``get_db_prep_save``
# returns the value unchanged (ints, strings, decimals, dates, aware datetimes, foreign keys' ids), and for
# 100,000 rows calling it costs more than the COPY itself. Every other field is prepared by its own method.
_AS_IS = (models.IntegerField, models.CharField, models.DecimalField, models.DateField, models.ForeignKey)
_AS_IS_TYPES = (int, str, Decimal, datetime.date, type(None))


def _as_is(field) -> bool:
    # Django's own classes only: a third-party subclass (a phone number field) may convert on the way; a
    # datetime goes through its field, which makes a naive one aware.
    return (
        isinstance(field, _AS_IS)
        and not isinstance(field, models.DateTimeField)
        and type(field).__module__.startswith("django.db.models.fields")
    )


def _prepare(field, value, conn, as_is: bool):
    """``value`` as ``field`` prepares it for the database: itself when it is already what the driver takes."""
    if as_is and isinstance(value, _AS_IS_TYPES):
        return value
    return field.get_db_prep_save(value, conn)


def copy_objects(objs: Sequence[Model], *, with_pk: bool) -> None:
    """Insert model instances (all concrete fields; the pk too when ``with_pk``), values prepared by their fields."""
    if not objs:
        return
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    stamped = _stamped(fields)
    conn = _real_connection()
    plan = [(f, f.attname not in stamped and _as_is(f)) for f in fields]
    copy_rows(
        model,
        fields,
        ([_prepare(f, _value(f, obj, stamped), conn, as_is) for f, as_is in plan] for obj in objs),
    )


def copy_insert(objs: Sequence[Model]) -> None:
    """COPY new instances with primary keys taken from their table's sequence; sets ``obj.pk``."""
    if not objs:
        return
    for obj, pk in zip(objs, allocate_ids(type(objs[0]), len(objs)), strict=True):
        obj.pk = pk
    copy_objects(objs, with_pk=True)


def insert_objects(objs: Sequence[Model], *, batch_size: int = 5000) -> None:
    """Insert new instances of one model and set their primary keys: COPY on PostgreSQL, ``bulk_create`` elsewhere."""
    if not objs:
        return
    if enabled():
        copy_insert(objs)
    else:
        type(objs[0]).objects.bulk_create(objs, batch_size=batch_size)


def copy_history_created(objs: Sequence[Model], *, user, reason: str, when) -> None:
    """The "+" history rows of freshly created ``objs``, as simple-history's ``bulk_history_create`` builds them."""
    if not objs:
        return
    history_model = type(objs[0]).history.model
    tracked = history_model.tracked_fields
    fields = [history_model._meta.get_field(f.name) for f in tracked]
    extra = [
        history_model._meta.get_field(name)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    conn = _real_connection()
    user_id = user.pk if user is not None else None
    trailer = [
        extra[0].get_db_prep_save(when, conn),
        reason or None,
        "+",
        user_id,
    ]
    plan = [(field, source.attname, _as_is(field)) for field, source in zip(fields, tracked, strict=True)]
    copy_rows(
        history_model,
        fields + extra,
        (
            [_prepare(field, getattr(obj, attname), conn, as_is) for field, attname, as_is in plan] + trailer
            for obj in objs
        ),
    )
