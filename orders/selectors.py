"""Reads of sales and shifts that several callers share (the till, the Z-report, dashboards, the admin)."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from orders.models import Order, OrderLine, OrderStatus, ReturnLine, Shift, ShiftState
from payments.models import Method, Payment, PaymentState, Refund

ZERO = Decimal("0")


@dataclass
class ShiftFigures:
    """A shift's Z-report: everything from its own documents, nothing kept running."""

    shift_id: int
    location: str
    cashier: str
    opened_at: str
    closed_at: str | None
    opening_cash: Decimal
    sales_count: int = 0
    sales_total: Decimal = ZERO
    discounts: Decimal = ZERO
    vat_total: Decimal = ZERO
    returns_count: int = 0
    returns_total: Decimal = ZERO
    returns_vat: Decimal = ZERO
    paid_by_method: dict[str, Decimal] = field(default_factory=dict)
    refunded_by_method: dict[str, Decimal] = field(default_factory=dict)
    expected_cash: Decimal = ZERO
    counted_cash: Decimal | None = None
    cash_difference: Decimal | None = None

    @property
    def net_total(self) -> Decimal:
        return self.sales_total - self.returns_total

    def as_json(self) -> dict:
        data = asdict(self)

        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            return value

        return {key: plain(value) for key, value in data.items()}


def shift_figures(shift: Shift) -> ShiftFigures:
    """The Z-report figures of ``shift`` as they stand (five queries)."""
    sales = Order.objects.filter(shift=shift, status=OrderStatus.COMPLETED).aggregate(
        count=Count("pk"), total=Sum("total"), discounts=Sum("discount_total"), vat=Sum("vat_total")
    )
    returns = shift.returns.aggregate(count=Count("pk"), total=Sum("amount"))
    returns_vat = ZERO
    for line in ReturnLine.objects.filter(return_doc__shift=shift).select_related("line"):
        if line.line.total:
            returns_vat += (line.line.vat_amount * line.amount / line.line.total).quantize(Decimal("0.01"))
    paid = dict(
        Payment.objects.filter(shift=shift, state=PaymentState.PAID)
        .values("method")
        .annotate(total=Sum("amount"))
        .values_list("method", "total")
    )
    refunded = dict(
        Refund.objects.filter(shift=shift).values("method").annotate(total=Sum("amount")).values_list("method", "total")
    )
    figures = ShiftFigures(
        shift_id=shift.pk,
        location=str(shift.location),
        cashier=str(shift.cashier),
        opened_at=timezone.localtime(shift.opened_at).isoformat(timespec="minutes"),
        closed_at=timezone.localtime(shift.closed_at).isoformat(timespec="minutes") if shift.closed_at else None,
        opening_cash=shift.opening_cash,
        sales_count=sales["count"] or 0,
        sales_total=sales["total"] or ZERO,
        discounts=sales["discounts"] or ZERO,
        vat_total=sales["vat"] or ZERO,
        returns_count=returns["count"] or 0,
        returns_total=returns["total"] or ZERO,
        returns_vat=returns_vat,
        paid_by_method={method: paid.get(method, ZERO) for method in Method.values if method in paid},
        refunded_by_method={method: refunded.get(method, ZERO) for method in Method.values if method in refunded},
    )
    figures.expected_cash = shift.opening_cash + paid.get(Method.CASH, ZERO) - refunded.get(Method.CASH, ZERO)
    return figures


def open_shift_of(user: User | None) -> Shift | None:
    """``user``'s open shift, with its place."""
    if user is None or not getattr(user, "pk", None):
        return None
    return Shift.objects.filter(cashier=user, state=ShiftState.OPEN).select_related("location").first()


def order_detail(pk: int) -> Order:
    """An order with everything its page and its receipt show."""
    return (
        Order.objects.select_related("location", "cashier", "shift", "customer", "controlled_confirmed_by")
        .prefetch_related("lines__medicine", "lines__lots__lot", "payments")
        .get(pk=pk)
    )


def orders_list() -> QuerySet[Order]:
    return Order.objects.select_related("location", "cashier", "shift")


@dataclass(frozen=True)
class SalesSummary:
    count: int
    revenue: Decimal
    average: Decimal


def sales_summary(*, location_ids: set[int] | None, day: datetime.date | None = None) -> SalesSummary:
    """Completed sales of one day (today) at the places (``None``: every place), net of nothing."""
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    rows = Order.objects.filter(
        status=OrderStatus.COMPLETED, completed_at__gte=start, completed_at__lt=start + datetime.timedelta(days=1)
    )
    if location_ids is not None:
        rows = rows.filter(location_id__in=location_ids)
    figures = rows.aggregate(count=Count("pk"), revenue=Sum("total"))
    count = figures["count"] or 0
    revenue = figures["revenue"] or ZERO
    return SalesSummary(count, revenue, (revenue / count).quantize(Decimal("1")) if count else ZERO)


@dataclass(frozen=True)
class VatAtRate:
    """Sales and returns of a shift at one VAT rate (amounts include the VAT)."""

    rate: Decimal
    sales: Decimal = ZERO
    sales_vat: Decimal = ZERO
    returns: Decimal = ZERO
    returns_vat: Decimal = ZERO

    def as_json(self) -> dict:
        return {key: str(value) for key, value in asdict(self).items()}


def shift_vat_by_rate(shift: Shift) -> list[VatAtRate]:
    """The Z-report's VAT by rate (two queries): a returned line's VAT is its share of the line's, as in
    ``shift_figures``, so the rates add up to its VAT totals."""
    sales = {
        row["vat_rate"]: row
        for row in OrderLine.objects.filter(order__shift=shift, order__status=OrderStatus.COMPLETED)
        .values("vat_rate")
        .annotate(total=Sum("total"), vat=Sum("vat_amount"))
    }
    returns: dict[Decimal, list[Decimal]] = {}
    for line in ReturnLine.objects.filter(return_doc__shift=shift).select_related("line"):
        totals = returns.setdefault(line.line.vat_rate, [ZERO, ZERO])
        totals[0] += line.amount
        if line.line.total:
            totals[1] += (line.line.vat_amount * line.amount / line.line.total).quantize(Decimal("0.01"))
    return [
        VatAtRate(
            rate=rate,
            sales=sales.get(rate, {}).get("total") or ZERO,
            sales_vat=sales.get(rate, {}).get("vat") or ZERO,
            returns=returns.get(rate, [ZERO, ZERO])[0],
            returns_vat=returns.get(rate, [ZERO, ZERO])[1],
        )
        for rate in sorted(set(sales) | set(returns), reverse=True)
    ]
