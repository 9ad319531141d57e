"""Domain errors of sales, shifts and returns (see ``backoffice/exceptions.py`` for the shape)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from backoffice.exceptions import DomainError


class OrdersError(DomainError):
    """Base of every refusal of sales, shifts and returns; each refusal is a subclass with its own ``code``
    (what ``backoffice/api_errors.py`` maps to an HTTP status)."""

    code = "orders_error"
    default_message = _("The sale could not be completed.")


class NotAllowed(OrdersError):
    """The member lacks the permission the operation needs (the same check on every path)."""

    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class NotYourShift(NotAllowed):
    code = "not_your_shift"
    default_message = _("This is another cashier's shift.")


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


class ReturnPeriodOver(ReturnRefused):
    code = "return_period_over"
    default_message = _("The return period (%(days)s days) for this sale is over.")


class ReturnPrescriptionRefused(ReturnRefused):
    code = "return_prescription_refused"
    default_message = _("%(medicine)s is prescription-only: once dispensed it is not taken back.")


class ReturnReasonRequired(ReturnRefused):
    code = "return_reason_required"
    default_message = _("Give a reason for the return.")


class ReturnEmpty(ReturnRefused):
    code = "return_empty"
    default_message = _("Choose what is returned.")


class ReturnNotCompleted(ReturnRefused):
    code = "return_not_completed"
    default_message = _("Only a completed sale can be returned.")


class ReturnOtherPlace(ReturnRefused):
    code = "return_other_place"
    default_message = _("A sale is returned at the place it was sold.")


class ReturnQuantityInvalid(ReturnRefused):
    code = "return_quantity"
    default_message = _("Return at least one unit.")


class ReturnLineTwice(ReturnRefused):
    code = "return_twice"
    default_message = _("Each sale line is returned once per return.")


class ReturnUnknownLine(ReturnRefused):
    code = "return_unknown_line"
    default_message = _("A returned line is not on this sale.")


class ReturnOverPaid(ReturnRefused):
    code = "return_over_paid"
    default_message = _("More is returned than this sale was paid.")


class ReturnTooMany(ReturnRefused):
    code = "return_too_many"
    default_message = _("Only %(returnable)s of %(medicine)s can still be returned from this sale.")
