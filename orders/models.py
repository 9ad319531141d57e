"""Orders: sales at the counter (and, next, the order desk's phone, Telegram and web orders), cash shifts,
prescriptions, the controlled-drug register and returns.

Every figure here is written by ``orders/services.py`` and nothing else. A completed order is immutable:
a correction is a return. The stock an order took is in the stock ledger (``StockMovement.reference`` is
the order's number) and, line by line, in ``LineLot``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from catalog.formatting import format_date
from catalog.models import MONEY, ActiveSubstance, Location, Lot, Medicine, StockMovement


class ShiftState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Shift(models.Model):
    """A cashier's working session at one place's till: every counter sale and return belongs to one.

    Totals are never kept running here: the Z-report is computed from the shift's orders, payments and
    returns when the shift closes, and kept (``z_report``) as it was printed.
    """

    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("cashier"), on_delete=models.PROTECT, related_name="shifts"
    )
    state = models.CharField(_("state"), max_length=8, choices=ShiftState.choices, default=ShiftState.OPEN)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    opening_cash = models.DecimalField(_("opening cash, UZS"), **MONEY)
    # Receipts and returns of the shift are numbered from this counter, under the shift's lock.
    documents = models.PositiveIntegerField(_("documents issued"), default=0, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expected_cash = models.DecimalField(_("expected cash, UZS"), **MONEY, null=True, blank=True)
    counted_cash = models.DecimalField(_("counted cash, UZS"), **MONEY, null=True, blank=True)
    cash_difference = models.DecimalField(_("cash difference, UZS"), **MONEY, null=True, blank=True)
    z_report = models.JSONField(_("Z-report"), default=dict, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["documents"])

    class Meta:
        verbose_name = _("cash shift")
        verbose_name_plural = _("cash shifts")
        ordering = ["-opened_at", "-id"]
        permissions = [("close_any_shift", _("Can close another cashier's shift"))]
        constraints = [
            # One open shift per cashier: a sale always knows whose till it is in.
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(state=ShiftState.OPEN), name="shift_one_open_per_cashier"
            ),
            models.CheckConstraint(condition=Q(opening_cash__gte=0), name="shift_opening_cash_not_negative"),
            models.CheckConstraint(
                condition=Q(counted_cash__isnull=True) | Q(counted_cash__gte=0), name="shift_counted_cash_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(state=ShiftState.OPEN, closed_at__isnull=True)
                | Q(state=ShiftState.CLOSED, closed_at__isnull=False, counted_cash__isnull=False),
                name="shift_closed_has_count",
            ),
        ]
        indexes = [models.Index(fields=["location", "opened_at"], name="shift_location_opened_idx")]

    def __str__(self) -> str:
        if not self.opened_at:
            return f"#{self.pk}"
        return f"#{self.pk} · {self.location} · {format_date(self.opened_at)}"

    @property
    def is_open(self) -> bool:
        return self.state == ShiftState.OPEN


class Channel(models.TextChoices):
    COUNTER = "counter", _("Counter")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram")
    WEB = "web", _("Web")


class OrderStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class FiscalState(models.TextChoices):
    PENDING = "pending", _("Waiting for the fiscal module")
    DONE = "done", _("Fiscalised")
    FAILED = "failed", _("Fiscal module refused")


class Order(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.COUNTER)
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cashier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    # The pharmacist who confirmed the controlled lines (may be the cashier when they are one).
    controlled_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("controlled drugs confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subtotal = models.DecimalField(_("subtotal, UZS"), **MONEY, help_text=_("Before discounts."))
    discount_total = models.DecimalField(_("discounts, UZS"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total, UZS"), **MONEY)
    vat_total = models.DecimalField(_("VAT included, UZS"), **MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    fiscal_state = models.CharField(
        _("fiscal receipt"), max_length=16, choices=FiscalState.choices, default=FiscalState.PENDING
    )
    fiscal_terminal = models.CharField(_("fiscal terminal"), max_length=40, blank=True)
    fiscal_receipt_number = models.CharField(_("fiscal receipt number"), max_length=40, blank=True)
    fiscal_sign = models.CharField(_("fiscal sign"), max_length=64, blank=True)
    fiscal_qr_url = models.URLField(_("fiscal QR"), max_length=500, blank=True)
    fiscal_at = models.DateTimeField(_("fiscalised at"), null=True, blank=True)
    fiscal_error = models.CharField(_("fiscal module's answer"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("sell", _("Can sell at the counter")),
            ("confirm_controlled", _("Can confirm the sale of a controlled drug")),
            ("accept_return", _("Can accept a return")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="order_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") - F("discount_total")), name="order_total_is_subtotal_less_discount"
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.COMPLETED) | Q(completed_at__isnull=False),
                name="order_completed_has_time",
            ),
            # A counter sale is always in a shift (the till's cash is counted against it).
            models.CheckConstraint(
                condition=~Q(channel=Channel.COUNTER) | Q(shift__isnull=False), name="order_counter_in_shift"
            ),
        ]
        indexes = [
            models.Index(fields=["location", "created_at"], name="order_location_created_idx"),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One medicine of an order. ``quantity`` is in units sold: packs, or parts for a divisible medicine.

    The amount is what the shelf said at the time of sale: whole packs at the pack price, the loose parts at
    the part price; VAT is contained in it (``vat_amount``, at the medicine's rate then).
    """

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="lines")
    medicine = models.ForeignKey(Medicine, verbose_name=_("medicine"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    parts_per_pack = models.PositiveSmallIntegerField(_("parts per pack"), default=1)
    pack_price = models.DecimalField(_("pack price, UZS"), **MONEY)
    part_price = models.DecimalField(_("part price, UZS"), **MONEY, null=True, blank=True)
    amount = models.DecimalField(_("amount, UZS"), **MONEY, help_text=_("Before the discount."))
    discount = models.DecimalField(_("discount, UZS"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total, UZS"), **MONEY)
    vat_rate = models.DecimalField(_("VAT, %"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT, UZS"), **MONEY)
    # What returns have taken back so far (written under the line's lock by the return service).
    returned_quantity = models.PositiveIntegerField(_("returned"), default=0, editable=False)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "medicine"], name="order_line_one_per_medicine"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=F("amount")), name="order_line_discount_within_amount"
            ),
            models.CheckConstraint(condition=Q(total=F("amount") - F("discount")), name="order_line_total"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")), name="order_line_returned_within_sold"
            ),
            models.CheckConstraint(condition=Q(vat_rate__gte=0, vat_rate__lte=100), name="order_line_vat_rate_range"),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} × {self.quantity}"

    @property
    def packs(self) -> int:
        return self.quantity // self.parts_per_pack if self.parts_per_pack > 1 else self.quantity

    @property
    def parts(self) -> int:
        return self.quantity % self.parts_per_pack if self.parts_per_pack > 1 else 0

    @property
    def returnable_quantity(self) -> int:
        return self.quantity - self.returned_quantity


class LineLot(models.Model):
    """Which lots a line's units came from (FEFO at the order's place), with the ledger row that took them."""

    line = models.ForeignKey(OrderLine, verbose_name=_("line"), on_delete=models.PROTECT, related_name="lots")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    returned_quantity = models.PositiveIntegerField(_("returned"), default=0, editable=False)
    movement = models.ForeignKey(
        StockMovement, verbose_name=_("ledger row"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("lot sold")
        verbose_name_plural = _("lots sold")
        ordering = ["line_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_lot_quantity_positive"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("quantity")), name="line_lot_returned_within_sold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id} × {self.quantity}"


class Prescription(models.Model):
    """The prescription a sale of prescription-only medicines was made against."""

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="prescription")
    prescriber = models.CharField(_("prescriber"), max_length=200)
    number = models.CharField(_("prescription number"), max_length=64)
    issued_on = models.DateField(_("issued on"))
    patient_name = models.CharField(_("patient"), max_length=200)
    e_prescription_id = models.CharField(
        _("e-prescription id"), max_length=64, blank=True, help_text=_("The DMED prescription id, when there is one.")
    )

    class Meta:
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")

    def __str__(self) -> str:
        return f"{self.number} · {self.patient_name}"


class RegisterKind(models.TextChoices):
    SALE = "sale", _("Sale")
    RETURN = "return", _("Return")


class ControlledEntry(models.Model):
    """The controlled-drug register: every unit of a controlled medicine out of (or back into) a place's hands.

    ``balance_after`` is the medicine's stock at the place (every lot, any status) after the entry, so the
    register reads as a running balance without the ledger beside it.
    """

    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    substance = models.ForeignKey(
        ActiveSubstance, verbose_name=_("substance"), on_delete=models.PROTECT, related_name="+"
    )
    medicine = models.ForeignKey(Medicine, verbose_name=_("medicine"), on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=RegisterKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Negative out, positive back in."))
    balance_after = models.IntegerField(_("balance after"))
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(
        Prescription, verbose_name=_("prescription"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("controlled-drug register entry")
        verbose_name_plural = _("controlled-drug register")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="controlled_entry_quantity_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="controlled_entry_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["substance", "location", "created_at"], name="controlled_substance_place_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} · {self.medicine_id}"


class Return(models.Model):
    """Money and packs back from a completed sale, within the return period, in the returning cashier's shift."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns")
    shift = models.ForeignKey(Shift, verbose_name=_("shift"), on_delete=models.PROTECT, related_name="returns")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    amount = models.DecimalField(_("amount refunded, UZS"), **MONEY)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    # Money back is a refund receipt of its own, registered with the fiscal module against the sale's.
    fiscal_state = models.CharField(
        _("fiscal receipt"), max_length=16, choices=FiscalState.choices, default=FiscalState.PENDING
    )
    fiscal_terminal = models.CharField(_("fiscal terminal"), max_length=40, blank=True)
    fiscal_receipt_number = models.CharField(_("fiscal receipt number"), max_length=40, blank=True)
    fiscal_sign = models.CharField(_("fiscal sign"), max_length=64, blank=True)
    fiscal_qr_url = models.URLField(_("fiscal QR"), max_length=500, blank=True)
    fiscal_at = models.DateTimeField(_("fiscalised at"), null=True, blank=True)
    fiscal_error = models.CharField(_("fiscal module's answer"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="return_amount_not_negative")]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    """Units of one lot of a sale line, back: on the shelf of the place (resaleable) or in its quarantine."""

    return_doc = models.ForeignKey(Return, verbose_name=_("return"), on_delete=models.PROTECT, related_name="lines")
    line = models.ForeignKey(OrderLine, verbose_name=_("sale line"), on_delete=models.PROTECT, related_name="+")
    line_lot = models.ForeignKey(LineLot, verbose_name=_("lot sold"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    resaleable = models.BooleanField(_("resaleable"))
    amount = models.DecimalField(_("amount, UZS"), **MONEY)

    class Meta:
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        ordering = ["return_doc_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="return_line_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} × {self.quantity}"
