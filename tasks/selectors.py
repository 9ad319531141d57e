"""Reads of alerts that more than one caller needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

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


def alerts_open(*, kinds: Sequence[str] | None = None) -> QuerySet[Alert]:
    """Open alerts, most urgent first, with what their messages and lists show."""
    qs = Alert.objects.open().select_related("medicine", "lot", "lot__medicine", "acknowledged_by")
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.annotate(severity_rank=_severity_rank()).order_by("severity_rank", "window", "lot__expiry_date", "id")


def alerts_for_digest(*, kinds: Sequence[str], top: int = DIGEST_TOP) -> Digest:
    rows = (
        Alert.objects.open()
        .filter(kind__in=list(kinds))
        .values("kind", "window")
        .annotate(n=Count("id"))
        .order_by("kind", "window")
    )
    counts = [(row["kind"], row["window"], row["n"]) for row in rows]
    total = sum(n for _, _, n in counts)
    return Digest(total=total, counts=counts, top=list(alerts_open(kinds=kinds)[:top]) if total else [])


def open_alerts_count() -> int:
    """Open alerts nobody has acknowledged yet (served by the partial index on open alerts)."""
    return Alert.objects.open().unacknowledged().count()
