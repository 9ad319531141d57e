"""A paginator that does not count every row of a big table on each page."""

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def estimated_row_count(queryset: QuerySet) -> int | None:
    """PostgreSQL's planner estimate of the table's rows (kept by autovacuum/ANALYZE), or None.

    ``reltuples`` is -1 for a table never analysed; the caller then counts.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except an unfiltered list of a large PostgreSQL table.

    ``COUNT(*)`` over 100,000 medicines or millions of ledger rows reads the
    whole table on every page view; for the unfiltered list the planner's
    estimate is good enough for "page 3 of ~4 000". Filtered lists (a category,
    a search) are smaller and counted exactly so their totals are right.
    """

    # Below this the exact count is cheap and the estimate may be stale.
    estimate_threshold = 20_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and self._is_unfiltered(queryset):
            estimate = estimated_row_count(queryset)
            if estimate is not None and estimate >= self.estimate_threshold:
                return estimate
        return super().count

    @staticmethod
    def _is_unfiltered(queryset: QuerySet) -> bool:
        query = queryset.query
        return (
            not query.where
            and not query.distinct
            and not query.combinator
            and query.low_mark == 0
            and query.high_mark is None
        )
