"""The dashboards' sales figures: receipts, revenue, returns and margin, per place, today and lately.

Read from the sales themselves (``orders``: orders, their lines and the lots each line took, returns) and
nothing else: no running totals are kept anywhere, so the figures always equal the orders and Z-reports.
Four statements whatever the number of sales and places (aggregates with ``FILTER`` clauses grouped by
place), ``places`` as in ``backoffice.selectors_dashboard.stock`` (a set of place ids, ``None``: the chain).

Money, in so'm:

- **sales**: the completed sales' totals (shelf prices include VAT, discounts taken off);
- **returned**: what returns made in the period paid back (at the sale's price);
- **revenue** = sales − returned: the money the tills kept (the Z-reports' net);
- **margin** = revenue net of VAT − the cost of the lots actually sold. The cost is each lot's purchase
  price per pack (``Lot.purchase_price``) × the units that left it (``LineLot.quantity``) / the parts per
  pack the line was sold with; units returned in the period take their VAT and their lot's cost back out.
  A return that is not resaleable is written off: its cost is a stock loss, not part of the sales margin.

Sales count on the day they were completed, returns on the day they were made (as on the till's
Z-report), Tashkent days.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from catalog.stock import stock_locations
from orders.models import LineLot, Order, OrderStatus, Return, ReturnLine, Shift

from .stock import Places

MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0")
CENT = Decimal("0.01")
SALES_DAYS = 30


@dataclass(frozen=True)
class SalesFigures:
    receipts: int = 0
    sales: Decimal = ZERO  # VAT included
    returns: int = 0
    returned: Decimal = ZERO  # VAT included
    net_of_vat: Decimal = ZERO  # revenue without its VAT
    cost: Decimal = ZERO  # of the lots sold, less those returned

    @property
    def revenue(self) -> Decimal:
        return self.sales - self.returned

    @property
    def average(self) -> Decimal:
        """The average receipt (sales / receipts), to the so'm."""
        return (self.sales / self.receipts).quantize(Decimal("1")) if self.receipts else ZERO

    @property
    def margin(self) -> Decimal:
        return (self.net_of_vat - self.cost).quantize(CENT)

    def __add__(self, other: SalesFigures) -> SalesFigures:
        return SalesFigures(
            self.receipts + other.receipts,
            self.sales + other.sales,
            self.returns + other.returns,
            self.returned + other.returned,
            self.net_of_vat + other.net_of_vat,
            self.cost + other.cost,
        )


@dataclass(frozen=True)
class PlaceSales:
    location_id: int
    name: str
    today: SalesFigures
    recent: SalesFigures  # the last ``days`` days, today included


@dataclass(frozen=True)
class SalesProfile:
    today: SalesFigures
    recent: SalesFigures
    days: int
    places: list[PlaceSales] = field(default_factory=list)  # every place with sales in the period, by name


def _start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _money(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=MONEY)


def _sum(expression, moment_field: str, since: datetime.datetime):
    return Coalesce(
        Sum(_money(expression), filter=Q(**{f"{moment_field}__gte": since})), Value(ZERO), output_field=MONEY
    )


def sales_profile(*, places: Places = None, today: datetime.date | None = None, days: int = SALES_DAYS) -> SalesProfile:
    """Today's and the last ``days`` days' sales at ``places``, in total and place by place (four statements)."""
    today = today or timezone.localdate()
    periods = {"today": _start(today), "recent": _start(today - datetime.timedelta(days=days - 1))}
    since = periods["recent"]

    orders = Order.objects.filter(status=OrderStatus.COMPLETED, completed_at__gte=since)
    lots = LineLot.objects.filter(line__order__status=OrderStatus.COMPLETED, line__order__completed_at__gte=since)
    returned = ReturnLine.objects.filter(return_doc__created_at__gte=since)
    if places is not None:
        ids = sorted(places)
        orders = orders.filter(location_id__in=ids)
        lots = lots.filter(line__order__location_id__in=ids)
        returned = returned.filter(return_doc__order__location_id__in=ids)

    rows: dict[int, dict[str, dict]] = {}

    def add(place_id: int, values: dict) -> None:
        for period in periods:
            rows.setdefault(place_id, {p: {} for p in periods})[period].update(
                {key.removesuffix(f"_{period}"): value for key, value in values.items() if key.endswith(f"_{period}")}
            )

    aggregates = {}
    for period, moment in periods.items():
        aggregates |= {
            f"receipts_{period}": Count("pk", filter=Q(completed_at__gte=moment)),
            f"sales_{period}": _sum(F("total"), "completed_at", moment),
            f"net_{period}": _sum(F("total") - F("vat_total"), "completed_at", moment),
        }
    for row in orders.values("location_id").annotate(**aggregates).order_by():
        add(row["location_id"], row)

    # Purchase prices are per pack, units are parts of a pack for a medicine sold by the part.
    unit_cost = F("lot__purchase_price") * F("quantity") / F("line__parts_per_pack")
    aggregates = {f"cost_{p}": _sum(unit_cost, "line__order__completed_at", m) for p, m in periods.items()}
    for row in lots.values("line__order__location_id").annotate(**aggregates).order_by():
        add(row["line__order__location_id"], row)

    # A returned line's VAT is its share of the sale line's VAT (as on the Z-report).
    vat_back = F("line__vat_amount") * F("amount") / NullIf(F("line__total"), Value(ZERO))
    cost_back = F("line_lot__lot__purchase_price") * F("quantity") / F("line__parts_per_pack")
    aggregates = {}
    for period, moment in periods.items():
        aggregates |= {
            f"returns_{period}": Count("return_doc", distinct=True, filter=Q(return_doc__created_at__gte=moment)),
            f"returned_{period}": _sum(F("amount"), "return_doc__created_at", moment),
            f"vatback_{period}": _sum(
                Coalesce(vat_back, Value(ZERO), output_field=MONEY), "return_doc__created_at", moment
            ),
            f"costback_{period}": _sum(cost_back, "return_doc__created_at", moment),
        }
    for row in returned.values("return_doc__order__location_id").annotate(**aggregates).order_by():
        add(row["return_doc__order__location_id"], row)

    names = dict(stock_locations().filter(pk__in=list(rows)).values_list("pk", "name")) if rows else {}

    def figures(values: dict) -> SalesFigures:
        returned_money = values.get("returned", ZERO)
        return SalesFigures(
            receipts=values.get("receipts", 0),
            sales=values.get("sales", ZERO),
            returns=values.get("returns", 0),
            returned=returned_money,
            net_of_vat=(values.get("net", ZERO) - (returned_money - values.get("vatback", ZERO))).quantize(CENT),
            cost=(values.get("cost", ZERO) - values.get("costback", ZERO)).quantize(CENT),
        )

    lines = sorted(
        (
            PlaceSales(pk, names.get(pk, f"#{pk}"), figures(values["today"]), figures(values["recent"]))
            for pk, values in rows.items()
        ),
        key=lambda line: (line.name, line.location_id),
    )
    return SalesProfile(
        today=sum((line.today for line in lines), SalesFigures()),
        recent=sum((line.recent for line in lines), SalesFigures()),
        days=days,
        places=lines,
    )


def shift_sales(shift: Shift | int) -> SalesFigures:
    """A shift's completed sales and returns so far (two statements; the Z-report has the full figures)."""
    sold = Order.objects.filter(shift=shift, status=OrderStatus.COMPLETED).aggregate(
        receipts=Count("pk"), sales=Coalesce(Sum("total"), Value(ZERO), output_field=MONEY)
    )
    back = Return.objects.filter(shift=shift).aggregate(
        returns=Count("pk"), returned=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY)
    )
    return SalesFigures(
        receipts=sold["receipts"], sales=sold["sales"], returns=back["returns"], returned=back["returned"]
    )
