"""The public locations: which places the storefront shows, and how much of a medicine each has, coarsely.

A place is public when it is active, sells to the public (``is_public``) and
is not the transit place. The database already keeps transit non-public
(``location_transit_not_public``); the kind is checked here too, so that no
row can ever show customers packs that are on a lorry.

The public places are few (a chain has tens) and every request about them
needs all of them: the locations list, each medicine's availability and the
medicine list's ``location`` filter. So they are read once per catalogue
version, like the category tree, and kept in the Django cache and in this
process. A location saved or deleted bumps the version (``catalog.versioning``),
and so does a medicine going in or out of stock at a place (``stock_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.models import NOT_SELLING_KINDS, Location

from .caching import versioned_get_or_set

# Stock is shown to customers as a level per place, never as a count: enough to
# tell "go soon" from "plenty", too coarse to follow a branch's sales one by one.
# Counted in whole packs, so a level means the same for a box sold whole and for
# one sold by the blister (units / parts_per_pack). Each level holds up to and
# including its number of packs; the last one (None) holds everything above.
AVAILABILITY_LEVELS: tuple[tuple[str, int | None], ...] = (("few", 3), ("some", 10), ("many", None))

# The columns the API shows, in the order it shows them (``serializers.location_row``).
LOCATION_FIELDS = (
    "id",
    "name",
    "kind",
    "address",
    "region",
    "district",
    "phone",
    "opening_hours",
    "latitude",
    "longitude",
)


def stock_level(units: int, parts_per_pack: int) -> str:
    """The level of ``units`` (> 0) of a medicine whose pack holds ``parts_per_pack`` units."""
    for level, most_packs in AVAILABILITY_LEVELS:
        # Whole units on both sides: no rounding of a part of a pack.
        if most_packs is None or units <= most_packs * parts_per_pack:
            return level
    raise AssertionError("the last level has no bound")


@dataclass
class PublicLocations:
    # The places as ``LOCATION_FIELDS`` rows, ordered by name (then id).
    rows: list[dict[str, Any]] = field(default_factory=list)
    ids: frozenset[int] = frozenset()


def _build() -> PublicLocations:
    rows = list(
        Location.objects.filter(is_active=True, is_public=True)
        .exclude(kind__in=NOT_SELLING_KINDS)
        .order_by("name", "id")
        .values(*LOCATION_FIELDS)
    )
    return PublicLocations(rows=rows, ids=frozenset(row["id"] for row in rows))


# Part of the cache key: a deploy that changes PublicLocations never unpickles the old shape.
LOCATIONS_FORMAT = "1"


def public_locations(version: int | None = None) -> PublicLocations:
    """The public places of ``version`` (the current one by default): from this process, else the cache, else read."""
    return versioned_get_or_set("locations", ("public", LOCATIONS_FORMAT), _build, version=version)
