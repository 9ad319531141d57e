"""Payments: the money recorded against an order (cash and card at the counter now; Payme and Click next).

An order is paid when its paid payments cover its total; a counter sale split between cash and card is
two payments. Money goes back as a refund against the payment it came in by. Written only by
``payments/services.py``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import MONEY
from orders.models import Order, Return, Shift


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card terminal")
    PAYME = "payme", _("Payme")
    CLICK = "click", _("Click")


class CardNetwork(models.TextChoices):
    UZCARD = "uzcard", "Uzcard"
    HUMO = "humo", "Humo"
    VISA = "visa", "Visa"
    MASTERCARD = "mastercard", "Mastercard"
    UNIONPAY = "unionpay", "UnionPay"


class PaymentState(models.TextChoices):
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Payment(models.Model):
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    state = models.CharField(_("state"), max_length=12, choices=PaymentState.choices, default=PaymentState.PAID)
    amount = models.DecimalField(_("amount, UZS"), **MONEY, help_text=_("What the payment covers of the order."))
    # Cash: what the customer handed over; the change is tendered - amount.
    tendered = models.DecimalField(_("tendered, UZS"), **MONEY, null=True, blank=True)
    card_network = models.CharField(_("card"), max_length=12, choices=CardNetwork.choices, blank=True)
    reference = models.CharField(
        _("reference"), max_length=64, blank=True, help_text=_("The terminal's approval code or the provider's id.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(tendered__isnull=True) | Q(method=Method.CASH, tendered__gte=models.F("amount")),
                name="payment_tendered_covers_cash",
            ),
            models.CheckConstraint(
                condition=~Q(method=Method.CARD) | (~Q(card_network="") & ~Q(reference="")),
                name="payment_card_has_network_and_reference",
            ),
        ]
        indexes = [models.Index(fields=["shift", "method"], name="payment_shift_method_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"

    @property
    def change(self):
        return (self.tendered - self.amount) if self.tendered is not None else None


class Refund(models.Model):
    """Money back to a customer, by the method the payment came in by."""

    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds")
    return_doc = models.ForeignKey(
        Return, verbose_name=_("return"), null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    shift = models.ForeignKey(
        Shift, verbose_name=_("shift"), null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    amount = models.DecimalField(_("amount, UZS"), **MONEY)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} −{self.amount}"
