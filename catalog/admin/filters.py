"""List filters for the catalogue admin (Unfold's filter widgets)."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import DropdownFilter, RadioFilter, RelatedDropdownFilter

from catalog.models import Lot, LotStock
from catalog.selectors import EXPIRY_WINDOWS_DAYS, expiring_within_q, low_stock_q, out_of_stock_q
from catalog.stock import member_location_ids, visible_locations

LOCATION_PARAM = "location"
ON_HAND_PARAM = "on_hand"


def medicine_place(request) -> int | None:
    """The place whose figures the medicines list shows (one of the member's), or ``None``: the chain's."""
    value = request.GET.get(LOCATION_PARAM, "")
    if not value.isdigit():
        return None
    mine = member_location_ids(request.user)
    return int(value) if mine is None or int(value) in mine else None


def lot_place_scope(request) -> list[int] | None:
    """The places whose stock the lots list shows: the chosen one, else the member's; ``None``: every place.

    A member sees the lots at the places they work at unless they pick one of
    them; the administrator sees every place unless they pick one. A place
    that is not the member's shows nothing.
    """
    mine = member_location_ids(request.user)
    value = request.GET.get(LOCATION_PARAM, "")
    if value.isdigit():
        chosen = int(value)
        return [chosen] if mine is None or chosen in mine else []
    return None if mine is None else sorted(mine)


class MedicineLocationFilter(DropdownFilter):
    """Which place's stock the medicines list shows; every medicine stays listed (none there: out of stock there).

    The figures are annotated by ``MedicineAdmin.get_queryset`` (``medicine_place``),
    so the stock and expiry filters read the same place's.
    """

    title = _("location")
    parameter_name = LOCATION_PARAM
    all_option = ["", _("The whole chain")]

    def lookups(self, request, model_admin):
        return [(str(place.pk), place.name) for place in visible_locations(request.user)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() and medicine_place(request) is None:
            return queryset.none()  # a place that is not the member's
        return queryset


class StockStateFilter(RadioFilter):
    """Out, low or in stock: for the chain, or at the place the list shows (its reorder level there)."""

    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return (
            ("out", _("Out of stock")),
            ("low", _("Low stock")),
            ("in", _("In stock")),
        )

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if "place_sellable" in queryset.query.annotations:
            match self.value():
                case "out":
                    return queryset.filter(place_sellable=0)
                case "low":
                    return queryset.filter(place_sellable__gt=0, place_sellable__lte=F("place_reorder_level"))
                case "in":
                    return queryset.filter(place_sellable__gt=F("place_reorder_level"))
            return queryset
        match self.value():
            case "out":
                return queryset.filter(out_of_stock_q())
            case "low":
                return queryset.filter(low_stock_q())
            case "in":
                # reorder_level >= 0, so this also means "more than nothing".
                return queryset.filter(sellable_quantity__gt=F("reorder_level"))
        return queryset


def _expiry_lookups():
    return (
        ("expired", _("Expired stock on hand")),
        *(
            (str(days), ngettext("Within %(days)d day", "Within %(days)d days", days) % {"days": days})
            for days in EXPIRY_WINDOWS_DAYS
        ),
    )


class MedicineExpiryFilter(DropdownFilter):
    """Medicines whose sellable stock expires soon, or that still hold expired stock to write off."""

    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return _expiry_lookups()

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        today = timezone.localdate()
        if value == "expired":
            place = medicine_place(request)
            if place is not None:
                expired_here = LotStock.objects.filter(
                    lot__medicine=OuterRef("pk"), location_id=place, quantity__gt=0, lot__expiry_date__lte=today
                )
                return queryset.filter(Exists(expired_here))
            expired_stock = Lot.objects.filter(medicine=OuterRef("pk"), quantity__gt=0, expiry_date__lte=today)
            return queryset.filter(Exists(expired_stock))
        if value.isdigit() and int(value) in EXPIRY_WINDOWS_DAYS:
            # The place the list shows, else the chain.
            field = "place_expiry" if "place_expiry" in queryset.query.annotations else "nearest_expiry"
            until = today + timedelta(days=int(value))
            return queryset.filter(**{f"{field}__gt": today, f"{field}__lte": until})
        return queryset


class LotExpiryFilter(DropdownFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return (
            ("expired", _("Expired")),
            *(
                (str(days), ngettext("Within %(days)d day", "Within %(days)d days", days) % {"days": days})
                for days in EXPIRY_WINDOWS_DAYS
            ),
        )

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        today = timezone.localdate()
        if value == "expired":
            return queryset.filter(expiry_date__lte=today)
        if value.isdigit() and int(value) in EXPIRY_WINDOWS_DAYS:
            return queryset.filter(expiring_within_q(today, int(value)))
        return queryset


class LotLocationFilter(DropdownFilter):
    """Lots with stock at the places in view (``lot_place_scope``); with "Empty" (``OnHandFilter``), lots that
    were there and hold nothing there now."""

    title = _("location")
    parameter_name = LOCATION_PARAM

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        # What "no choice" means is said in the first option.
        mine = member_location_ids(request.user)
        self.all_option = ["", _("All locations") if mine is None else _("My locations")]

    def lookups(self, request, model_admin):
        return [(str(place.pk), place.name) for place in visible_locations(request.user)]

    def has_output(self) -> bool:
        # Applied even for a member who works nowhere: they see no place's lots.
        return True

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        scope = lot_place_scope(request)
        if scope is None:
            return queryset
        there = LotStock.objects.filter(lot=OuterRef("pk"), location_id__in=scope)
        held = Exists(there.filter(quantity__gt=0))
        if request.GET.get(ON_HAND_PARAM) == "no":
            return queryset.filter(Exists(there), ~held)
        return queryset.filter(held)


class OnHandFilter(RadioFilter):
    """Lots with or without stock: at the places in view when the list shows some (see ``LotLocationFilter``)."""

    title = _("on hand")
    parameter_name = ON_HAND_PARAM

    def lookups(self, request, model_admin):
        return (("yes", _("With stock")), ("no", _("Empty")))

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if lot_place_scope(request) is not None:
            return queryset  # the location filter applies it at those places
        if self.value() == "yes":
            return queryset.filter(quantity__gt=0)
        if self.value() == "no":
            return queryset.filter(quantity=0)
        return queryset


__all__ = [
    "LotExpiryFilter",
    "LotLocationFilter",
    "MedicineExpiryFilter",
    "MedicineLocationFilter",
    "OnHandFilter",
    "StaffUserFilter",
    "StockStateFilter",
    "lot_place_scope",
    "medicine_place",
]


class StaffUserFilter(RelatedDropdownFilter):
    """Who made a ledger movement: a dropdown of staff only.

    An autocomplete would ask the users admin, which most roles may not open.
    """

    def field_choices(self, field, request, model_admin):
        return field.get_choices(include_blank=False, limit_choices_to={"is_staff": True}, ordering=("phone",))
