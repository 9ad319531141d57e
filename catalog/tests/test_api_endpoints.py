"""The public catalogue API: what each endpoint returns, filters, ordering, search, visibility."""

import pytest
import yaml

from conftest import requires_postgres

from .api_support import API, slugs

pytestmark = pytest.mark.django_db


def test_categories_are_the_active_tree_in_display_order(api, shop):
    response = api.get(f"{API}categories/")

    assert response.status_code == 200
    tree = response.json()
    assert [node["slug"] for node in tree] == ["pain", "cold"]
    pain = tree[0]
    assert pain["name"] == "Pain relief"
    assert [child["slug"] for child in pain["children"]] == ["headache"]
    assert pain["children"][0]["children"] == []
    assert pain["icon_url"] is None


def test_a_category_icon_is_served_as_an_absolute_url(api, shop):
    pain = shop["categories"]["pain"]
    pain.icon.name = "categories/pain.svg"
    pain.save()

    tree = api.get(f"{API}categories/").json()

    assert tree[0]["icon_url"] == "http://testserver/media/categories/pain.svg"


def test_medicine_list_shows_only_active_medicines_of_visible_categories(api, shop):
    response = api.get(f"{API}medicines/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert slugs(response) == ["nurofen", "panadol", "tsitramon"]
    assert body["next"] is None and body["previous"] is None


def test_a_list_item_carries_what_a_storefront_shows(api, shop):
    item = next(i for i in api.get(f"{API}medicines/").json()["results"] if i["slug"] == "nurofen")

    assert item["name"] == "Nurofen"
    assert item["manufacturer"] == {"id": shop["nurofen"].manufacturer_id, "name": "Reckitt Benckiser"}
    assert item["category"] == {"id": shop["categories"]["cold"].pk, "slug": "cold", "name": "Cold and flu"}
    assert item["dosage_form"] == "suspension"
    assert item["dosage_form_name"] == "Suspension"
    assert item["price"] == "25000.00"
    assert item["in_stock"] is False
    assert item["is_prescription"] is True
    assert item["is_controlled"] is False
    assert item["image_url"] is None
    assert item["substances"] == [
        {
            "substance_id": shop["substances"]["ibuprofen"].pk,
            "inn_name": "Ibuprofen",
            "strength": "100.0000",
            "unit": "mg",
            "per_volume_ml": "5.00",
            "display": "100 mg/5 ml",
        }
    ]


def test_medicine_list_pages_with_links(api, shop):
    first = api.get(f"{API}medicines/?page_size=2")
    second = api.get(first.json()["next"])

    assert slugs(first) == ["nurofen", "panadol"]
    assert first.json()["count"] == 3
    assert first.json()["next"] == "http://testserver/api/v1/catalog/medicines/?page=2&page_size=2"
    assert slugs(second) == ["tsitramon"]
    assert second.json()["previous"] is not None


def test_a_page_past_the_end_is_not_found(api, shop):
    response = api.get(f"{API}medicines/?page=9")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("endpoint", ["medicines/", "substances/"])
@pytest.mark.parametrize("page_size", ["101", "0", "-1", "abc", "2.5"])
def test_a_page_size_outside_the_documented_range_is_a_400_that_names_it(api, shop, endpoint, page_size):
    response = api.get(f"{API}{endpoint}?page_size={page_size}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == ["page_size"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("page_size", ["1", "100"])
def test_the_documented_page_size_bounds_are_accepted(api, shop, page_size):
    response = api.get(f"{API}medicines/?page_size={page_size}")

    assert response.status_code == 200
    assert len(response.json()["results"]) == min(int(page_size), 3)


def test_the_schema_states_the_page_size_bounds_the_api_enforces(api, shop):
    schema = yaml.safe_load(api.get("/api/schema/").content)

    for path in ("/api/v1/catalog/medicines/", "/api/v1/catalog/substances/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}


@pytest.mark.parametrize("query", ["page=", "page=0", "page=1&page=2", "q=a&q=b", "page_size=5&page_size=5"])
def test_an_invalid_substance_list_parameter_is_a_400_that_names_it(api, shop, query):
    response = api.get(f"{API}substances/?{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [query.split("=")[0]]


@pytest.mark.parametrize("query", ["q=", "category=", "ordering=", "q=&category=&ordering="])
def test_an_empty_text_or_ordering_is_no_filter(api, shop, query):
    assert slugs(api.get(f"{API}medicines/?{query}")) == ["nurofen", "panadol", "tsitramon"]


def test_a_category_that_cannot_be_a_slug_finds_nothing(api, shop):
    response = api.get(f"{API}medicines/?category=pa%00in")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_category_filter_includes_subcategories(api, shop):
    assert slugs(api.get(f"{API}medicines/?category=pain")) == ["panadol", "tsitramon"]
    assert slugs(api.get(f"{API}medicines/?category=headache")) == ["tsitramon"]


def test_category_filter_finds_nothing_in_an_invisible_or_unknown_category(api, shop):
    assert slugs(api.get(f"{API}medicines/?category=hidden-child")) == []
    assert slugs(api.get(f"{API}medicines/?category=no-such-thing")) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("dosage_form=suspension", ["nurofen"]),
        ("is_prescription=true", ["nurofen"]),
        ("is_prescription=false", ["panadol", "tsitramon"]),
        ("in_stock=true", ["panadol", "tsitramon"]),
        ("in_stock=false", ["nurofen"]),
        ("price_min=9000", ["nurofen", "panadol"]),
        ("price_max=12000", ["panadol", "tsitramon"]),
        ("price_min=9000&price_max=12000.00", ["panadol"]),
    ],
)
def test_medicine_list_filters(api, shop, query, expected):
    assert slugs(api.get(f"{API}medicines/?{query}")) == expected


def test_substance_and_manufacturer_filters_take_ids(api, shop):
    paracetamol = shop["substances"]["paracetamol"].pk
    dori = shop["manufacturers"]["dori"].pk

    assert slugs(api.get(f"{API}medicines/?substance={paracetamol}")) == ["panadol", "tsitramon"]
    assert slugs(api.get(f"{API}medicines/?manufacturer={dori}")) == ["tsitramon"]


@pytest.mark.parametrize(
    "query",
    [
        "price_min=-1",
        "price_min=abc",
        "price_max=1e40",
        "manufacturer=0",
        "manufacturer=99999999999999999999999",
        "substance=x",
        "dosage_form=elixir",
        "ordering=supplier",
        "q=" + "a" * 101,
        "in_stock=maybe",
        "in_stock=1",
        "is_prescription=yes",
        "is_prescription=n%C2%A8",
        # A typed parameter given without a value is not a value of its type.
        "price_min=",
        "in_stock=",
        "dosage_form=",
        "manufacturer=",
        "page=",
        "page=0",
        "page=abc",
        "page=last",
        # One value each: a repeated parameter is an array, which the schema does not offer.
        "page=1&page=2",
        "category=pain&category=cold",
        "q=a&q=b",
        "ordering=price&ordering=name",
    ],
)
def test_an_invalid_filter_is_a_400_that_names_the_parameter(api, shop, query):
    response = api.get(f"{API}medicines/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert query.split("=")[0] in body["fields"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["tsitramon", "panadol", "nurofen"]),
        ("-price", ["nurofen", "panadol", "tsitramon"]),
        ("name", ["nurofen", "panadol", "tsitramon"]),
        ("-name", ["tsitramon", "panadol", "nurofen"]),
    ],
)
def test_medicine_list_ordering(api, shop, ordering, expected):
    assert slugs(api.get(f"{API}medicines/?ordering={ordering}")) == expected


def test_popularity_orders_by_number_sold(api, shop):
    from catalog.stock import stock_dispense

    stock_dispense(medicine=shop["tsitramon"], quantity=3)
    stock_dispense(medicine=shop["panadol"], quantity=1)

    assert slugs(api.get(f"{API}medicines/?ordering=-popularity")) == ["tsitramon", "panadol", "nurofen"]


@pytest.mark.parametrize("query", ["paracetamol", "Paracetamol", "парацетамол", "ПАРАЦЕТАМОЛ", "paratsetamol"])
def test_search_finds_medicines_by_substance_in_latin_and_cyrillic(api, shop, query):
    assert set(slugs(api.get(f"{API}medicines/", {"q": query}))) == {"panadol", "tsitramon"}


def test_search_by_trade_name_typed_in_cyrillic(api, shop):
    assert slugs(api.get(f"{API}medicines/", {"q": "нурофен"})) == ["nurofen"]


def test_search_never_finds_invisible_medicines(api, shop):
    found = slugs(api.get(f"{API}medicines/", {"q": "paracetamol", "page_size": 100}))

    assert "ghost" not in found and "lurker" not in found


def test_search_combines_with_filters_and_ordering(api, shop):
    response = api.get(f"{API}medicines/", {"q": "paracetamol", "ordering": "-price", "category": "pain"})

    assert slugs(response) == ["panadol", "tsitramon"]


@requires_postgres
def test_search_tolerates_a_typo(api, shop):
    assert "nurofen" in slugs(api.get(f"{API}medicines/", {"q": "nurofenn"}))


def test_search_with_a_nul_byte_is_answered_not_crashed(api, shop):
    response = api.get(f"{API}medicines/", {"q": "para\x00cetamol"})

    assert response.status_code == 200


def test_medicine_detail(api, shop):
    response = api.get(f"{API}medicines/panadol/")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Panadol"
    assert body["description"] == "Tablets for pain and fever."
    assert body["usage"] == "One tablet up to four times a day."
    assert body["manufacturer"] == {
        "id": shop["manufacturers"]["gsk"].pk,
        "name": "GlaxoSmithKline",
        "country": "United Kingdom",
    }
    assert body["category"]["slug"] == "pain"
    assert body["substances"] == [
        {
            "substance_id": shop["substances"]["paracetamol"].pk,
            "inn_name": "Paracetamol",
            "name_uz": "Paratsetamol",
            "name_ru": "Парацетамол",
            "strength": "500.0000",
            "unit": "mg",
            "per_volume_ml": None,
            "display": "500 mg",
        }
    ]
    assert body["dosage_form"] == "tablet"
    assert body["pack_size"] == 20
    assert body["price"] == "12000.00"
    assert body["in_stock"] is True
    assert body["is_prescription"] is False
    assert body["is_controlled"] is False


def test_medicine_image_is_an_absolute_url(api, shop):
    panadol = shop["panadol"]
    panadol.image.name = "medicines/panadol.webp"
    panadol.save()

    body = api.get(f"{API}medicines/panadol/").json()

    assert body["image_url"].startswith("http://testserver/media/")


@pytest.mark.parametrize("slug", ["ghost", "lurker", "no-such-medicine"])
def test_inactive_hidden_and_unknown_medicines_are_not_found(api, shop, slug):
    for path in (f"{API}medicines/{slug}/", f"{API}medicines/{slug}/alternatives/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"


def test_a_medicine_disappears_when_its_category_is_deactivated(api, shop):
    assert api.get(f"{API}medicines/tsitramon/").status_code == 200
    pain = shop["categories"]["pain"]
    pain.is_active = False
    pain.save()

    assert api.get(f"{API}medicines/tsitramon/").status_code == 404
    assert slugs(api.get(f"{API}medicines/")) == ["nurofen"]


def test_alternatives_follow_the_selector_order_with_their_kind(api, shop):
    paracetamol = shop["substances"]["paracetamol"]
    from catalog.models import DosageForm

    from .factories import medicine_with, receive

    syrup = medicine_with(
        [(paracetamol, 120, "mg", 5)],
        name="Kalpol",
        slug="kalpol",
        category=shop["categories"]["cold"],
        dosage_form=DosageForm.SYRUP,
        price="9000",
    )
    receive(syrup, 3)

    response = api.get(f"{API}medicines/panadol/alternatives/")

    assert response.status_code == 200
    body = response.json()
    assert [(item["slug"], item["alternative_kind"]) for item in body] == [
        ("tsitramon", "exact"),
        ("kalpol", "same_substances"),
    ]
    assert body[0]["substances"][0]["display"] == "500 mg"
    assert body[1]["category"] == {"id": shop["categories"]["cold"].pk, "slug": "cold", "name": "Cold and flu"}


def test_alternatives_leave_out_invisible_medicines(api, shop):
    # Lurker (paracetamol 500 mg tablet, in stock) sits under an inactive category.
    body = api.get(f"{API}medicines/tsitramon/alternatives/").json()

    assert [item["slug"] for item in body] == ["panadol"]


def test_substances_list_and_search(api, shop):
    listed = api.get(f"{API}substances/").json()
    assert [item["inn_name"] for item in listed["results"]] == ["Ibuprofen", "Paracetamol"]
    assert listed["results"][1]["atc_codes"] == ["N02BE01"]

    for query in ("parac", "Парацет", "парацет", "n02be"):
        found = api.get(f"{API}substances/", {"q": query}).json()["results"]
        assert [item["inn_name"] for item in found] == ["Paracetamol"], query


def test_cors_allows_a_configured_storefront_origin(api, shop, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example.uz"]

    allowed = api.get(f"{API}medicines/", HTTP_ORIGIN="https://shop.example.uz")
    other = api.get(f"{API}medicines/", HTTP_ORIGIN="https://evil.example.com")

    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.uz"
    assert not other.has_header("Access-Control-Allow-Origin")


@pytest.mark.parametrize(
    "path",
    ["medicines/%C2%84/", "medicines/a%2Fb/", "medicines/%00/alternatives/", "nothing-here/", "medicines/x/y/z/"],
)
def test_malformed_paths_under_the_api_are_json_404s(api, shop, path):
    response = api.get(f"{API}{path}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_medicine_image_is_listed_as_its_webp_thumbnail_once_generated(api, shop, settings, tmp_path):
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image

    from catalog.models import Medicine
    from catalog.thumbnails import thumbnail_generate

    settings.MEDIA_ROOT = tmp_path
    buffer = BytesIO()
    Image.new("RGB", (900, 600), "white").save(buffer, "PNG")
    panadol = Medicine.objects.get(slug="panadol")
    panadol.image.save("panadol.png", ContentFile(buffer.getvalue()), save=True)

    before = api.get(f"{API}medicines/panadol/").json()
    assert before["thumbnail_url"] == before["image_url"]

    thumbnail_generate(image_name=panadol.image.name)

    after = api.get(f"{API}medicines/panadol/").json()
    assert after["thumbnail_url"].endswith(".webp")
    assert after["thumbnail_url"] != after["image_url"]
    listed = {row["slug"]: row for row in api.get(f"{API}medicines/").json()["results"]}
    assert listed["panadol"]["thumbnail_url"] == after["thumbnail_url"]
