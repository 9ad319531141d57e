"""What the public catalogue API returns.

The serializers document the response shapes for the OpenAPI schema; the
views build the same shapes from ``.values()`` rows with the ``*_row``
functions below, which is several times faster than instantiating models and
DRF fields for every row of a page. ``catalog/tests/test_api_schema.py`` and
the schemathesis run check that the two agree.

Only what a customer may see appears here: never purchase prices, lots,
suppliers, exact stock counts, sales figures or anything about users.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import DosageForm, LocationKind, Region, StrengthUnit

from .locations import AVAILABILITY_LEVELS

# --- Schema-only serializers ---------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"$ref": "#/components/schemas/CategoryNode"},
        "description": "Active subcategories, in display order.",
    }
)
class _CategoryChildrenField(serializers.ListField):
    pass


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    icon_url = serializers.URLField(allow_null=True)
    children = _CategoryChildrenField()

    class Meta:
        ref_name = "CategoryNode"


class ManufacturerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ManufacturerDetailSerializer(ManufacturerRefSerializer):
    country = serializers.CharField(allow_blank=True)


class CategoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()


class StrengthSerializer(serializers.Serializer):
    substance_id = serializers.IntegerField()
    inn_name = serializers.CharField()
    strength = serializers.DecimalField(max_digits=12, decimal_places=4)
    unit = serializers.ChoiceField(choices=StrengthUnit.choices)
    per_volume_ml = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    display = serializers.CharField(help_text='Human-readable strength, e.g. "250 mg/5 ml".')


class StrengthDetailSerializer(StrengthSerializer):
    name_uz = serializers.CharField(allow_blank=True)
    name_ru = serializers.CharField(allow_blank=True)


class MedicineListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    name = serializers.CharField()
    manufacturer = ManufacturerRefSerializer()
    category = CategoryRefSerializer()
    dosage_form = serializers.ChoiceField(choices=DosageForm.choices)
    dosage_form_name = serializers.CharField()
    pack_size = serializers.IntegerField(min_value=1)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Price in UZS.")
    in_stock = serializers.BooleanField(help_text="Whether the medicine can be bought now.")
    is_prescription = serializers.BooleanField()
    is_controlled = serializers.BooleanField(help_text="Narcotic or psychotropic: never sold online.")
    image_url = serializers.URLField(allow_null=True)
    thumbnail_url = serializers.URLField(
        allow_null=True, help_text="A 320 px WEBP of the image once generated, else the image itself."
    )
    substances = StrengthSerializer(many=True)


class MedicineDetailSerializer(MedicineListItemSerializer):
    description = serializers.CharField(allow_blank=True)
    usage = serializers.CharField(allow_blank=True)
    manufacturer = ManufacturerDetailSerializer()
    substances = StrengthDetailSerializer(many=True)


class AlternativeSerializer(MedicineListItemSerializer):
    alternative_kind = serializers.ChoiceField(
        choices=[("exact", "exact"), ("same_substances", "same_substances")],
        help_text="exact: same substances, strengths and form; same_substances: same substances otherwise.",
    )


class SubstanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    inn_name = serializers.CharField()
    name_uz = serializers.CharField(allow_blank=True)
    name_ru = serializers.CharField(allow_blank=True)
    atc_codes = serializers.ListField(child=serializers.CharField())


class LocationSerializer(serializers.Serializer):
    """A pharmacy or warehouse that sells to the public: where to find it and when it is open."""

    id = serializers.IntegerField(help_text="What the medicine list's `location` filter takes.")
    name = serializers.CharField()
    # Public places are branches or warehouses; the transit place is never shown.
    kind = serializers.ChoiceField(
        choices=[(LocationKind.BRANCH.value, "branch"), (LocationKind.WAREHOUSE.value, "warehouse")]
    )
    address = serializers.CharField(allow_blank=True)
    region = serializers.ChoiceField(choices=Region.choices)
    region_name = serializers.CharField(help_text="The region's name in the request's language.")
    district = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    opening_hours = serializers.CharField(
        allow_blank=True, help_text='As the pharmacy writes it, e.g. "Mon–Sat 08:00–22:00".'
    )
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)

    class Meta:
        ref_name = "Location"


class LocationAvailabilitySerializer(LocationSerializer):
    level = serializers.ChoiceField(
        choices=[(level, level) for level, _packs in AVAILABILITY_LEVELS],
        help_text=(
            "How much the place has, in packs: "
            + ", ".join(
                f"{level} (up to {packs})" if packs is not None else f"{level} (more)"
                for level, packs in AVAILABILITY_LEVELS
            )
            + ". Never an exact count."
        ),
    )

    class Meta:
        ref_name = "LocationAvailability"


# --- Row builders (the fast path) ---------------------------------------------

MEDICINE_LIST_FIELDS = (
    "id",
    "slug",
    "name",
    "manufacturer_id",
    "manufacturer__name",
    "category_id",
    "category__slug",
    "category__name",
    "dosage_form",
    "pack_size",
    "price",
    "sellable_quantity",
    "is_prescription",
    "is_controlled",
    "image",
)
MEDICINE_DETAIL_FIELDS = MEDICINE_LIST_FIELDS + ("description", "usage", "manufacturer__country")
STRENGTH_FIELDS = (
    "medicine_id",
    "substance_id",
    "substance__inn_name",
    "strength",
    "unit",
    "per_volume_ml",
)
STRENGTH_DETAIL_FIELDS = STRENGTH_FIELDS + ("substance__name_uz", "substance__name_ru")

# {(choices, language): {value: its name in that language}}: one gettext per name and language per process.
_CHOICE_NAMES: dict[tuple[str, str], dict[str, str]] = {}


def _choice_names(kind: str, choices: list[tuple[str, Any]]) -> dict[str, str]:
    key = (kind, get_language() or "")
    names = _CHOICE_NAMES.get(key)
    if names is None:
        names = _CHOICE_NAMES[key] = {value: str(label) for value, label in choices}
    return names


def dosage_form_names() -> dict[str, str]:
    return _choice_names("dosage_form", DosageForm.choices)


def region_names() -> dict[str, str]:
    return _choice_names("region", Region.choices)


def file_url(name: str | None, build_absolute_uri) -> str | None:
    if not name:
        return None
    url = default_storage.url(name)
    return build_absolute_uri(url) if url.startswith("/") else url


def _as_decimal(value: Decimal | int | float) -> Decimal:
    # SQLite hands raw SQL numeric columns back as int or float: go through the
    # shortest repr, so that 0.1 stays 0.1 and not 0.1000000000000000055...
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _decimal(value: Decimal | int | float | None, places: int) -> str | None:
    if value is None:
        return None
    return f"{_as_decimal(value):.{places}f}"


def _normalized(value: Decimal | int | float) -> str:
    return f"{_as_decimal(value).normalize():f}"


@lru_cache(maxsize=4096)
def _strength_texts(strength: Decimal, unit: str, per_volume_ml: Decimal | None) -> tuple[str, str | None, str]:
    """(strength, per_volume_ml, display) as the API writes them; a few hundred distinct strengths recur."""
    display = f"{_normalized(strength)} {unit}"
    if per_volume_ml:
        display += f"/{_normalized(per_volume_ml)} ml"
    return _decimal(strength, 4), _decimal(per_volume_ml, 2), display


def strength_row(row: dict[str, Any], detail: bool = False) -> dict[str, Any]:
    strength, per_volume_ml, display = _strength_texts(row["strength"], row["unit"], row["per_volume_ml"])
    out = {
        "substance_id": row["substance_id"],
        "inn_name": row["substance__inn_name"],
        "strength": strength,
        "unit": row["unit"],
        "per_volume_ml": per_volume_ml,
        "display": display,
    }
    if detail:
        out["name_uz"] = row["substance__name_uz"]
        out["name_ru"] = row["substance__name_ru"]
    return out


def medicine_row(
    row: dict[str, Any],
    strengths: list[dict[str, Any]],
    build_absolute_uri,
    detail: bool = False,
    thumbnails: dict[str, str] | None = None,
    form_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A medicine as the API shows it; ``form_names`` is ``dosage_form_names()``, passed in for a whole page."""
    form_names = form_names or dosage_form_names()
    out = {
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "manufacturer": {"id": row["manufacturer_id"], "name": row["manufacturer__name"]},
        "category": {"id": row["category_id"], "slug": row["category__slug"], "name": row["category__name"]},
        "dosage_form": row["dosage_form"],
        "dosage_form_name": form_names.get(row["dosage_form"], row["dosage_form"]),
        "pack_size": row["pack_size"],
        "price": _decimal(row["price"], 2),
        "in_stock": row["sellable_quantity"] > 0,
        "is_prescription": row["is_prescription"],
        "is_controlled": row["is_controlled"],
        "image_url": file_url(row["image"], build_absolute_uri),
        # The small WEBP for lists, once generated; the full image until then.
        "thumbnail_url": file_url((thumbnails or {}).get(row["image"]) or row["image"], build_absolute_uri),
        "substances": strengths,
    }
    if detail:
        out["description"] = row["description"]
        out["usage"] = row["usage"]
        out["manufacturer"]["country"] = row["manufacturer__country"]
    return out


def substance_row(row: dict[str, Any]) -> dict[str, Any]:
    codes = row["atc_codes"] if isinstance(row["atc_codes"], list) else []
    return {
        "id": row["id"],
        "inn_name": row["inn_name"],
        "name_uz": row["name_uz"],
        "name_ru": row["name_ru"],
        "atc_codes": [str(code) for code in codes],
    }


def location_row(row: dict[str, Any], region_names: dict[str, str]) -> dict[str, Any]:
    """A public place (a ``locations.LOCATION_FIELDS`` row) as the API shows it; ``region_names()`` passed in."""
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "address": row["address"],
        "region": row["region"],
        "region_name": region_names.get(row["region"], row["region"]),
        "district": row["district"],
        "phone": row["phone"],
        "opening_hours": row["opening_hours"],
        "latitude": _decimal(row["latitude"], 6),
        "longitude": _decimal(row["longitude"], 6),
    }
