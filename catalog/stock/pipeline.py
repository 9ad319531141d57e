"""Several writes in one round trip to the database: psycopg's pipeline mode on PostgreSQL.

A sale at the till is a handful of small statements (the stock and lot rows,
the derived columns, the ledger row) whose answers nothing waits for; sent one
by one, the round trips cost more than the database's work. Inside
``one_round_trip`` they are queued and sent together, and the block ends when
the server has answered all of them; a statement that needs its answer (an
``INSERT ... RETURNING``, a ``SELECT``) simply flushes the queue there. Errors
surface as Django's database errors, at the latest when the block ends.
Elsewhere (SQLite) the statements run one by one, the same SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def one_round_trip() -> Iterator[None]:
    if connection.vendor != "postgresql" or connection.connection is None:
        yield
        return
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
