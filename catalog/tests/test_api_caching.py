"""The public catalogue API under load and change: validators, 304, cache invalidation,
throttling, and a fixed number of queries per page whatever its size."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.versioning import catalog_cache_bump

from .api_support import API
from .factories import ActiveSubstanceFactory, CategoryFactory, medicine_with, receive

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    f"{API}categories/",
    f"{API}medicines/",
    f"{API}medicines/?q=paracetamol",
    f"{API}medicines/panadol/",
    f"{API}medicines/panadol/alternatives/",
    f"{API}medicines/panadol/availability/",
    f"{API}substances/",
    f"{API}locations/",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_response_carries_validators_and_cache_control(api, shop, path):
    response = api.get(path)

    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response.has_header("Last-Modified")
    assert "max-age=60" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert "Accept-Language" in response["Vary"]


def test_not_found_and_refusals_carry_cache_control_too(api, shop):
    missing = api.get(f"{API}medicines/ghost/")
    refused = api.post(f"{API}medicines/")
    invalid = api.get(f"{API}medicines/?price_min=-5")

    assert missing.status_code == 404 and missing.has_header("ETag") and "max-age" in missing["Cache-Control"]
    assert refused.status_code == 405 and "no-store" in refused["Cache-Control"]
    assert invalid.status_code == 400 and "no-store" in invalid["Cache-Control"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_conditional_get_with_the_etag_is_answered_304(api, shop, path):
    first = api.get(path)

    again = api.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again.has_header("Cache-Control")


def test_a_conditional_get_by_date_is_answered_304_until_the_catalogue_changes(api, shop):
    first = api.get(f"{API}medicines/panadol/")

    assert api.get(f"{API}medicines/panadol/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


def test_a_price_change_invalidates_cached_detail_list_and_etag(api, shop):
    detail = api.get(f"{API}medicines/panadol/")
    listed = api.get(f"{API}medicines/?ordering=price")
    assert detail.json()["price"] == "12000.00"

    panadol = shop["panadol"]
    panadol.price = Decimal("7000.00")
    panadol.save()

    fresh = api.get(f"{API}medicines/panadol/", HTTP_IF_NONE_MATCH=detail["ETag"])
    assert fresh.status_code == 200
    assert fresh.json()["price"] == "7000.00"
    fresh_list = api.get(f"{API}medicines/?ordering=price")
    assert fresh_list["ETag"] != listed["ETag"]
    assert [item["slug"] for item in fresh_list.json()["results"]] == ["panadol", "tsitramon", "nurofen"]


def test_a_repeated_request_is_served_from_the_cache_without_queries(api, shop, django_assert_num_queries):
    api.get(f"{API}medicines/?page_size=2")

    with django_assert_num_queries(0):
        response = api.get(f"{API}medicines/?page_size=2")
    assert response.status_code == 200


def test_stock_arriving_flips_availability_in_the_cached_list(api, shop, django_capture_on_commit_callbacks):
    assert api.get(f"{API}medicines/nurofen/").json()["in_stock"] is False

    with django_capture_on_commit_callbacks(execute=True):  # the receipt commits
        receive(shop["nurofen"], 10)

    assert api.get(f"{API}medicines/nurofen/").json()["in_stock"] is True


def test_the_last_unit_sold_takes_the_medicine_out_of_stock_at_once(api, shop, django_capture_on_commit_callbacks):
    from catalog.stock import stock_dispense

    assert api.get(f"{API}medicines/tsitramon/").json()["in_stock"] is True
    assert "tsitramon" in [item["slug"] for item in api.get(f"{API}medicines/?in_stock=true").json()["results"]]

    with django_capture_on_commit_callbacks(execute=True):
        stock_dispense(medicine=shop["tsitramon"], quantity=7)

    assert api.get(f"{API}medicines/tsitramon/").json()["in_stock"] is False
    assert "tsitramon" not in [item["slug"] for item in api.get(f"{API}medicines/?in_stock=true").json()["results"]]


def test_a_sale_that_leaves_stock_keeps_every_cached_page(
    api, shop, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from catalog.stock import stock_dispense

    detail = api.get(f"{API}medicines/panadol/")
    popular = api.get(f"{API}medicines/?ordering=-popularity")

    with django_capture_on_commit_callbacks(execute=True):
        stock_dispense(medicine=shop["panadol"], quantity=3)  # 40 -> 37: still in stock

    with django_assert_num_queries(0):  # both answered from the cache
        assert api.get(f"{API}medicines/panadol/")["ETag"] == detail["ETag"]
        # The popularity order lags until the entry expires (CATALOG_API_CACHE_SECONDS).
        assert api.get(f"{API}medicines/?ordering=-popularity")["ETag"] == popular["ETag"]


def test_a_bulk_update_is_seen_after_catalog_cache_bump(api, shop):
    from catalog.models import Medicine

    api.get(f"{API}medicines/panadol/")
    Medicine.objects.filter(slug="panadol").update(price=Decimal("1.00"))  # no signal
    catalog_cache_bump()

    assert api.get(f"{API}medicines/panadol/").json()["price"] == "1.00"


def test_the_response_cache_can_be_turned_off(api, shop, settings, django_assert_max_num_queries):
    settings.CATALOG_API_CACHE_SECONDS = 0
    api.get(f"{API}medicines/panadol/")

    with CaptureQueriesContext(connection) as queries:
        api.get(f"{API}medicines/panadol/")
    assert len(queries) == 2  # the medicine row and its substances


def test_too_many_requests_from_one_address_get_429_with_retry_after(api, shop, settings):
    settings.CATALOG_API_THROTTLE_RATE = "3/min"
    cache.clear()

    # Mid-window and frozen: the windows are fixed, so crossing a minute
    # boundary during the test would start a fresh count.
    with time_machine.travel(datetime.datetime(2031, 1, 1, 10, 0, 20, tzinfo=datetime.UTC), tick=False):
        statuses = [api.get(f"{API}medicines/panadol/").status_code for _ in range(4)]
        refused = api.get(f"{API}categories/")

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"


def test_another_address_is_not_throttled_by_the_first(api, shop, settings):
    from django.test import Client

    settings.CATALOG_API_THROTTLE_RATE = "2/min"
    for _ in range(3):
        api.get(f"{API}categories/")

    assert Client(REMOTE_ADDR="192.0.2.200").get(f"{API}categories/").status_code in (200, 304)


@pytest.fixture
def big_catalogue(db):
    """60 medicines with two substances each, in a three-level category tree."""
    root = CategoryFactory(slug="root")
    middle = CategoryFactory(slug="middle", parent=root)
    leaf = CategoryFactory(slug="leaf", parent=middle)
    first, second = ActiveSubstanceFactory(inn_name="Alpha"), ActiveSubstanceFactory(inn_name="Beta")
    medicines = []
    for n in range(60):
        medicine = medicine_with(
            [(first, 100 + n), (second, 5)],
            name=f"Pill {n:02d}",
            slug=f"pill-{n:02d}",
            category=(root, middle, leaf)[n % 3],
        )
        medicines.append(medicine)
    for medicine in medicines[:10]:
        receive(medicine, 5)
    return medicines


@pytest.mark.parametrize(
    "query",
    ["", "category=root", "q=pill&ordering=-price", "substance={alpha}&in_stock=true&ordering=popularity"],
)
def test_a_medicine_page_costs_the_same_queries_for_5_and_50_rows(api, big_catalogue, query, settings):
    from catalog.models import ActiveSubstance

    settings.CATALOG_API_CACHE_SECONDS = 0
    query = query.format(alpha=ActiveSubstance.objects.get(inn_name="Alpha").pk)
    counts = {}
    for size in (5, 50):
        catalog_cache_bump()  # cold: the tree and the count are computed again
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"{API}medicines/?page_size={size}&{query}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, response.json()["count"])
        counts[size] = len(queries)

    # The category tree, the count, the page, the page's substances; a search
    # adds the selector's own probes (exact code, vocabulary), per word not per row.
    assert counts[5] == counts[50] <= (4 + 3 if "q=" in query else 4)


def test_a_warm_page_skips_the_tree_and_the_count(api, big_catalogue, settings, django_assert_num_queries):
    settings.CATALOG_API_CACHE_SECONDS = 0
    api.get(f"{API}medicines/?page_size=50")

    with django_assert_num_queries(2):  # the page and its substances
        api.get(f"{API}medicines/?page_size=50")


def test_substance_and_category_lists_cost_fixed_queries(api, big_catalogue, settings):
    settings.CATALOG_API_CACHE_SECONDS = 0
    for path, most in ((f"{API}substances/?page_size=50", 2), (f"{API}categories/", 1)):
        catalog_cache_bump()
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        assert len(queries) <= most, path


def test_alternatives_cost_fixed_queries(api, big_catalogue, settings):
    settings.CATALOG_API_CACHE_SECONDS = 0
    api.get(f"{API}categories/")  # warm the tree
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{API}medicines/pill-00/alternatives/")
    assert response.status_code == 200
    # The medicine, then the selector's three queries.
    assert len(queries) <= 4


# --- Language: from Accept-Language only -------------------------------------------
# Responses are public and vary on Accept-Language alone, so a shared cache keys
# them by that header: anything else that changed the body (the admin's language
# cookie) would let one visitor's language be served to another.
MEDICINES = f"{API}medicines/?ordering=name"


@pytest.fixture
def uzbek_default(settings):
    settings.LANGUAGE_CODE = "uz"  # as in production (the test settings use English)


def _forms(response) -> list[str]:
    assert response.status_code == 200
    return [item["dosage_form_name"] for item in response.json()["results"]]


@pytest.mark.parametrize("cache_seconds", [300, 0])
def test_the_language_cookie_never_changes_a_catalogue_response(api, shop, settings, uzbek_default, cache_seconds):
    settings.CATALOG_API_CACHE_SECONDS = cache_seconds
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    with_cookie = api.get(MEDICINES)  # the first request fills the response cache
    with_cookie_en = api.get(MEDICINES, HTTP_ACCEPT_LANGUAGE="en")
    del api.cookies[settings.LANGUAGE_COOKIE_NAME]
    plain = api.get(MEDICINES)
    plain_en = api.get(MEDICINES, HTTP_ACCEPT_LANGUAGE="en")

    assert (with_cookie.content, with_cookie["Content-Language"]) == (plain.content, "uz")
    assert (with_cookie_en.content, with_cookie_en["Content-Language"]) == (plain_en.content, "en")
    assert _forms(plain) != _forms(plain_en)  # the header does choose the language


def test_a_cached_russian_answer_is_not_served_for_a_russian_cookie(api, shop, settings, uzbek_default):
    russian = api.get(MEDICINES, HTTP_ACCEPT_LANGUAGE="ru")  # cached under Russian
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    with_cookie = api.get(MEDICINES)

    assert with_cookie["Content-Language"] == "uz"
    assert _forms(with_cookie) != _forms(russian)
    assert with_cookie["ETag"] != russian["ETag"]


def test_refusals_speak_the_accept_language_not_the_cookie(api, shop, settings, uzbek_default):
    api.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    english = api.get(f"{API}medicines/?price_min=-5", HTTP_ACCEPT_LANGUAGE="en")
    uzbek = api.get(f"{API}medicines/?price_min=-5")

    assert english["Content-Language"] == "en" and uzbek["Content-Language"] == "uz"
    assert english.json()["message"] != uzbek.json()["message"]
