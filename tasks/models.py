"""Alerts about stock: lots near or past expiry, medicines low or out of stock.

Alerts are written by the set-based scans in ``tasks.services`` and never by
hand. The database guarantees the two promises the scans rely on:

- at most one *open* alert per (kind, medicine, lot, location, window), so a
  rerun, a redelivered task or two workers at once never duplicate an alert;
- at most one delivery per (alert, channel, recipient), so a message is never
  sent twice to the same person on the same channel.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from accounts.roles import Role


class AlertKind(models.TextChoices):
    EXPIRY = "expiry", _("Expires soon")
    EXPIRED = "expired", _("Expired stock on hand")
    LOW_STOCK = "low_stock", _("Low stock")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


# Who acts on which kind of alert (a staff role of accounts.roles.Role).
EXPIRY_KINDS = (AlertKind.EXPIRY, AlertKind.EXPIRED)
STOCK_KINDS = (AlertKind.LOW_STOCK, AlertKind.OUT_OF_STOCK)
# The alerts each role receives, at the places its members work at. The
# administrator works at every place and receives every kind.
AUDIENCES: dict[str, tuple[str, ...]] = {
    Role.PHARMACIST: tuple(EXPIRY_KINDS),
    Role.INVENTORY: tuple(STOCK_KINDS),
    Role.ADMIN: (*EXPIRY_KINDS, *STOCK_KINDS),
}


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def unacknowledged(self):
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    medicine = models.ForeignKey(
        "catalog.Medicine",
        verbose_name=_("medicine"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    lot = models.ForeignKey(
        "catalog.Lot", verbose_name=_("lot"), null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    # The place the alert is about (low stock at a branch is not low stock at the
    # warehouse); its staff receive it.
    location = models.ForeignKey(
        "catalog.Location",
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    # Days before expiry the alert is about (180, 90, 30); 0 for expired stock
    # and stock alerts. WINDOW is a reserved word in SQL, hence the column name.
    window = models.PositiveSmallIntegerField(_("window, days"), default=0, db_column="window_days")
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    resolved_at = models.DateTimeField(
        _("resolved at"), null=True, blank=True, help_text=_("Set by the scan when the condition has cleared.")
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    # last_seen moves on every scan (set-based, outside the history anyway).
    history = HistoricalRecords(excluded_fields=["last_seen"])

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-first_seen", "-id"]
        permissions = [("acknowledge_alert", _("Can acknowledge alerts"))]
        constraints = [
            # One open alert per subject. The subject's columns are coalesced
            # because NULLs are distinct in a unique index (SQLite has no NULLS
            # NOT DISTINCT; PostgreSQL only since 15): a medicine-level alert
            # has no lot and must still be unique. The scans' INSERT ... ON
            # CONFLICT DO NOTHING relies on this index.
            models.UniqueConstraint(
                F("kind"),
                Coalesce(F("medicine"), Value(0)),
                Coalesce(F("lot"), Value(0)),
                Coalesce(F("location"), Value(0)),
                F("window"),
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(medicine__isnull=False) | Q(lot__isnull=False), name="alert_has_subject"
            ),
        ]
        indexes = [
            # Sidebar badge and the scans' "open alerts of these kinds".
            models.Index(fields=["kind", "severity"], condition=Q(resolved_at__isnull=True), name="alert_open_idx"),
        ]

    def __str__(self) -> str:
        subject = self.lot or self.medicine
        label = self.get_kind_display()
        if self.kind == AlertKind.EXPIRY:
            label = ngettext("Expires within %(days)s day", "Expires within %(days)s days", self.window) % {
                "days": self.window
            }
        return f"{label}: {subject}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Failed for good")


class DeliveryBase(models.Model):
    """Bookkeeping of one message to one recipient on one channel.

    The row is the claim: it is inserted (status sending) before the message
    goes out, so a second worker cannot claim the same message.
    """

    channel = models.CharField(_("channel"), max_length=32)
    # An e-mail address or a Telegram chat id.
    target = models.CharField(_("recipient"), max_length=254)
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.SENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True


class AlertDelivery(DeliveryBase):
    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "target"], name="alert_delivered_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["channel", "target", "status"], name="alert_delivery_retry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.channel}:{self.target} ({self.status})"


class DigestDelivery(DeliveryBase):
    """The morning digest of one day to one recipient: sent once a day at most."""

    day = models.DateField(_("day"))
    alert_count = models.PositiveIntegerField(_("open alerts"), default=0)

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        constraints = [
            models.UniqueConstraint(fields=["day", "channel", "target"], name="digest_delivered_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} → {self.channel}:{self.target} ({self.status})"
