"""A check of test_api_schema.py's schemathesis run, loaded through ``SCHEMATHESIS_HOOKS``.

The medicine list's ``location`` is an id in the schema, and the list refuses
(400) an id the locations list does not show: no schema can say which ids those
are today. So schemathesis.toml lets ``positive_data_acceptance`` take a 400 on
that one operation, and this check takes back everything else: a 400 to
schema-valid data passes only when it names ``location`` alone and the
location sent is not one of the public places the test seeded
(``CATALOG_PUBLIC_LOCATIONS``, comma-separated ids). Any other refusal of
valid data fails as it would without the exception.

Runs in the schemathesis process: no Django here.
"""

import os

import schemathesis

MEDICINE_LIST = "GET /api/v1/catalog/medicines/"


def _public_location_ids() -> set[str]:
    return {value.strip() for value in os.environ.get("CATALOG_PUBLIC_LOCATIONS", "").split(",") if value.strip()}


@schemathesis.check
def unknown_location_is_the_only_valid_data_refused(ctx, response, case):
    """On the medicine list, schema-valid data is refused only for naming a location that is not public."""
    if case.operation.label != MEDICINE_LIST or response.status_code != 400:
        return None
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    try:
        fields = set(response.json().get("fields", {}))
    except ValueError:
        fields = set()
    location = str((case.query or {}).get("location", ""))
    if fields == {"location"} and location and location not in _public_location_ids():
        return None
    raise AssertionError(
        f"Valid data should have been accepted: 400 naming {sorted(fields)} for query {case.query!r} "
        "(only an id that no public location has may be refused)"
    )
