"""Catalogue and stock.

A ``Lot`` is one batch of a medicine (number, expiry, status, purchase price)
wherever its packs are; what is on hand is per lot per place, in
``LotStock`` (Odoo's quant, ERPNext's bin). Every change of a lot's stock at
a place is a ``StockMovement`` row naming that place, written by the stock
core (``catalog.stock``), the only code that writes quantities, movements and
the derived stock columns:

- ``LotStock.quantity``: units of the lot at the place (the ledger's sum there);
- ``Lot.quantity``: the lot's units in every place, transit included;
- ``MedicineStock``: sellable units and the nearest sellable expiry of a medicine
  at a place, in a narrow table of its own so a sale rewrites a small row;
- ``Medicine.sellable_quantity`` / ``nearest_expiry``: the same for the whole chain.

Quantities count the smallest unit sold: a pack, or a part of it (a blister,
an ampoule) for a medicine with ``parts_per_pack`` > 1. Prices (``Medicine.price``,
``Lot.purchase_price``) are per pack, as on a price tag and an invoice: the value
of some stock is units × price / ``parts_per_pack``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .medicines import MONEY, Medicine
from .places import Location


class LotStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    QUARANTINED = "quarantined", _("Quarantined")
    RECALLED = "recalled", _("Recalled")
    EXPIRED = "expired", _("Expired")


class Lot(models.Model):
    medicine = models.ForeignKey(Medicine, verbose_name=_("medicine"), on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=64)
    expiry_date = models.DateField(_("expiry date"))
    received_date = models.DateField(_("received"))
    # Units of this lot in every place, transit included (the sum of its LotStock rows).
    quantity = models.IntegerField(_("quantity on hand"), default=0, editable=False)
    purchase_price = models.DecimalField(
        _("purchase price, UZS"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LotStatus.choices, default=LotStatus.AVAILABLE)
    status_reason = models.CharField(_("reason for status"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The lot's own changes (status, details, corrections). Its quantity has a history of its own, the
    # ledger (``StockMovement``: every change with who, why and the document), so versions do not copy it:
    # a version's quantity would be stale after the sales the ledger alone records.
    history = HistoricalRecords(excluded_fields=["quantity"])

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["expiry_date", "id"]
        permissions = [
            ("quarantine_lot", _("Can quarantine, release and recall lots")),
            ("recall_lot", _("Can recall lots")),
            ("write_off_lot", _("Can write off stock")),
            ("adjust_stock", _("Can adjust stock after a count")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["medicine", "lot_number"], name="lot_number_unique_per_medicine"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_quantity_not_negative"),
            models.CheckConstraint(condition=Q(purchase_price__gte=0), name="lot_purchase_price_not_negative"),
            models.CheckConstraint(
                condition=Q(expiry_date__gt=F("received_date")) | Q(quantity=0), name="lot_expires_after_receipt"
            ),
        ]
        indexes = [
            # FEFO: a medicine's sellable lots in expiry order.
            models.Index(fields=["medicine", "status", "expiry_date"], name="lot_fefo_idx"),
            # Expiry scans and the sweep: available lots by expiry date.
            models.Index(fields=["status", "expiry_date"], name="lot_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} · {self.lot_number}"


class LotStock(models.Model):
    """Units of one lot at one place (Odoo's quant): the ledger's balance there."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="stocks")
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="lot_stocks"
    )
    quantity = models.IntegerField(_("quantity"), default=0, editable=False)

    class Meta:
        verbose_name = _("stock of a lot at a location")
        verbose_name_plural = _("stock by lot and location")
        constraints = [
            models.UniqueConstraint(fields=["lot", "location"], name="lot_stock_once_per_location"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_stock_not_negative"),
        ]
        indexes = [
            # FEFO at a place and a place's lists: its lots.
            models.Index(fields=["location", "lot"], name="lot_stock_location_lot_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.location_id}: {self.quantity}"


class MedicineStock(models.Model):
    """A medicine's sellable units and nearest sellable expiry at one place.

    The derived columns are the stock core's; ``reorder_level`` is a person's
    override of the medicine's default at this place (empty: the default).
    """

    medicine = models.ForeignKey(
        Medicine, verbose_name=_("medicine"), on_delete=models.CASCADE, related_name="stock_levels"
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="medicine_stocks"
    )
    sellable_quantity = models.PositiveIntegerField(_("sellable stock"), default=0, editable=False)
    nearest_expiry = models.DateField(_("nearest expiry"), null=True, blank=True, editable=False)
    reorder_level = models.PositiveIntegerField(
        _("reorder level here"), null=True, blank=True, help_text=_("Empty: the medicine's reorder level.")
    )

    class Meta:
        verbose_name = _("stock of a medicine at a location")
        verbose_name_plural = _("stock by medicine and location")
        constraints = [
            models.UniqueConstraint(fields=["medicine", "location"], name="medicine_stock_once_per_location"),
        ]
        # No index holds a derived column: a sale's update of the row then touches
        # no index and stays on its page (a HOT update; migration 0011 leaves room).
        indexes = [models.Index(fields=["location", "medicine"], name="medicine_stock_location_idx")]

    def __str__(self) -> str:
        return f"{self.medicine_id} @ {self.location_id}: {self.sellable_quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    DISPENSE = "dispense", _("Dispense")
    WRITE_OFF = "write_off", _("Write-off")
    ADJUSTMENT = "adjustment", _("Stocktake adjustment")
    RETURN = "return", _("Return")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")


class StockMovement(models.Model):
    """The stock ledger: append-only. A lot's quantity at a place is the sum of its movements there."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Positive in, negative out."))
    # The lot's balance at this place after the movement.
    balance_after = models.IntegerField(_("balance after"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Where the movement comes from: an import job, an order, a recall notice.
    reference = models.CharField(_("reference"), max_length=120, blank=True, db_index=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock ledger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["lot", "created_at"], name="movement_lot_time_idx"),
            models.Index(fields=["location", "created_at"], name="movement_location_time_idx"),
            models.Index(fields=["kind", "created_at"], name="movement_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} · {self.lot}"
