"""The catalogue API's hot path: cache hits before DRF, the SQL behind lists and details.

The SQL of ``catalog.api.queries`` must find exactly what the ORM finds for
the same parameters (the filters, the orderings, ``medicine_search``), and
the response cache in front of DRF must answer as DRF would: same headers,
same throttle, counted once.
"""

import datetime
import logging
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from catalog.api.filters import MedicineFilter, SubstanceFilter
from catalog.models import ActiveSubstance, DosageForm, Medicine
from catalog.selectors import medicine_search
from conftest import requires_postgres, requires_redis

from .api_support import API, slugs
from .factories import (
    ActiveSubstanceFactory,
    CategoryFactory,
    LocationFactory,
    ManufacturerFactory,
    main_location,
    medicine_with,
    receive,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(db):
    """36 medicines spread over forms, prices, sales, stock, makers and categories (two of them invisible)."""
    root = CategoryFactory(slug="root", name="Root")
    child = CategoryFactory(slug="child", name="Child", parent=root)
    other = CategoryFactory(slug="other", name="Other")
    hidden = CategoryFactory(slug="hidden", is_active=False)
    hidden_child = CategoryFactory(slug="hidden-child", parent=hidden)
    substances = [
        ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол"),
        ActiveSubstanceFactory(inn_name="Ibuprofen", name_ru="Ибупрофен"),
        ActiveSubstanceFactory(inn_name="Amoxicillin", name_ru="Амоксициллин"),
    ]
    makers = [ManufacturerFactory(name="Nobel"), ManufacturerFactory(name="Dori-Darmon")]
    categories = [root, child, other, root, hidden_child]
    forms = [DosageForm.TABLET, DosageForm.SYRUP, DosageForm.CAPSULE]
    medicines = []
    for n in range(36):
        strengths = [(substances[n % 3], Decimal("0.1") if n == 7 else 100 + 50 * (n % 4))]
        if n % 5 == 0:
            strengths.append((substances[(n + 1) % 3], 5, "mg", Decimal("5")))
        medicine = medicine_with(
            strengths,
            name=f"{['Panadol', 'Nurofen', 'Amoxil'][n % 3]} {n:02d}",
            slug=f"item-{n:02d}",
            category=categories[n % 5],
            manufacturer=makers[n % 2],
            dosage_form=forms[n % 3],
            is_prescription=n % 4 == 0,
            price=Decimal(1000 * (n % 7) + 500),
            number_sold=(n * 37) % 11,
            is_active=n != 13,
        )
        medicines.append(medicine)
    for medicine in medicines[::3]:
        receive(medicine, 4)
    # A second branch holding some of the same medicines and some others.
    branch = LocationFactory(name="Branch", code="branch")
    for medicine in medicines[::4]:
        receive(medicine, 2, location=branch)
    return {
        "substances": substances,
        "makers": makers,
        "hidden": [hidden.pk, hidden_child.pk],
        "root": root,
        "places": {"main": main_location().pk, "branch": branch.pk},
    }


def reference_ids(varied, params: dict) -> list[int]:
    """What the ORM finds for ``params``: the filters' meaning written out independently."""
    queryset = Medicine.objects.filter(is_active=True).exclude(category_id__in=varied["hidden"])
    if "category" in params:
        queryset = queryset.filter(
            category__slug__in={"root": ["root", "child"], "other": ["other"]}[params["category"]]
        )
    if "substance" in params:
        queryset = queryset.filter(medicine_substances__substance_id=params["substance"]).distinct()
    if "manufacturer" in params:
        queryset = queryset.filter(manufacturer_id=params["manufacturer"])
    if "dosage_form" in params:
        queryset = queryset.filter(dosage_form=params["dosage_form"])
    if "is_prescription" in params:
        queryset = queryset.filter(is_prescription=params["is_prescription"] == "true")
    if "in_stock" in params:
        queryset = (
            queryset.filter(sellable_quantity__gt=0)
            if params["in_stock"] == "true"
            else queryset.filter(sellable_quantity=0)
        )
    if "location" in params:
        queryset = queryset.filter(
            stock_levels__location_id=int(params["location"]), stock_levels__sellable_quantity__gt=0
        )
    if "price_min" in params:
        queryset = queryset.filter(price__gte=Decimal(params["price_min"]))
    if "price_max" in params:
        queryset = queryset.filter(price__lte=Decimal(params["price_max"]))
    if "q" in params:
        queryset = medicine_search(query=params["q"], queryset=queryset)
    else:
        queryset = queryset.order_by("name", "id")
    if "ordering" in params:
        fields = {"price": "price", "name": "name", "popularity": "number_sold"}
        keys = [("-" if key.startswith("-") else "") + fields[key.lstrip("-")] for key in params["ordering"].split(",")]
        queryset = queryset.order_by(*keys, "-id" if keys[-1].startswith("-") else "id")
    return list(queryset.values_list("id", flat=True))


CASES = [
    {},
    {"category": "root"},
    {"category": "other", "ordering": "-price"},
    {"substance": "{paracetamol}"},
    {"manufacturer": "{nobel}", "in_stock": "true"},
    {"dosage_form": "syrup", "is_prescription": "false"},
    {"in_stock": "false", "ordering": "popularity"},
    {"price_min": "1500", "price_max": "4500", "ordering": "price"},
    {"ordering": "-popularity"},
    {"ordering": "price,-name"},
    {"q": "panadol"},
    {"q": "парацетамол", "ordering": "-price"},
    {"q": "nobel amoxil"},
    {"q": "SKU-none"},
    {"location": "{main}"},
    {"location": "{branch}", "ordering": "-price"},
    {"location": "{branch}", "in_stock": "true", "category": "root"},
    {"location": "{main}", "q": "panadol"},
]


@pytest.mark.parametrize("params", CASES, ids=[str(case) for case in CASES])
def test_the_list_finds_what_the_orm_finds_in_the_same_order(api, varied, settings, params):
    settings.CATALOG_API_CACHE_SECONDS = 0
    params = {
        key: value.format(paracetamol=varied["substances"][0].pk, nobel=varied["makers"][0].pk, **varied["places"])
        for key, value in params.items()
    }
    response = api.get(f"{API}medicines/", {**params, "page_size": 100})

    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    assert ids == reference_ids(varied, params)
    assert response.json()["count"] == len(ids)


def test_a_sku_or_barcode_finds_that_medicine_alone(api, varied):
    medicine = Medicine.objects.get(slug="item-01")

    assert slugs(api.get(f"{API}medicines/", {"q": medicine.sku})) == ["item-01"]
    assert slugs(api.get(f"{API}medicines/", {"q": medicine.barcode})) == ["item-01"]
    # Not when it is outside the other filters.
    assert slugs(api.get(f"{API}medicines/", {"q": medicine.sku, "category": "other"})) == []


@requires_postgres
def test_a_misspelt_search_finds_what_the_selector_finds(api, varied):
    visible = Medicine.objects.filter(is_active=True).exclude(category_id__in=varied["hidden"])
    for query in ("panadoll", "нурафен", "amxil"):
        expected = list(medicine_search(query=query, queryset=visible).values_list("slug", flat=True)[:100])
        assert slugs(api.get(f"{API}medicines/", {"q": query, "page_size": 100})) == expected, query
        assert expected, query


def test_pages_split_the_same_order_without_overlap(api, varied):
    first = api.get(f"{API}medicines/", {"ordering": "-price", "page_size": 7}).json()
    second = api.get(f"{API}medicines/", {"ordering": "-price", "page_size": 7, "page": 2}).json()

    assert [item["id"] for item in first["results"] + second["results"]] == reference_ids(
        varied, {"ordering": "-price"}
    )[:14]
    assert first["next"].startswith("http://testserver/api/v1/catalog/medicines/?") and "page=2" in first["next"]
    assert "page=" not in second["previous"]  # the first page's link has no page number


def test_strengths_keep_their_exact_decimals(api, varied):
    item = api.get(f"{API}medicines/item-07/").json()

    assert item["substances"][0]["strength"] == "0.1000"
    assert item["substances"][0]["display"] == "0.1 mg"
    listed = next(
        i for i in api.get(f"{API}medicines/", {"page_size": 100}).json()["results"] if i["slug"] == "item-07"
    )
    assert listed["substances"] == [
        {key: value for key, value in item["substances"][0].items() if key not in ("name_uz", "name_ru")}
    ]


def test_a_strength_per_volume_is_shown_per_millilitre(api, varied):
    item = api.get(f"{API}medicines/item-05/").json()

    # By INN: Amoxicillin 150 mg, then Paracetamol 5 mg in 5 ml.
    assert [(s["inn_name"], s["display"], s["per_volume_ml"]) for s in item["substances"]] == [
        ("Amoxicillin", "150 mg", None),
        ("Paracetamol", "5 mg/5 ml", "5.00"),
    ]


# --- Cleaning the parameters without building the FilterSet --------------------

QUERY_STRINGS = [
    "",
    "page=2&ordering=-price",
    "category=pain&in_stock=true&is_prescription=false",
    "substance=12&manufacturer=3&dosage_form=syrup",
    "price_min=100.5&price_max=2000",
    "q=%D0%BF%D0%B0%D1%80%D0%B0&ordering=popularity,name",
    "in_stock=1&is_prescription=0",
    "price_min=-5",
    "substance=abc&dosage_form=potion",
    "ordering=cost",
    "q=" + "x" * 101,
    "manufacturer=0",
]


@pytest.mark.parametrize(("filterset_class", "model"), [(MedicineFilter, Medicine), (SubstanceFilter, ActiveSubstance)])
@pytest.mark.parametrize("query", QUERY_STRINGS)
def test_parameters_are_cleaned_as_the_filter_form_cleans_them(filterset_class, model, query):
    from rest_framework.exceptions import ValidationError

    data = QueryDict(query)
    form = filterset_class(data=data, queryset=model.objects.none()).form
    if form.is_valid():
        assert filterset_class.clean(data) == form.cleaned_data
    else:
        with pytest.raises(ValidationError) as refused:
            filterset_class.clean(data)
        assert refused.value.detail == {name: list(messages) for name, messages in form.errors.items()}


@pytest.mark.parametrize("query", ["", "q=para", "q=ПАРА", "q=n02", "q=%20"])
def test_substances_are_filtered_as_the_filter_set_filters_them(query):
    ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол", atc_codes=["N02BE01"])
    ActiveSubstanceFactory(inn_name="Ibuprofen", name_ru="Ибупрофен", atc_codes=["M01AE01"])
    data, queryset = QueryDict(query), ActiveSubstance.objects.order_by("pk")

    fast = SubstanceFilter.filter_cleaned(queryset, SubstanceFilter.clean(data))

    assert list(fast) == list(SubstanceFilter(data=data, queryset=queryset).qs)


# --- Cache hits before DRF -------------------------------------------------------


def test_a_hit_answers_with_the_headers_and_body_of_the_miss(api, varied):
    miss = api.get(f"{API}medicines/?ordering=price", HTTP_ACCEPT_LANGUAGE="ru")
    hit = api.get(f"{API}medicines/?ordering=price", HTTP_ACCEPT_LANGUAGE="ru")

    assert hit.content == miss.content
    for header in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Vary", "Allow", "Content-Language"):
        assert hit[header] == miss[header], header
    assert miss["Allow"] == "GET, HEAD, OPTIONS"


def test_head_is_answered_from_the_same_cache_entry_without_a_body(api, varied):
    fresh = api.head(f"{API}medicines/item-02/")
    cached = api.head(f"{API}medicines/item-02/")
    got = api.get(f"{API}medicines/item-02/")

    assert fresh.status_code == cached.status_code == 200
    assert fresh.content == cached.content == b""
    assert fresh["ETag"] == cached["ETag"] == got["ETag"]


def test_each_language_has_its_own_cached_answer(api, varied):
    russian = api.get(f"{API}medicines/item-01/", HTTP_ACCEPT_LANGUAGE="ru").json()
    english = api.get(f"{API}medicines/item-01/", HTTP_ACCEPT_LANGUAGE="en").json()
    russian_again = api.get(f"{API}medicines/item-01/", HTTP_ACCEPT_LANGUAGE="ru").json()

    assert russian["dosage_form_name"] == russian_again["dosage_form_name"] != english["dosage_form_name"]


def test_a_refused_request_is_counted_once(api, varied, settings):
    settings.CATALOG_API_THROTTLE_RATE = "2/min"
    moment = datetime.datetime(2031, 1, 1, 10, 0, 20, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        statuses = [api.get(f"{API}medicines/item-01/").status_code for _ in range(4)]
        window = int(moment.timestamp() // 60)
        count = cache.get(f"throttle_catalog_{api.defaults['REMOTE_ADDR']}_60_{window}")

    assert statuses == [200, 200, 429, 429]
    assert count == 4  # one per request: the refusals were not counted again on DRF's path


@requires_redis
def test_a_hit_is_one_round_trip_to_redis_and_no_query(api, varied, monkeypatch):
    api.get(f"{API}medicines/?page=1")
    backend = caches["default"]
    calls = []
    for name in ("get", "get_many", "set", "incr", "incr_and_get_many"):
        original = getattr(backend, name)
        monkeypatch.setattr(
            backend,
            name,
            lambda *args, _name=name, _original=original, **kwargs: calls.append(_name) or _original(*args, **kwargs),
        )

    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"{API}medicines/?page=1")

    assert response.status_code == 200
    assert calls == ["incr_and_get_many"]
    assert len(queries) == 0


def _record_cache_calls(monkeypatch) -> list[str]:
    backend = caches["default"]
    calls = []
    for name in ("get", "get_many", "set", "add", "incr", "incr_and_get_many"):
        if not hasattr(backend, name):
            continue
        original = getattr(backend, name)
        monkeypatch.setattr(
            backend,
            name,
            lambda *args, _name=name, _original=original, **kwargs: calls.append(_name) or _original(*args, **kwargs),
        )
    return calls


@requires_redis
def test_a_miss_is_counted_in_the_round_trip_that_missed_and_stored_after(api, varied, monkeypatch):
    api.get(f"{API}categories/")  # the tree, the version and the places read once
    calls = _record_cache_calls(monkeypatch)

    response = api.get(f"{API}medicines/item-02/")

    assert response.status_code == 200
    # DRF's throttle took the count the response cache read: no second increment.
    assert calls == ["incr_and_get_many", "set"]


def test_options_is_counted_by_the_throttle_itself(api, varied, settings):
    settings.CATALOG_API_THROTTLE_RATE = "2/min"
    with time_machine.travel(datetime.datetime(2031, 1, 1, 10, 0, 20, tzinfo=datetime.UTC), tick=False):
        statuses = [api.options(f"{API}medicines/").status_code for _ in range(2)]
        statuses += [api.get(f"{API}medicines/").status_code, api.options(f"{API}medicines/").status_code]

    assert statuses == [200, 200, 429, 429]


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*"])
def test_a_miss_and_a_hit_answer_json_whatever_the_accept_header(api, varied, accept):
    miss = api.get(f"{API}medicines/item-03/", HTTP_ACCEPT=accept)
    hit = api.get(f"{API}medicines/item-03/", HTTP_ACCEPT=accept)

    assert miss.status_code == hit.status_code == 200
    assert miss["Content-Type"] == hit["Content-Type"] == "application/json"
    assert miss.content == hit.content


@requires_redis
def test_the_redis_pipeline_counts_expires_and_reads():
    backend = caches["default"]
    backend.set("hot-path-test-value", {"answer": 42}, timeout=30)
    backend.delete("hot-path-test-counter")

    first = backend.incr_and_get_many("hot-path-test-counter", 61, ["hot-path-test-value", "hot-path-test-missing"])
    second, _ = backend.incr_and_get_many("hot-path-test-counter", 61, [])
    client = backend._cache.get_client()

    assert first == (1, [{"answer": 42}, None])
    assert second == 2
    assert 0 < client.ttl(backend.make_and_validate_key("hot-path-test-counter")) <= 61


def test_the_pipeline_fails_soft_when_redis_is_away(caplog):
    from backoffice.cache import FailSoftRedisCache

    dead = FailSoftRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})

    with caplog.at_level(logging.WARNING, logger="backoffice.cache"):
        assert dead.incr_and_get_many("counter", 61, ["a", "b"]) == (1, [None, None])
    assert "Cache unavailable (incr_and_get_many)" in caplog.text
