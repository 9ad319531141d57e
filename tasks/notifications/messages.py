"""Texts of alert messages and of the morning digest (plain text: e-mail and Telegram alike)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Alert, AlertKind, Severity
from ..selectors import Digest

MAX_LINES = 30

_MARK = {Severity.CRITICAL: "‼", Severity.WARNING: "!", Severity.INFO: "·"}


def _place(alert: Alert) -> str:
    """ " — Chilonzor": the place the alert is about, after its line (the recipient may work at several)."""
    return f" — {alert.location.name}" if alert.location_id else ""


def alert_line(alert: Alert) -> str:
    """One line of a message; ``alert`` comes from ``tasks.selectors.with_place_figures``."""
    mark = _MARK.get(alert.severity, "·")
    if alert.lot_id:
        lot = alert.lot
        left = (lot.expiry_date - timezone.localdate()).days
        if alert.kind == AlertKind.EXPIRED:
            state = _("expired on %(date)s") % {"date": lot.expiry_date.isoformat()}
        else:
            state = ngettext("expires in %(days)d day (%(date)s)", "expires in %(days)d days (%(date)s)", left) % {
                "days": left,
                "date": lot.expiry_date.isoformat(),
            }
        on_hand = getattr(alert, "on_hand", None)
        line = _("%(mark)s %(medicine)s, lot %(lot)s: %(state)s, %(qty)d on hand") % {
            "mark": mark,
            "medicine": lot.medicine.name,
            "lot": lot.lot_number,
            "state": state,
            "qty": lot.quantity if on_hand is None else on_hand,
        }
        return line + _place(alert)
    medicine = alert.medicine
    if alert.kind == AlertKind.OUT_OF_STOCK:
        state = _("out of stock")
    else:
        level = getattr(alert, "reorder_level_here", None)
        state = _("low stock, reorder level %(level)d") % {"level": medicine.reorder_level if level is None else level}
    return f"{mark} {medicine.name}: {state}{_place(alert)}"


def _lines(alerts: list[Alert], total: int) -> list[str]:
    lines = [alert_line(a) for a in alerts[:MAX_LINES]]
    if total > len(lines):
        lines.append(_("… and %(n)d more in the admin.") % {"n": total - len(lines)})
    return lines


def render_alerts(alerts: list[Alert]) -> tuple[str, str]:
    alerts = sorted(
        alerts,
        key=lambda a: (
            a.location.name if a.location_id else "",
            a.kind,
            a.window,
            a.lot.expiry_date if a.lot_id else date.max,
            a.pk,
        ),
    )
    subject = ngettext("Dorixona: %(n)d new critical alert", "Dorixona: %(n)d new critical alerts", len(alerts)) % {
        "n": len(alerts)
    }
    return subject, "\n".join(_lines(alerts, len(alerts)))


def _count_label(kind: str, window: int) -> str:
    if kind == AlertKind.EXPIRY:
        return ngettext("Expiring within %(days)d day", "Expiring within %(days)d days", window) % {"days": window}
    return str(AlertKind(kind).label)


def render_digest(digest: Digest, day: date) -> tuple[str, str]:
    subject = _("Dorixona: alert digest for %(day)s, %(n)d open") % {"day": day.isoformat(), "n": digest.total}
    head = [f"{_count_label(kind, window)}: {n}" for kind, window, n in digest.counts]
    return subject, "\n".join([*head, "", *_lines(digest.top, digest.total)])
