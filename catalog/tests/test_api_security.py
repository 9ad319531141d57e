"""The public catalogue API is read-only, anonymous, and never shows internals."""

import json

import pytest

from .api_support import API, FORBIDDEN_KEYS, PLACE_KEYS, SUPPLIER, forbidden_keys_in

pytestmark = pytest.mark.django_db

PATHS = [
    "categories/",
    "medicines/",
    "medicines/?q=paracetamol&page_size=100",
    "medicines/?in_stock=true&ordering=-popularity",
    "medicines/panadol/",
    "medicines/tsitramon/",
    "medicines/nurofen/",
    "medicines/panadol/alternatives/",
    "medicines/tsitramon/alternatives/",
    "substances/",
    "substances/?q=para",
    "medicines/ghost/",
    "medicines/?price_min=-1",
    "locations/",
    "medicines/panadol/availability/",
    "medicines/tsitramon/availability/",
    "medicines/ghost/availability/",
]


def test_the_leak_check_itself_finds_a_nested_forbidden_key():
    found = forbidden_keys_in({"results": [{"manufacturer": {"supplier": "x"}}]})

    assert found == ["$.results[0].manufacturer.supplier"]


@pytest.mark.parametrize("path", PATHS)
def test_no_response_contains_lots_suppliers_purchase_prices_stock_counts_or_users(api, places, path):
    response = api.get(f"{API}{path}")
    body = response.content.decode()

    # A pharmacy's own phone is public; nobody else's ever is.
    about_places = path.startswith("locations/") or "/availability/" in path
    assert forbidden_keys_in(json.loads(body), allowed=PLACE_KEYS if about_places else frozenset()) == []
    assert SUPPLIER not in body
    for lot_number in ("PAN-0001", "TSI-0001", "GHO-0001", "LUR-0001"):
        assert lot_number not in body
    # Panadol: 37 packs at Main, 25 at Yunusobod, 100 at the depot, more in the chain: no count is ever published.
    panadol = places["main"].medicine_stocks.get(medicine__slug="panadol").medicine
    for count in ("37", "25", "100", str(panadol.sellable_quantity)):
        assert f'"{count}"' not in body and f":{count}," not in body and f":{count}}}" not in body


def test_a_request_with_staff_credentials_still_sees_only_public_data(api, shop, make_staff):
    from accounts.roles import Role

    staff = make_staff(Role.INVENTORY)
    api.force_login(staff)

    body = api.get(f"{API}medicines/panadol/").json()

    assert forbidden_keys_in(body) == []
    assert staff.phone not in json.dumps(body)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "categories/",
        "medicines/",
        "medicines/panadol/",
        "medicines/panadol/alternatives/",
        "medicines/panadol/availability/",
        "substances/",
        "locations/",
    ],
)
def test_writes_are_refused_with_405(api, shop, method, path):
    response = getattr(api, method)(f"{API}{path}", data={"price": "1"}, content_type="application/json")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    shop["panadol"].refresh_from_db()
    assert str(shop["panadol"].price) == "12000.00"


@pytest.mark.parametrize("path", ["medicines/", "medicines/panadol/", "locations/", "medicines/panadol/availability/"])
def test_head_and_options_are_allowed(api, shop, path):
    assert api.head(f"{API}{path}").status_code == 200
    assert api.options(f"{API}{path}").status_code == 200


def test_forbidden_keys_cover_every_private_medicine_and_lot_field():
    # If a private field is added to the models, it must be added here (and kept out of the API).
    from catalog.models import Lot, Medicine

    private_medicine = {"sellable_quantity", "nearest_expiry", "search_text", "number_sold", "reorder_level"}
    assert private_medicine <= {f.name for f in Medicine._meta.get_fields()}
    assert private_medicine <= FORBIDDEN_KEYS
    assert {"purchase_price", "supplier", "lot_number", "quantity"} <= {f.name for f in Lot._meta.get_fields()}
