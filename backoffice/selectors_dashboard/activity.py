"""The dashboards' activity figures: the ledger's dispensing, the import log, the audited history.

Dispensing is per place (``places`` as in ``backoffice.selectors_dashboard.stock``);
imports and the history are the chain's. A fixed number of statements each.
"""

from __future__ import annotations

import datetime

from django.db import connections
from django.db.models import CharField, F, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.utils import timezone

from catalog.models import (
    ActiveSubstance,
    Category,
    ImportJob,
    Lot,
    Manufacturer,
    Medicine,
    MovementKind,
    StockMovement,
)

from .stock import Places


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def units_dispensed_by_day(*, places: Places = None, days: int = 30) -> list[tuple[datetime.date, int]]:
    """Units dispensed at ``places`` on each of the last ``days`` days (today included), Tashkent days.

    One statement, served by the ledger's (kind, created_at) index for the
    chain and its (location, created_at) index for places; days without sales
    are zero.
    """
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    moves = StockMovement.objects.filter(kind=MovementKind.DISPENSE, created_at__gte=start)
    if places is not None:
        moves = moves.filter(location_id__in=sorted(places))
    rows = moves.annotate(day=TruncDate("created_at")).values("day").annotate(units=Sum("quantity")).order_by("day")
    by_day = {_as_date(row["day"]): -(row["units"] or 0) for row in rows}
    dates = [first + datetime.timedelta(days=n) for n in range(days)]
    return [(day, by_day.get(day, 0)) for day in dates]


def imports_today_count() -> int:
    return ImportJob.objects.filter(created_at__date=timezone.localdate()).count()


def recent_imports(*, limit: int = 8) -> list[ImportJob]:
    return list(
        ImportJob.objects.select_related("created_by")
        .only(
            "pk",
            "kind",
            "state",
            "original_name",
            "created_at",
            "total_rows",
            "error_rows",
            "created_by__phone",
            "created_by__first_name",
            "created_by__last_name",
        )
        .order_by("-created_at", "-id")[:limit]
    )


# The audited models shown in "latest changes": (model, what names a row).
AUDITED = (
    (Medicine, "name"),
    # A lot number alone says little: "Nurofen 200 mg · L2401".
    (Lot, Concat(F("medicine__name"), Value(" · "), F("lot_number"), output_field=CharField())),
    (Category, "name"),
    (Manufacturer, "name"),
    (ActiveSubstance, "inn_name"),
)


def _audited_models():
    from tasks.models import Alert

    return (*AUDITED, (Alert, "kind"))


def latest_changes(*, limit: int = 10) -> list[dict]:
    """The latest history rows across the audited models, newest first (one ``UNION ALL`` statement).

    Each branch is bounded to ``limit`` rows by its ``history_date`` index where
    the database allows ordering inside a compound query (PostgreSQL); rows are
    dicts with ``model`` ("app_label.model"), ``object_id``, ``label``,
    ``history_type`` ("+", "~", "-"), ``history_date``, ``reason`` and the user's
    ``user_phone``/``user_first_name``/``user_last_name``.
    """
    branches: list[QuerySet] = []
    bounded = None
    for model, label_field in _audited_models():
        historical = model.history.model
        queryset = historical.objects.annotate(
            model=Value(f"{model._meta.app_label}.{model._meta.model_name}", output_field=CharField()),
            object_id=F("id"),
            label=Cast(label_field, output_field=CharField()) if isinstance(label_field, str) else label_field,
            reason=Coalesce("history_change_reason", Value(""), output_field=CharField()),
            user_phone=F("history_user__phone"),
            user_first_name=F("history_user__first_name"),
            user_last_name=F("history_user__last_name"),
        ).values(
            "model",
            "object_id",
            "label",
            "history_type",
            "history_date",
            "reason",
            "user_phone",
            "user_first_name",
            "user_last_name",
        )
        if bounded is None:
            bounded = connections[queryset.db].features.supports_slicing_ordering_in_compound
        # Historical models are ordered by default; a branch may only be ordered when it is also sliced.
        queryset = queryset.order_by("-history_date")[:limit] if bounded else queryset.order_by()
        branches.append(queryset)
    first, *rest = branches
    return list(first.union(*rest, all=True).order_by("-history_date")[:limit])
