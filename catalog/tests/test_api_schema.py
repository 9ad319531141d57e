"""The OpenAPI schema: generated without warnings, valid, served with its UIs, and fuzzed
against a live server of the project with schemathesis."""

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.throttling import SimpleRateThrottle

CATALOG_OPERATIONS = {
    "/api/v1/catalog/categories/",
    "/api/v1/catalog/medicines/",
    "/api/v1/catalog/medicines/{slug}/",
    "/api/v1/catalog/medicines/{slug}/alternatives/",
    "/api/v1/catalog/medicines/{slug}/availability/",
    "/api/v1/catalog/substances/",
    "/api/v1/catalog/locations/",
}


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"

    # --fail-on-warn turns any drf-spectacular warning into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert CATALOG_OPERATIONS <= set(schema["paths"])
    for path in CATALOG_OPERATIONS:
        assert set(schema["paths"][path]) == {"get"}, path


@pytest.mark.django_db
def test_the_schema_and_its_uis_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/catalog/medicines/" in schema.content
    for ui in ("/api/schema/swagger/", "/api/schema/redoc/"):
        response = client.get(ui)
        assert response.status_code == 200, ui
        assert b"/api/schema/" in response.content
        # Served from our own static files (drf-spectacular-sidecar): the CSP allows no CDN.
        assert b'src="http' not in response.content, ui
        assert b"<script>" not in response.content.replace(b" ", b""), ui


def _seed() -> list[int]:
    """A small catalogue in stock at two public places and a hidden one; returns the public places' ids."""
    from catalog.models import LocationKind

    from .factories import (
        ActiveSubstanceFactory,
        CategoryFactory,
        LocationFactory,
        ManufacturerFactory,
        main_location,
        medicine_with,
        receive,
    )

    places = [main_location(), LocationFactory(name="Chilonzor", latitude=Decimal("41.275100"))]
    hidden = LocationFactory(name="Depot", kind=LocationKind.WAREHOUSE, is_public=False)

    root = CategoryFactory(slug="pain", name="Pain")
    child = CategoryFactory(slug="headache", name="Головная боль", parent=root)
    CategoryFactory(slug="hidden", is_active=False)
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол", atc_codes=["N02BE01"])
    ibuprofen = ActiveSubstanceFactory(inn_name="Ibuprofen", name_ru="Ибупрофен")
    maker = ManufacturerFactory(name="Nika Pharm")
    for n in range(12):
        medicine = medicine_with(
            [(paracetamol, 500)] + ([(ibuprofen, 200)] if n % 3 == 0 else []),
            name=f"Парацетамол {n}" if n % 2 else f"Panadol {n}",
            slug=f"med-{n}",
            category=(root, child)[n % 2],
            manufacturer=maker,
            price=Decimal(1000 + n * 250),
            is_prescription=n % 4 == 0,
        )
        if n % 3:
            receive(medicine, 5 + n)
        if n % 4 == 1:
            receive(medicine, 1 + n, location=places[1])
            receive(medicine, 50, location=hidden)
    return [place.pk for place in places]


FUZZED_PATHS = "^/api/v1/(catalog|auth)/"
# The operations whose answers to schema-valid data include a documented 400 (schemathesis.toml).
SEMANTIC_400 = re.compile(r"POST /api/v1/auth/(login|register|resend|verify|password/forgot|password/reset|me/phone)/")


def _unexpected_warnings(output: str) -> list[str]:
    """Schemathesis' warnings, less the one these operations give by design.

    A random six-digit code is never the one sent and a random number is rarely an Uzbek one, so
    most generated bodies of the SEMANTIC_400 operations are refused, which schemathesis reports
    as a "validation mismatch". Any other warning, or that one on another operation, is returned.
    """
    section = re.search(r"=+ WARNINGS =+\n(.*?)\n=+ SUMMARY", output, re.S)
    if section is None:
        return []
    unexpected, heading = [], ""
    for line in section[1].splitlines():
        text = line.strip()
        if not text or text.startswith("💡"):
            continue
        if text.startswith("- "):
            if not (heading.startswith("Schema validation mismatch") and SEMANTIC_400.fullmatch(text[2:])):
                unexpected.append(f"{heading}: {text[2:]}")
            continue
        heading = text
        if not heading.startswith("Schema validation mismatch"):
            unexpected.append(heading)
    return unexpected


def _operations(client, path_regex: str) -> list[tuple[str, str]]:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return [
        (path, method)
        for path, item in schema["paths"].items()
        if re.match(path_regex, path)
        for method in item
        if method in methods
    ]


def _customer_token() -> str:
    """An access token of a signed-up customer, so the fuzzer reaches the authenticated auth endpoints too."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tests.factories import CustomerFactory

    return str(RefreshToken.for_user(CustomerFactory()).access_token)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, client, settings, monkeypatch, tmp_path
):
    """Every catalogue and auth operation, fuzzed from the published schema with every check (bounded in time)."""
    settings.CATALOG_API_THROTTLE_RATE = "1000000/min"
    # DRF reads the auth API's rates once, at import: lift them where it keeps them, or
    # most requests would only meet a 429 and leave the logic behind it untested.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {scope: "1000000/min" for scope in SimpleRateThrottle.THROTTLE_RATES},
    )
    public_locations = _seed()
    token = _customer_token()
    # The fuzzer draws the list's `location` from the public places most of the time, so that
    # the filter's answers are tested too, not only its refusal of every other id.
    config = tmp_path / "schemathesis.toml"
    ids = ", ".join(str(pk) for pk in public_locations)
    config.write_text(
        Path(__file__).with_name("schemathesis.toml").read_text()
        + f"\n[dictionaries.public_locations]\nvalues = [{ids}]\n"
        + '[[operations]]\ninclude-name = "GET /api/v1/catalog/medicines/"\n'
        + 'parameters = { "query.location" = { dictionary = "public_locations", probability = 0.8 } }\n'
    )
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--url",
        live_server.url,
        "--include-path-regex",
        FUZZED_PATHS,
        # Every check the installed schemathesis has: server errors, status codes, content types,
        # headers and bodies against the schema, invalid input refused, valid input accepted,
        # unsupported methods, the Allow header, authentication not ignored...
        "--checks",
        "all",
        "--mode",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        # Stateful: chains of calls along the schema's links (what use_after_free and
        # ensure_resource_availability check).
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "40"),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--max-time",
        os.environ.get("SCHEMATHESIS_MAX_TIME", "90"),
        "--seed",
        "8106",
        "--suppress-health-check",
        "all",
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("schemathesis_hooks.py")),
        "CATALOG_PUBLIC_LOCATIONS": ",".join(str(pk) for pk in public_locations),
    }
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=environment)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "FAILURES" not in output and re.search(r"(\d+) generated, \1 passed", output), output[-12000:]
    assert _unexpected_warnings(output) == [], output[-6000:]
    # Every catalogue and auth operation of the schema was exercised.
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested[1]) == len(_operations(client, FUZZED_PATHS)), output[-3000:]


def _hook_case(query: dict, positive: bool = True, label: str = "GET /api/v1/catalog/medicines/"):
    from types import SimpleNamespace

    mode = SimpleNamespace(is_positive=positive)
    return SimpleNamespace(
        operation=SimpleNamespace(label=label), query=query, meta=SimpleNamespace(generation=SimpleNamespace(mode=mode))
    )


def _hook_response(status: int, fields: dict | None = None):
    from types import SimpleNamespace

    body = {"code": "validation_error", "message": "x", "fields": fields or {}}
    return SimpleNamespace(status_code=status, json=lambda: body)


def test_the_schemathesis_check_lets_only_an_unknown_location_refuse_valid_data(monkeypatch):
    from .schemathesis_hooks import unknown_location_is_the_only_valid_data_refused as check

    monkeypatch.setenv("CATALOG_PUBLIC_LOCATIONS", "3,4")

    assert check(None, _hook_response(400, {"location": ["No pharmacy"]}), _hook_case({"location": 99})) is None
    assert check(None, _hook_response(200), _hook_case({"location": 3})) is None
    # Negative data, and other operations, are other checks' business.
    assert check(None, _hook_response(400, {"q": ["x"]}), _hook_case({"q": "a"}, positive=False)) is None
    assert (
        check(None, _hook_response(400, {"q": ["x"]}), _hook_case({}, label="GET /api/v1/catalog/substances/")) is None
    )
    for query, fields in (
        ({"location": 3}, {"location": ["x"]}),  # a public place refused
        ({"location": 99, "page_size": 5}, {"location": ["x"], "page_size": ["y"]}),  # and something else
        ({"price_min": 5}, {"price_min": ["x"]}),
    ):
        with pytest.raises(AssertionError, match="Valid data should have been accepted"):
            check(None, _hook_response(400, fields), _hook_case(query))
