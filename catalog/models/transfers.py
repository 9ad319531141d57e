"""Transfers: a document that moves lots from one place to another.

A transfer is drafted (lines of medicines and units, lots optional), sent (the
stock core takes the units FEFO from the source into transit, one line per lot)
and received (what arrived goes into the destination; a shortfall is a recorded
discrepancy, written off or sent back to the source with a reason). Lots keep
their identity across the move. Quantities are in the medicine's smallest unit.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class TransferState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class Discrepancy(models.TextChoices):
    WRITTEN_OFF = "written_off", _("Written off")
    RETURNED = "returned", _("Returned to the source")


class Transfer(models.Model):
    source = models.ForeignKey(
        "catalog.Location", verbose_name=_("from"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    destination = models.ForeignKey(
        "catalog.Location", verbose_name=_("to"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    state = models.CharField(_("state"), max_length=12, choices=TransferState.choices, default=TransferState.DRAFT)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("send_transfer", _("Can send transfers")),
            ("receive_transfer", _("Can receive transfers")),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_between_two_places"),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "cancelled"]) | Q(sent_at__isnull=False), name="transfer_sent_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(state="received") | Q(received_at__isnull=False), name="transfer_received_has_time"
            ),
        ]
        indexes = [models.Index(fields=["state", "destination"], name="transfer_state_dest_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"TR-{self.pk:06d}" if self.pk else "TR-new"


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, verbose_name=_("transfer"), on_delete=models.CASCADE, related_name="lines")
    medicine = models.ForeignKey(
        "catalog.Medicine", verbose_name=_("medicine"), on_delete=models.PROTECT, related_name="+"
    )
    # Chosen FEFO at sending when left empty; the same lot travels.
    lot = models.ForeignKey(
        "catalog.Lot", verbose_name=_("lot"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("units sent"))
    received_quantity = models.PositiveIntegerField(_("units received"), null=True, blank=True)
    discrepancy = models.CharField(_("shortfall"), max_length=12, choices=Discrepancy.choices, blank=True)
    discrepancy_reason = models.CharField(_("reason for the shortfall"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True) | Q(received_quantity__lte=F("quantity")),
                name="transfer_line_receives_at_most_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transfer} · {self.medicine_id} × {self.quantity}"

    @property
    def shortfall(self) -> int:
        if self.received_quantity is None:
            return 0
        return self.quantity - self.received_quantity
