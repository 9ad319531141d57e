"""The public places: the locations list, where a medicine is in stock (as levels), the list's
``location`` filter, and their cache, which follows stock and location edits."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.api.locations import AVAILABILITY_LEVELS, stock_level
from catalog.models import LocationKind, Region
from catalog.versioning import catalog_cache_bump

from .api_support import API, AVAILABILITY_KEYS, LOCATION_KEYS, PLACE_KEYS, forbidden_keys_in, slugs
from .factories import LocationFactory, medicine_with, receive

pytestmark = pytest.mark.django_db

LOCATIONS = f"{API}locations/"


def availability(api, slug: str, **headers) -> dict[str, str]:
    """{place name: level} of a medicine's availability answer."""
    response = api.get(f"{API}medicines/{slug}/availability/", **headers)
    assert response.status_code == 200, response.content
    return {item["name"]: item["level"] for item in response.json()}


# --- The locations list ----------------------------------------------------------


def test_the_locations_list_shows_public_active_places_by_name(api, places):
    response = api.get(LOCATIONS)

    assert response.status_code == 200
    assert [place["name"] for place in response.json()] == ["Chilonzor", "Main pharmacy", "Yunusobod"]


def test_a_listed_place_carries_where_it_is_and_when_it_opens(api, places):
    chilonzor = next(place for place in api.get(LOCATIONS).json() if place["name"] == "Chilonzor")

    assert chilonzor == {
        "id": places["chilonzor"].pk,
        "name": "Chilonzor",
        "kind": "branch",
        "address": "Bunyodkor 12",
        "region": "tashkent_city",
        "region_name": "Tashkent city",
        "district": "Chilonzor",
        "phone": "+998712000001",
        "opening_hours": "Mon–Sun 08:00–22:00",
        "latitude": "41.275100",
        "longitude": "69.203400",
    }


def test_a_place_without_coordinates_shows_them_as_null(api, places):
    yunusobod = next(place for place in api.get(LOCATIONS).json() if place["name"] == "Yunusobod")

    assert yunusobod["latitude"] is None and yunusobod["longitude"] is None
    assert yunusobod["region_name"] == "Tashkent region"


def test_a_warehouse_open_to_customers_is_listed_as_one(api, places):
    LocationFactory(name="Sergeli warehouse", code="sergeli", kind=LocationKind.WAREHOUSE, is_public=True)

    kinds = {place["name"]: place["kind"] for place in api.get(LOCATIONS).json()}

    assert kinds["Sergeli warehouse"] == "warehouse"


def test_transit_hidden_and_closed_places_are_never_listed(api, places):
    from catalog.stock import transit_location

    listed = {place["id"] for place in api.get(LOCATIONS).json()}

    for hidden in (transit_location(), places["depot"], places["old_town"]):
        assert hidden.pk not in listed, hidden.name


def test_region_names_follow_accept_language_and_each_language_is_cached_apart(api, places, settings):
    from django.utils import translation

    with translation.override("ru"):
        russian_label = str(Region.TASHKENT_CITY.label)

    english = api.get(LOCATIONS, HTTP_ACCEPT_LANGUAGE="en")
    russian = api.get(LOCATIONS, HTTP_ACCEPT_LANGUAGE="ru")

    assert english["Content-Language"] == "en" and russian["Content-Language"] == "ru"
    chilonzor = next(place for place in russian.json() if place["name"] == "Chilonzor")
    assert chilonzor["region_name"] == russian_label
    assert "Accept-Language" in english["Vary"]


# --- Availability -------------------------------------------------------------------


def test_availability_lists_the_public_places_with_stock_by_name_with_a_level(api, places):
    assert availability(api, "panadol") == {"Chilonzor": "few", "Main pharmacy": "many", "Yunusobod": "many"}


def test_availability_leaves_out_transit_hidden_closed_and_empty_places(api, places):
    # Panadol is at the depot (not public), at Old town (closed) and in transit.
    listed = set(availability(api, "panadol"))

    assert listed.isdisjoint({"Central depot", "Old town", "In transit"})
    # Tsitramon is at Main only; Chilonzor and Yunusobod have none.
    assert availability(api, "tsitramon") == {"Main pharmacy": "some"}
    assert availability(api, "nurofen") == {}


def test_availability_never_shows_a_quantity_a_lot_or_an_expiry(api, places):
    response = api.get(f"{API}medicines/panadol/availability/")
    body = response.json()

    assert body
    for item in body:
        assert set(item) == AVAILABILITY_KEYS
    assert forbidden_keys_in(body, allowed=PLACE_KEYS) == []
    text = response.content.decode()
    for figure in ("37", "25", "100", "40"):
        assert f":{figure}," not in text and f":{figure}}}" not in text and f'"{figure}"' not in text
    assert "PAN-0001" not in text and "expir" not in text


def test_the_levels_are_one_constant_of_increasing_pack_counts_ending_unbounded():
    bounds = [packs for _level, packs in AVAILABILITY_LEVELS]

    assert [level for level, _packs in AVAILABILITY_LEVELS] == ["few", "some", "many"]
    assert bounds[-1] is None and bounds[:-1] == sorted(bounds[:-1])


@pytest.mark.parametrize(
    ("parts_per_pack", "units", "level"),
    [
        (1, 1, "few"),
        (1, 3, "few"),
        (1, 4, "some"),
        (1, 10, "some"),
        (1, 11, "many"),
        # Sold by the ampoule, ten to a box: levels count boxes, not ampoules.
        (10, 1, "few"),
        (10, 30, "few"),
        (10, 31, "some"),
        (10, 100, "some"),
        (10, 101, "many"),
    ],
)
def test_a_level_counts_packs_at_its_boundaries(api, shop, parts_per_pack, units, level):
    assert stock_level(units, parts_per_pack) == level
    medicine = medicine_with(
        [(shop["substances"]["paracetamol"], 500)],
        slug="vial",
        category=shop["categories"]["cold"],
        parts_per_pack=parts_per_pack,
        part_name="ampoule" if parts_per_pack > 1 else "",
    )
    branch = LocationFactory(name="Branch at the boundary")
    receive(medicine, units, location=branch)

    assert availability(api, "vial") == {"Branch at the boundary": level}


@pytest.mark.parametrize("slug", ["ghost", "lurker", "no-such-medicine"])
def test_availability_of_an_inactive_hidden_or_unknown_medicine_is_the_detail_404(api, places, slug):
    detail = api.get(f"{API}medicines/{slug}/")
    response = api.get(f"{API}medicines/{slug}/availability/")

    assert response.status_code == detail.status_code == 404
    assert response.json() == detail.json()
    assert response.has_header("ETag") and "max-age" in response["Cache-Control"]


# --- The medicine list's location filter ----------------------------------------------


def test_the_location_filter_lists_what_is_in_stock_there(api, places):
    assert slugs(api.get(f"{API}medicines/?location={places['main'].pk}")) == ["panadol", "tsitramon"]
    assert slugs(api.get(f"{API}medicines/?location={places['chilonzor'].pk}")) == ["panadol"]
    # A public place that holds nothing lists nothing, as any filter that matches nothing.
    empty = LocationFactory(name="New branch")
    assert slugs(api.get(f"{API}medicines/?location={empty.pk}")) == []


def test_the_location_filter_combines_with_the_others(api, places):
    main = places["main"].pk

    assert slugs(api.get(f"{API}medicines/?location={main}&price_max=10000")) == ["tsitramon"]
    assert slugs(api.get(f"{API}medicines/?location={main}&category=headache")) == ["tsitramon"]
    assert slugs(api.get(f"{API}medicines/", {"location": main, "q": "paracetamol", "ordering": "-price"})) == [
        "panadol",
        "tsitramon",
    ]
    body = api.get(f"{API}medicines/?location={places['chilonzor'].pk}&page_size=1").json()
    assert body["count"] == 1 and body["next"] is None


def test_the_location_filter_never_lists_an_invisible_medicine(api, places):
    # Ghost (inactive) and Lurker (hidden category) are in stock at Main.
    assert set(slugs(api.get(f"{API}medicines/?location={places['main'].pk}&page_size=100"))).isdisjoint(
        {"ghost", "lurker"}
    )


@pytest.mark.parametrize("place", ["depot", "old_town", "transit", "unknown"])
def test_a_location_that_is_not_listed_is_a_400_that_names_it(api, places, place):
    from catalog.stock import transit_location

    location_id = {"transit": lambda: transit_location().pk, "unknown": lambda: 987654}.get(
        place, lambda: places[place].pk
    )()

    response = api.get(f"{API}medicines/?location={location_id}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == ["location"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("value", ["", "abc", "0", "-1", "99999999999999999999999", "1.5"])
def test_a_location_that_is_not_an_id_is_a_400(api, places, value):
    response = api.get(f"{API}medicines/?location={value}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["location"]


def test_one_answer_names_an_unknown_location_and_every_other_wrong_parameter(api, places):
    response = api.get(f"{API}medicines/?location=987654&price_min=-1&in_stock=maybe")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"location", "price_min", "in_stock"}


# --- Cache: stock and location edits reach the answers ------------------------------------


def test_a_sale_that_empties_a_branch_takes_it_off_at_once(api, shop, places, django_capture_on_commit_callbacks):
    from catalog.stock import stock_dispense

    chilonzor = places["chilonzor"]
    before = api.get(f"{API}medicines/panadol/availability/")
    assert "Chilonzor" in availability(api, "panadol")  # now answered from the cache
    assert slugs(api.get(f"{API}medicines/?location={chilonzor.pk}")) == ["panadol"]

    with django_capture_on_commit_callbacks(execute=True):  # the sale commits
        stock_dispense(medicine=shop["panadol"], quantity=2, location=chilonzor)

    fresh = api.get(f"{API}medicines/panadol/availability/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert fresh.status_code == 200
    assert {item["name"]: item["level"] for item in fresh.json()} == {"Main pharmacy": "many", "Yunusobod": "many"}
    assert slugs(api.get(f"{API}medicines/?location={chilonzor.pk}")) == []
    # The chain still has Panadol.
    assert api.get(f"{API}medicines/panadol/").json()["in_stock"] is True


def test_a_sale_that_leaves_stock_at_the_place_keeps_the_cached_availability(
    api, shop, places, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from catalog.stock import stock_dispense

    before = api.get(f"{API}medicines/panadol/availability/")

    with django_capture_on_commit_callbacks(execute=True):
        stock_dispense(medicine=shop["panadol"], quantity=1, location=places["yunusobod"])

    with django_assert_num_queries(0):
        assert api.get(f"{API}medicines/panadol/availability/")["ETag"] == before["ETag"]


def test_a_receipt_at_an_empty_branch_puts_it_on(api, shop, places, django_capture_on_commit_callbacks):
    assert "Chilonzor" not in availability(api, "tsitramon")

    with django_capture_on_commit_callbacks(execute=True):
        receive(shop["tsitramon"], 12, location=places["chilonzor"])

    assert availability(api, "tsitramon") == {"Chilonzor": "many", "Main pharmacy": "some"}


def test_renaming_a_place_in_the_admin_reaches_every_cached_answer(api, places):
    chilonzor = places["chilonzor"]
    api.get(LOCATIONS)
    availability(api, "panadol")

    chilonzor.name = "Chilonzor-9"
    chilonzor.save()

    assert "Chilonzor-9" in [place["name"] for place in api.get(LOCATIONS).json()]
    assert "Chilonzor-9" in availability(api, "panadol")


def test_hiding_or_closing_a_place_takes_it_off_the_list_availability_and_filter(api, places):
    chilonzor, yunusobod = places["chilonzor"], places["yunusobod"]
    api.get(LOCATIONS)
    availability(api, "panadol")
    assert api.get(f"{API}medicines/?location={chilonzor.pk}").status_code == 200

    chilonzor.is_public = False
    chilonzor.save()
    yunusobod.is_active = False
    yunusobod.save()

    assert [place["name"] for place in api.get(LOCATIONS).json()] == ["Main pharmacy"]
    assert availability(api, "panadol") == {"Main pharmacy": "many"}
    assert api.get(f"{API}medicines/?location={chilonzor.pk}").status_code == 400


def test_a_deleted_place_leaves_the_list(api, places):
    empty = LocationFactory(name="Never opened")
    assert "Never opened" in [place["name"] for place in api.get(LOCATIONS).json()]

    empty.delete()

    assert "Never opened" not in [place["name"] for place in api.get(LOCATIONS).json()]


@pytest.mark.parametrize("path", ["locations/", "medicines/panadol/availability/"])
def test_the_new_endpoints_carry_validators_and_answer_304(api, places, path):
    first = api.get(f"{API}{path}")

    assert first["ETag"].startswith('"') and first.has_header("Last-Modified")
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    again = api.get(f"{API}{path}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(("path", "minute"), [("locations/", 11), ("medicines/panadol/availability/", 12)])
def test_the_new_endpoints_share_the_catalogue_throttle(api, places, settings, path, minute):
    import datetime

    import time_machine
    from django.core.cache import cache

    settings.CATALOG_API_THROTTLE_RATE = "2/min"
    cache.clear()
    # Mid-window and frozen, at a moment no other test freezes: the catalogue version
    # (a timestamp) is then this test's own, and so are the values kept under it.
    with time_machine.travel(datetime.datetime(2031, 1, 1, 10, minute, 20, tzinfo=datetime.UTC), tick=False):
        statuses = [api.get(f"{API}{path}").status_code for _ in range(2)]
        refused = api.get(f"{API}medicines/")  # the same count as every other catalogue endpoint

    assert statuses == [200, 200]
    assert refused.status_code == 429 and refused.has_header("Retry-After")


# --- Fixed queries, whatever the number of places -------------------------------------------


def _spread(medicine, count: int) -> None:
    for n in range(count):
        receive(medicine, 5 + n, location=LocationFactory(name=f"Spread {count}-{n:02d}"))


@pytest.mark.parametrize("extra_places", [0, 12])
def test_the_locations_list_costs_one_query_then_none(api, shop, places, settings, extra_places):
    settings.CATALOG_API_CACHE_SECONDS = 0
    _spread(shop["nurofen"], extra_places)
    catalog_cache_bump()

    with CaptureQueriesContext(connection) as cold:
        response = api.get(LOCATIONS)
    assert len(response.json()) == 3 + extra_places
    assert len(cold) == 1  # the public places, kept for this catalogue version
    with CaptureQueriesContext(connection) as warm:
        api.get(LOCATIONS)
    assert len(warm) == 0


@pytest.mark.parametrize("extra_places", [0, 12])
def test_availability_costs_the_same_queries_for_3_and_15_places(api, shop, places, settings, extra_places):
    settings.CATALOG_API_CACHE_SECONDS = 0
    _spread(shop["panadol"], extra_places)
    catalog_cache_bump()

    with CaptureQueriesContext(connection) as cold:
        response = api.get(f"{API}medicines/panadol/availability/")
    assert len(response.json()) == 3 + extra_places
    # The category tree, the medicine with its stock by place, the public places.
    assert len(cold) == 3
    with CaptureQueriesContext(connection) as warm:
        api.get(f"{API}medicines/panadol/availability/")
    assert len(warm) == 1  # the medicine with its stock by place


@pytest.mark.parametrize("extra_places", [0, 12])
def test_a_page_filtered_by_location_costs_fixed_queries(api, shop, places, settings, extra_places):
    settings.CATALOG_API_CACHE_SECONDS = 0
    _spread(shop["panadol"], extra_places)
    main = places["main"].pk
    catalog_cache_bump()

    with CaptureQueriesContext(connection) as cold:
        assert slugs(api.get(f"{API}medicines/?location={main}")) == ["panadol", "tsitramon"]
    # The public places (to check the id), the tree, the count, the page, its substances.
    assert len(cold) == 5
    with CaptureQueriesContext(connection) as warm:
        api.get(f"{API}medicines/?location={main}")
    assert len(warm) == 2  # the page and its substances


def test_no_answer_about_places_leaks_anything_private(api, places):
    for path in (LOCATIONS, f"{API}medicines/panadol/availability/", f"{API}medicines/tsitramon/availability/"):
        body = api.get(path).content.decode()
        assert forbidden_keys_in(json.loads(body), allowed=PLACE_KEYS) == [], path
        assert "Grand Pharm" not in body and "Central depot" not in body and "Old town" not in body
        for item in json.loads(body):
            assert set(item) <= LOCATION_KEYS | {"level"}


def test_coordinates_keep_six_decimals(api, places):
    chilonzor = places["chilonzor"]
    chilonzor.latitude, chilonzor.longitude = Decimal("-41.5"), Decimal("-179.000001")
    chilonzor.save()

    place = next(p for p in api.get(LOCATIONS).json() if p["id"] == chilonzor.pk)

    assert (place["latitude"], place["longitude"]) == ("-41.500000", "-179.000001")
