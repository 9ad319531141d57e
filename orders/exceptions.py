"""Domain errors of sales, shifts and returns (see ``backoffice/exceptions.py`` for the shape)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from backoffice.exceptions import DomainError


class OrdersError(DomainError):
    code = "orders_error"
    default_message = _("The sale could not be completed.")


class NotAllowed(OrdersError):
    """The member lacks the permission the operation needs (the same check on every path)."""

    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class ShiftRequired(OrdersError):
    code = "shift_required"
    default_message = _("Open a cash shift first: no sale without an open shift.")


class ShiftClosed(OrdersError):
    code = "shift_closed"
    default_message = _("This shift is closed.")


class ShiftAlreadyOpen(OrdersError):
    code = "shift_already_open"
    default_message = _("You already have an open shift at %(location)s: close it before opening another.")


class EmptySale(OrdersError):
    code = "empty_sale"
    default_message = _("The sale has no lines.")


class InvalidAmount(OrdersError):
    code = "invalid_amount"
    default_message = _("Amounts must be zero or more, in so'm with at most two decimals.")


@dataclass(frozen=True)
class PriceChange:
    medicine_id: int
    medicine: str
    expected: str
    current: str


class PricesChanged(OrdersError):
    """A price changed between the scan and the payment: the cashier confirms the new one, nothing is sold."""

    code = "prices_changed"
    default_message = _("The price changed since it was scanned: %(names)s. Check the new price with the customer.")

    def __init__(self, changes: list[PriceChange]) -> None:
        self.changes = changes
        super().__init__(names=", ".join(f"{c.medicine} ({c.expected} → {c.current})" for c in changes))


class MedicineUnavailable(OrdersError):
    code = "medicine_unavailable"
    default_message = _("%(medicine)s is not sold (it is inactive).")


class DiscountTooLarge(OrdersError):
    code = "discount_too_large"
    default_message = _("The discount on %(medicine)s is larger than the line.")


class PrescriptionRequired(OrdersError):
    code = "prescription_required"
    default_message = _("A prescription is required for: %(medicines)s. Record it before completing the sale.")


class PrescriptionInvalid(OrdersError):
    code = "prescription_invalid"
    default_message = _("The prescription is incomplete: %(fields)s.")


class ControlledConfirmationRequired(OrdersError):
    code = "controlled_confirmation_required"
    default_message = _(
        "A controlled drug (%(medicines)s) needs a pharmacist's confirmation: a pharmacist completes this sale."
    )


class ControlledOnline(OrdersError):
    code = "controlled_online"
    default_message = _("A controlled drug (%(medicines)s) is dispensed only in person, never online.")


class PaymentShort(OrdersError):
    code = "payment_short"
    default_message = _("The payments (%(paid)s) do not cover the total (%(total)s).")


class PaymentInvalid(OrdersError):
    code = "payment_invalid"
    default_message = _("A payment is incomplete: %(detail)s.")


class ReturnRefused(OrdersError):
    code = "return_refused"
    default_message = _("This return is not allowed.")


class ReturnTooMany(OrdersError):
    code = "return_too_many"
    default_message = _("Only %(returnable)s of %(medicine)s can still be returned from this sale.")
