"""Which place a stock operation happens at, and whether the acting member works there.

A staff member works at the places of ``User.locations`` and at their quarantines; the administrator
(a superuser) at every place. Code acting for nobody in particular (a Celery
task, the demo loader, a management command run by the operator of the
server) passes no user and is not limited. The check is made by the stock
services themselves, so the admin, imports, commands and any API meet the
same rule.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.exceptions import LocationForbidden, LocationRequired
from catalog.models import NOT_SELLING_KINDS, Location, LocationKind, LotStock
from catalog.models.places import QUARANTINE_SUFFIX

TRANSIT = {"code": "transit", "name": "In transit", "kind": LocationKind.TRANSIT, "is_public": False}


def stock_locations() -> QuerySet[Location]:
    """Active places that hold sellable stock (branches and warehouses; never transit nor a quarantine)."""
    return Location.objects.filter(is_active=True).exclude(kind__in=NOT_SELLING_KINDS)


def holds_stock(place: Location) -> bool:
    """May ``place`` hold stock of its own? Transit holds only what transfers put there; a closed place nothing.

    A quarantine holds what was set aside there, so it may be counted and written off.
    """
    return place.kind != LocationKind.TRANSIT and place.is_active


def check_holds_stock(place: Location) -> Location:
    """``place`` itself, or ``LocationRequired`` in the one wording when it may not hold stock (``holds_stock``)."""
    if not holds_stock(place):
        raise LocationRequired(
            _("%(location)s holds no stock: choose a branch or a warehouse."),
            code="location_holds_no_stock",
            location=place.name,
        )
    return place


def resolve_location(location: Location | int | None) -> Location:
    """``location`` itself (an active branch or warehouse), or, when none is named, the only active place there is.

    A one-pharmacy business never has to name its place; once there are two,
    every stock operation says where (``LocationRequired``).
    """
    if location is not None:
        return check_holds_stock(location if isinstance(location, Location) else Location.objects.get(pk=location))
    places = list(stock_locations()[:2])
    if not places:
        raise LocationRequired(_("There is no location yet: add a branch or a warehouse first."), code="no_location")
    if len(places) > 1:
        raise LocationRequired()
    return places[0]


def lot_location(lot, location: Location | int | None) -> Location:
    """The named place, or the only place where ``lot`` has stock (else the only place there is)."""
    if location is not None:
        return resolve_location(location)
    holding = list(
        LotStock.objects.filter(lot_id=lot.pk, quantity__gt=0)
        .exclude(location__kind__in=NOT_SELLING_KINDS)
        .select_related("location")[:2]
    )
    if len(holding) == 1:
        return holding[0].location
    return resolve_location(None)


def transit_location() -> Location:
    """The chain's transit place, created on first use."""
    location, _ = Location.objects.get_or_create(code=TRANSIT["code"], defaults=TRANSIT)
    return location


def quarantine_location(place: Location) -> Location:
    """``place``'s quarantine (where units returned unfit for sale are kept aside), created on first use."""
    if place.kind == LocationKind.QUARANTINE:
        return place
    location, _created = Location.objects.get_or_create(
        quarantine_of=place,
        defaults={
            "code": f"{place.code}-q"[:32],
            "name": f"{place.name[: 120 - len(QUARANTINE_SUFFIX)]}{QUARANTINE_SUFFIX}",
            "kind": LocationKind.QUARANTINE,
            "is_public": False,
            "region": place.region,
            "district": place.district,
            "address": place.address,
        },
    )
    return location


def member_location_ids(user) -> set[int] | None:
    """The ids of the places ``user`` works at, with their quarantines; ``None`` means every place
    (administrator, or no user)."""
    if user is None or getattr(user, "is_superuser", False):
        return None
    if not getattr(user, "pk", None):
        return set()
    cached = getattr(user, "_location_ids", None)
    if cached is None:
        # One statement: the member's places and the quarantines of those places.
        cached = set(Location.objects.filter(Q(staff=user) | Q(quarantine_of__staff=user)).values_list("pk", flat=True))
        user._location_ids = cached
    return cached


def works_at(user, location: Location | int) -> bool:
    ids = member_location_ids(user)
    # A quarantine is its place's: whoever works at the place works there (even one created since the ids
    # were read).
    location_id = getattr(location, "quarantine_of_id", None) or getattr(location, "pk", location)
    return ids is None or location_id in ids


def check_works_at(user, *locations: Location) -> None:
    """Refuse (``LocationForbidden``) when ``user`` does not work at every one of ``locations``."""
    for location in locations:
        if not works_at(user, location):
            raise LocationForbidden(location=location.name)


def visible_locations(user, *, quarantines: bool = False) -> QuerySet[Location]:
    """The stock places ``user`` may see and pick from (lists, filters, forms); ``quarantines``: with the
    quarantines of those places (where stock set aside is counted and written off)."""
    places = stock_locations()
    if quarantines:
        places = Location.objects.filter(is_active=True).exclude(kind=LocationKind.TRANSIT)
    ids = member_location_ids(user)
    return places if ids is None else places.filter(pk__in=ids)
