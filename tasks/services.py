"""Alert scans, acknowledgement and notification bookkeeping: every write of the tasks app.

The scans are set-based: each is a fixed number of SQL statements whatever
the number of lots, medicines or places (resolve what cleared, touch what is
still true, insert what is new with ``INSERT ... SELECT ... ON CONFLICT DO
NOTHING``), and the partial unique index on open alerts makes a rerun, a
redelivered task or two workers at once harmless.

Alerts are per place: low stock at a branch is not low stock at the
warehouse. Expiry alerts are per lot per place, from the lot's stock there
(``LotStock``); stock alerts per medicine per place, from the place's derived
row (``MedicineStock``, kept by the stock core under its locks) and the
place's reorder level (its own, else the medicine's). Transit holds no
sellable stock and raises none. A stock change resolves the alerts it cleared
at once (``alerts_resolve_cleared``, called from ``tasks.receivers``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from catalog.models import NOT_SELLING_KINDS, LotStatus, LotStock, MedicineStock
from catalog.stock import batched, lots_expire

from .models import (
    EXPIRY_KINDS,
    STOCK_KINDS,
    Alert,
    AlertDelivery,
    AlertKind,
    DeliveryStatus,
    DigestDelivery,
    Severity,
)
from .notifications import Channel, DeliveryError, enabled_channels
from .notifications.messages import render_alerts, render_digest
from .selectors import alerts_for_digest, alerts_for_messages

logger = logging.getLogger(__name__)
# A critical alert older than this is no longer "new": it waits for the digest.
IMMEDIATE_MAX_AGE = timedelta(hours=24)
# A delivery claimed this long ago and never finished belongs to a worker that died.
STALE_CLAIM = timedelta(minutes=10)
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600

# Scans of the same kind are serialised on PostgreSQL (SQLite serialises every
# writer already): two workers running the same scan would otherwise wait on
# each other's uncommitted unique-index entries in an arbitrary order.
_SCAN_LOCK_KEYS = {"expiry": 720_601, "stock": 720_602}


@dataclass
class ScanResult:
    scan: str
    created: int = 0
    resolved: int = 0
    open_by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"scan": self.scan, "created": self.created, "resolved": self.resolved, "open": self.open_by_kind}


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _db_datetime(value: datetime):
    """A datetime as the backend stores it, for hand-written SQL parameters."""
    return connection.ops.adapt_datetimefield_value(value)


def _insert_from_select(model, columns: Sequence[str], queryset: QuerySet, returning: str = "") -> list | int:
    """``INSERT INTO model (columns) SELECT ... ON CONFLICT DO NOTHING``: one statement.

    ``queryset`` is a ``values()`` query whose selected expressions are in the
    order of ``columns``. ``bulk_create`` would first pull every row into
    Python; this never leaves the database. With ``returning`` the inserted
    rows' column is returned (PostgreSQL, SQLite 3.35+), else the row count.
    """
    select_sql, params = queryset.query.sql_with_params()
    sql = (
        f"INSERT INTO {_qn(model._meta.db_table)} ({', '.join(_qn(c) for c in columns)}) "
        f"{select_sql} ON CONFLICT DO NOTHING"
    )
    if returning:
        sql += f" RETURNING {_qn(returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            return [row[0] for row in cursor.fetchall()]
        return cursor.rowcount


def _lock_scan(name: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SCAN_LOCK_KEYS[name]])


def _try_lock_scan(name: str) -> bool:
    """The scan's lock if it is free now (never waits); always True on SQLite."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SCAN_LOCK_KEYS[name]])
        return bool(cursor.fetchone()[0])


def _open_counts(kinds: Iterable[str]) -> dict[str, int]:
    """Open alerts by kind: one statement."""
    rows = Alert.objects.open().filter(kind__in=list(kinds)).values("kind").annotate(n=Count("id")).order_by()
    return {row["kind"]: row["n"] for row in rows}


def _alert_columns(queryset: QuerySet, now: datetime) -> QuerySet:
    """The scan's candidates as rows of tasks_alert (see ``_ALERT_COLUMNS``)."""
    stamp = Value(now, output_field=DateTimeField())
    return queryset.values(
        c_kind=F("a_kind"),
        c_severity=F("a_severity"),
        c_medicine=F("a_medicine"),
        c_lot=F("a_lot"),
        c_location=F("a_location"),
        c_window=F("a_window"),
        c_first_seen=stamp,
        c_last_seen=stamp,
    )


_ALERT_COLUMNS = ("kind", "severity", "medicine_id", "lot_id", "location_id", "window_days", "first_seen", "last_seen")


def _run_scan(name: str, kinds: Sequence[str], still_holds: Q, is_new: QuerySet, now: datetime) -> ScanResult:
    """Resolve, touch and insert alerts of ``kinds``: a fixed handful of statements.

    ``still_holds`` is a condition on an open alert that is true while its
    subject is still among the scan's candidates; ``is_new`` is the candidates
    less those that already have their open alert (the unique index would refuse
    them anyway; leaving them out early spares it the conflicts).
    """
    result = ScanResult(scan=name)
    with transaction.atomic():
        _lock_scan(name)
        open_alerts = Alert.objects.open().filter(kind__in=kinds)
        # Resolving reads every open alert but writes only those that cleared.
        result.resolved = open_alerts.exclude(still_holds).update(resolved_at=now)
        # Then every alert still open is seen now. Only last_seen changes, which
        # no index covers, and the table's fillfactor leaves room on each page:
        # PostgreSQL rewrites these rows in place (HOT, migration 0002).
        open_alerts.update(last_seen=now)
        result.created = _insert_from_select(Alert, _ALERT_COLUMNS, _alert_columns(is_new, now))
    result.open_by_kind = _open_counts(kinds)
    return result


def expiry_windows() -> list[int]:
    windows = sorted({int(w) for w in settings.ALERT_EXPIRY_WINDOWS if int(w) > 0})
    if not windows:
        raise ValueError("ALERT_EXPIRY_WINDOWS needs at least one positive number of days.")
    return windows


def _expiry_candidates(today: date) -> QuerySet:
    """Stock of lots at places that deserves an expiry alert today, with the alert's kind, window and severity.

    One row per lot per place (``LotStock``) holding units there; transit holds
    no sellable stock and raises none. An available lot is in the narrowest
    window it has reached (30 rather than 90 when 20 days are left), so it
    moves from the 180-day alert to the 90-day one to the 30-day one, each a
    new alert. Stock past its date (available, or already swept to expired) is
    an "expired" alert at its place until it is written off there. Severity:
    expired and the narrowest window are critical (they are messaged at once),
    the next window a warning.
    """
    windows = expiry_windows()
    horizon = today + timedelta(days=windows[-1])
    expired = Q(lot__expiry_date__lte=today)
    window = Case(
        When(expired, then=Value(0)),
        *[When(lot__expiry_date__lte=today + timedelta(days=w), then=Value(w)) for w in windows],
        output_field=IntegerField(),
    )
    severity_whens = [When(expired, then=Value(Severity.CRITICAL.value))]
    severity_whens.append(
        When(lot__expiry_date__lte=today + timedelta(days=windows[0]), then=Value(Severity.CRITICAL.value))
    )
    if len(windows) > 1:
        severity_whens.append(
            When(lot__expiry_date__lte=today + timedelta(days=windows[1]), then=Value(Severity.WARNING.value))
        )
    return (
        LotStock.objects.filter(quantity__gt=0)
        .exclude(location__kind__in=NOT_SELLING_KINDS)
        .filter(
            Q(lot__status=LotStatus.AVAILABLE, lot__expiry_date__lte=horizon)
            | Q(lot__status__in=[LotStatus.AVAILABLE, LotStatus.EXPIRED], lot__expiry_date__lte=today)
        )
        .annotate(
            a_kind=Case(
                When(expired, then=Value(AlertKind.EXPIRED.value)),
                default=Value(AlertKind.EXPIRY.value),
                output_field=CharField(),
            ),
            a_window=window,
            a_severity=Case(*severity_whens, default=Value(Severity.INFO.value), output_field=CharField()),
            a_medicine=F("lot__medicine_id"),
            a_lot=F("lot_id"),
            a_location=F("location_id"),
        )
        .order_by("lot_id", "location_id")
    )


def _expiry_still_holds(today: date) -> Exists:
    """On an open expiry alert: its lot's stock at its place is still a candidate, of the same kind and window."""
    return Exists(
        _expiry_candidates(today).filter(
            lot_id=OuterRef("lot_id"),
            location_id=OuterRef("location_id"),
            a_kind=OuterRef("kind"),
            a_window=OuterRef("window"),
        )
    )


def alerts_scan_expiry(*, now: datetime | None = None) -> ScanResult:
    """Open, keep and resolve expiry alerts ("expiry" per window, and "expired") from live stock per place."""
    now = now or timezone.now()
    candidates = _expiry_candidates(timezone.localdate(now))
    already_open = Alert.objects.open().filter(
        lot_id=OuterRef("lot_id"),
        location_id=OuterRef("location_id"),
        kind=OuterRef("a_kind"),
        window=OuterRef("a_window"),
    )
    is_new = candidates.exclude(Exists(already_open))
    return _run_scan("expiry", list(EXPIRY_KINDS), _expiry_still_holds(timezone.localdate(now)), is_new, now)


def _stock_candidates() -> QuerySet:
    """Active medicines at places where their sellable stock is at or below the place's reorder level.

    One row per medicine per place that carries it (has its ``MedicineStock``
    row: it holds or held a lot of it there); transit is never a candidate.
    The level is the place's own (``MedicineStock.reorder_level``), else the
    medicine's. Sellable stock is the stock core's derived column (available
    lots, ``expiry_date > today``), kept under the medicines' locks by every
    stock change and refreshed by the daily sweep when a lot's day comes. No
    sellable stock is "out of stock" (critical) whatever the level (never
    negative). One pass over the narrow per-place rows: no GROUP BY.
    """
    return (
        MedicineStock.objects.filter(medicine__is_active=True)
        .exclude(location__kind__in=NOT_SELLING_KINDS)
        .annotate(a_level=Coalesce(F("reorder_level"), F("medicine__reorder_level")))
        .filter(sellable_quantity__lte=F("a_level"))
        .annotate(
            a_kind=Case(
                When(sellable_quantity=0, then=Value(AlertKind.OUT_OF_STOCK.value)),
                default=Value(AlertKind.LOW_STOCK.value),
                output_field=CharField(),
            ),
            a_severity=Case(
                When(sellable_quantity=0, then=Value(Severity.CRITICAL.value)),
                default=Value(Severity.WARNING.value),
                output_field=CharField(),
            ),
            a_window=Value(0, output_field=IntegerField()),
            a_medicine=F("medicine_id"),
            a_lot=Value(None, output_field=IntegerField()),
            a_location=F("location_id"),
        )
        .order_by("medicine_id", "location_id")
    )


def _stock_still_holds() -> Exists:
    """True on an open stock alert while its medicine at its place is still a candidate of the same kind."""
    return Exists(
        _stock_candidates().filter(
            medicine_id=OuterRef("medicine_id"), location_id=OuterRef("location_id"), a_kind=OuterRef("kind")
        )
    )


def alerts_scan_low_stock(*, now: datetime | None = None) -> ScanResult:
    """Open, keep and resolve "low stock" and "out of stock" alerts per place from the places' stock."""
    now = now or timezone.now()
    candidates = _stock_candidates()
    already_open = Alert.objects.open().filter(
        medicine_id=OuterRef("medicine_id"), location_id=OuterRef("location_id"), kind=OuterRef("a_kind")
    )
    return _run_scan("stock", list(STOCK_KINDS), _stock_still_holds(), candidates.exclude(Exists(already_open)), now)


# Medicines per statement when a stock change resolves their alerts.
RESOLVE_CHUNK = 5000


def alerts_resolve_cleared(*, medicine_ids: Iterable[int], now: datetime | None = None) -> int:
    """Resolve the open alerts of ``medicine_ids`` whose cause is gone, at every place; returns how many.

    Called right after a stock change commits (``tasks.receivers``), so a
    receipt clears its out-of-stock alert, and a write-off its expired-stock
    alert, without waiting for the next scan. Only resolves: opening alerts
    (and messaging about them) stays with the scans. A scan of the same kind
    that holds its lock now is not waited for (this runs after a sale, in the
    request): those alerts are settled by the next scan, the rescan this change
    enqueued or the scheduled one.
    """
    ids = sorted(set(medicine_ids))
    if not ids:
        return 0
    # Most sales touch medicines without an open alert: one indexed probe, and done.
    if len(ids) <= RESOLVE_CHUNK and not Alert.objects.open().filter(medicine_id__in=ids).exists():
        return 0
    now = now or timezone.now()
    today = timezone.localdate(now)
    resolved = 0
    with transaction.atomic():
        for name, kinds, still_holds in (
            ("expiry", EXPIRY_KINDS, _expiry_still_holds(today)),
            ("stock", STOCK_KINDS, _stock_still_holds()),
        ):
            if not _try_lock_scan(name):
                logger.info("A %s scan is running: it or the next one resolves what this change cleared", name)
                continue
            for chunk in batched(ids, RESOLVE_CHUNK):
                resolved += (
                    Alert.objects.open()
                    .filter(kind__in=list(kinds), medicine_id__in=chunk)
                    .exclude(still_holds)
                    .update(resolved_at=now)
                )
    return resolved


def lots_sweep_expired(*, now: datetime | None = None) -> int:
    """Move lots past their expiry date to status expired (catalog's sweep, with history)."""
    return lots_expire(today=timezone.localdate(now or timezone.now()))


@transaction.atomic
def alerts_acknowledge(*, alert_ids: Iterable[int], user: User) -> int:
    """Mark open, unacknowledged alerts as seen by ``user``; returns how many. Recorded in the history."""
    now = timezone.now()
    alerts = list(
        Alert.objects.filter(pk__in=list(alert_ids), acknowledged_at__isnull=True).order_by("pk").select_for_update()
    )
    for alert in alerts:
        alert.acknowledged_by = user
        alert.acknowledged_at = now
    if alerts:
        bulk_update_with_history(
            alerts,
            Alert,
            ["acknowledged_by", "acknowledged_at"],
            default_user=user,
            default_change_reason="acknowledged",
        )
    return len(alerts)


# --- Notifications ------------------------------------------------------------


@dataclass
class NotifyResult:
    sent: int = 0
    failed: int = 0
    # Seconds until the earliest failed delivery may be tried again, if any.
    retry_in: int | None = None

    def note_retry(self, seconds: int) -> None:
        self.retry_in = seconds if self.retry_in is None else min(self.retry_in, seconds)


def backoff_seconds(attempts: int, retry_after: int | None = None) -> int:
    """Exponential back-off (1, 2, 4 ... minutes, at most an hour), never sooner than the server asked."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return max(delay, int(retry_after or 0))


def _claim_alert_deliveries(
    *,
    channel: str,
    target: str,
    kinds: Sequence[str],
    now: datetime,
    location_ids: Iterable[int] | None = None,
) -> list[int]:
    """Claim the critical alerts ``target`` has not had on ``channel``: new claims and due retries.

    New claims are the alerts of ``kinds`` at ``location_ids`` (``None``: every
    place), the places the recipient works at. The claim is the delivery row
    itself (unique per alert, channel and recipient), committed before
    anything is sent: a second worker finds it taken. A failed delivery is
    reclaimed by a conditional update once its back-off has passed; a claim
    left "sending" by a worker that died is reclaimed after STALE_CLAIM (the
    one case where a message could go out twice: the worker died after
    sending and before recording it).
    """
    fresh = (
        Alert.objects.open()
        .unacknowledged()
        .filter(severity=Severity.CRITICAL, kind__in=list(kinds), first_seen__gte=now - IMMEDIATE_MAX_AGE)
    )
    if location_ids is not None:
        fresh = fresh.filter(location_id__in=sorted(location_ids))
    fresh = fresh.order_by("id").values(
        c_alert=F("id"),
        c_channel=Value(channel, output_field=CharField()),
        c_target=Value(target, output_field=CharField()),
        c_status=Value(DeliveryStatus.SENDING.value, output_field=CharField()),
        c_attempts=Value(1, output_field=IntegerField()),
        c_claimed_at=Value(now, output_field=DateTimeField()),
        c_last_error=Value("", output_field=CharField()),
    )
    with transaction.atomic():
        claimed = _insert_from_select(
            AlertDelivery,
            ("alert_id", "channel", "target", "status", "attempts", "claimed_at", "last_error"),
            fresh,
            returning="alert_id",
        )
        table, alerts = _qn(AlertDelivery._meta.db_table), _qn(Alert._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, attempts = attempts + 1, claimed_at = %s "
                f"WHERE channel = %s AND target = %s AND attempts < %s "
                f"AND ((status = %s AND next_attempt_at <= %s) OR (status = %s AND claimed_at < %s)) "
                f"AND alert_id IN (SELECT id FROM {alerts} WHERE resolved_at IS NULL) "
                f"RETURNING alert_id",
                [
                    DeliveryStatus.SENDING.value,
                    _db_datetime(now),
                    channel,
                    target,
                    MAX_ATTEMPTS,
                    DeliveryStatus.FAILED.value,
                    _db_datetime(now),
                    DeliveryStatus.SENDING.value,
                    _db_datetime(now - STALE_CLAIM),
                ],
            )
            claimed += [row[0] for row in cursor.fetchall()]
    return sorted(set(claimed))


def _send(channel, target: str, subject: str, text: str):
    """Send one message; the channel's ``DeliveryError`` if it failed, else None."""
    try:
        channel.send(target=target, subject=subject, text=text)
    except DeliveryError as exc:
        return exc
    return None


def _record_outcome(deliveries: QuerySet, error, now: datetime, result: NotifyResult, count: int) -> None:
    if error is None:
        deliveries.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error="")
        result.sent += count
        return
    result.failed += count
    attempts = max(deliveries.values_list("attempts", flat=True), default=1)
    if error.permanent or attempts >= MAX_ATTEMPTS:
        deliveries.update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None, last_error=str(error)[:2000])
        logger.error("Alert delivery given up: %s", error)
        return
    delay = backoff_seconds(attempts, error.retry_after)
    deliveries.update(
        status=DeliveryStatus.FAILED, next_attempt_at=now + timedelta(seconds=delay), last_error=str(error)[:2000]
    )
    result.note_retry(delay)
    logger.warning("Alert delivery failed (attempt %s), retrying in %ss: %s", attempts, delay, error)


def alerts_notify(*, now: datetime | None = None, channels: Sequence[Channel] | None = None) -> NotifyResult:
    """Send new critical alerts at once to the people who act on them, at their places, on every channel.

    Each channel names its audiences (``tasks.notifications.Audience``): a
    recipient, the kinds their role acts on and the places they work at. One
    message per recipient lists every alert claimed for them. A failure leaves
    the deliveries "failed" with the time of the next attempt (exponential
    back-off, or the server's ``retry_after``).
    """
    now = now or timezone.now()
    result = NotifyResult()
    for channel in channels if channels is not None else enabled_channels():
        for audience in channel.audiences():
            alert_ids = _claim_alert_deliveries(
                channel=channel.name,
                target=audience.target,
                kinds=audience.kinds,
                location_ids=audience.location_ids,
                now=now,
            )
            if not alert_ids:
                continue
            subject, text = render_alerts(alerts_for_messages(alert_ids))
            error = _send(channel, audience.target, subject, text)
            deliveries = AlertDelivery.objects.filter(
                alert_id__in=alert_ids, channel=channel.name, target=audience.target
            )
            _record_outcome(deliveries, error, now, result, len(alert_ids))
    return result


def _claim_digest(*, day: date, channel: str, target: str, count: int, now: datetime) -> bool:
    try:
        with transaction.atomic():
            DigestDelivery.objects.create(
                day=day, channel=channel, target=target, alert_count=count, attempts=1, claimed_at=now
            )
        return True
    except IntegrityError:
        pass
    due = Q(status=DeliveryStatus.FAILED, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    )
    return bool(
        DigestDelivery.objects.filter(due, day=day, channel=channel, target=target, attempts__lt=MAX_ATTEMPTS).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now, alert_count=count
        )
    )


def alerts_digest_send(*, now: datetime | None = None, channels: Sequence[Channel] | None = None) -> NotifyResult:
    """The morning digest of open alerts at each recipient's places, once a day per recipient and channel.

    Nothing is sent to a recipient whose places have nothing open.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    result = NotifyResult()
    # Recipients with the same kinds and places share one digest.
    digests = {}
    for channel in channels if channels is not None else enabled_channels():
        for audience in channel.audiences():
            key = (audience.kinds, audience.location_ids)
            if key not in digests:
                digests[key] = alerts_for_digest(kinds=audience.kinds, location_ids=audience.location_ids)
            digest = digests[key]
            if not digest.total:
                continue
            if not _claim_digest(day=day, channel=channel.name, target=audience.target, count=digest.total, now=now):
                continue
            subject, text = render_digest(digest, day)
            error = _send(channel, audience.target, subject, text)
            deliveries = DigestDelivery.objects.filter(day=day, channel=channel.name, target=audience.target)
            _record_outcome(deliveries, error, now, result, 1)
    return result
