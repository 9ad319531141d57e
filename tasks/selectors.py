"""Reads of alerts that more than one caller needs.

``location_ids`` narrows to the alerts of those places (``None``: every
place, as for the administrator; ``catalog.stock.member_location_ids`` gives a
member's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from catalog.models import LotStock, MedicineStock

from .models import Alert, Severity

DIGEST_TOP = 20


@dataclass
class Digest:
    total: int = 0
    # (kind, window, count), most urgent first
    counts: list[tuple[str, int, int]] = field(default_factory=list)
    top: list[Alert] = field(default_factory=list)


def _severity_rank():
    return Case(
        When(severity=Severity.CRITICAL, then=Value(0)),
        When(severity=Severity.WARNING, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def at_places(queryset: QuerySet[Alert], location_ids: Iterable[int] | None) -> QuerySet[Alert]:
    """``queryset`` narrowed to the alerts of ``location_ids`` (``None``: unchanged)."""
    if location_ids is None:
        return queryset
    return queryset.filter(location_id__in=sorted(location_ids))


def with_place_figures(queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    """Alerts with what their messages show about their place.

    ``on_hand``: the lot's units at the alert's place (lot alerts);
    ``reorder_level_here``: the place's reorder level, else the medicine's
    (stock alerts). Both are correlated lookups of one row through a unique
    index, for the handful of alerts a message or a list shows.
    """
    on_hand = LotStock.objects.filter(lot_id=OuterRef("lot_id"), location_id=OuterRef("location_id")).values(
        "quantity"
    )[:1]
    level = (
        MedicineStock.objects.filter(medicine_id=OuterRef("medicine_id"), location_id=OuterRef("location_id"))
        .annotate(level=Coalesce(F("reorder_level"), F("medicine__reorder_level")))
        .values("level")[:1]
    )
    return queryset.select_related("medicine", "lot", "lot__medicine", "location").annotate(
        on_hand=Subquery(on_hand, output_field=IntegerField()),
        reorder_level_here=Subquery(level, output_field=IntegerField()),
    )


def alerts_open(*, kinds: Sequence[str] | None = None, location_ids: Iterable[int] | None = None) -> QuerySet[Alert]:
    """Open alerts, most urgent first, with what their messages and lists show."""
    qs = with_place_figures(at_places(Alert.objects.open(), location_ids)).select_related("acknowledged_by")
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.annotate(severity_rank=_severity_rank()).order_by("severity_rank", "window", "lot__expiry_date", "id")


def alerts_for_messages(alert_ids: Iterable[int]) -> list[Alert]:
    """The alerts a message lists (one statement)."""
    return list(with_place_figures(Alert.objects.filter(pk__in=list(alert_ids))))


def alerts_for_digest(
    *, kinds: Sequence[str], location_ids: Iterable[int] | None = None, top: int = DIGEST_TOP
) -> Digest:
    rows = (
        at_places(Alert.objects.open(), location_ids)
        .filter(kind__in=list(kinds))
        .values("kind", "window")
        .annotate(n=Count("id"))
        .order_by("kind", "window")
    )
    counts = [(row["kind"], row["window"], row["n"]) for row in rows]
    total = sum(n for _, _, n in counts)
    top_alerts = list(alerts_open(kinds=kinds, location_ids=location_ids)[:top]) if total else []
    return Digest(total=total, counts=counts, top=top_alerts)


def open_alerts_count(*, location_ids: Iterable[int] | None = None) -> int:
    """Open alerts nobody has acknowledged yet, at ``location_ids`` (the partial index on open alerts)."""
    return at_places(Alert.objects.open(), location_ids).unacknowledged().count()
