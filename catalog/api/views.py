"""The public catalogue API (/api/v1/catalog/): read-only and anonymous.

Every view is an ordinary DRF view behind the response cache
(``response_cache.cached_catalog_view``, applied by ``CatalogView.as_view``):
a GET whose response is stored for the current catalogue version is answered
there, before DRF; any other request runs through DRF as usual, with the
per-IP ``CatalogRateThrottle``. A handler is given what the cache read as
``cache_context`` (``response_cache.CacheContext``): it builds plain dicts for
that catalogue version from short SQL statements (``queries``: a fixed number
of queries whatever the page size) and returns them in a ``Response``, which
``ORJSONRenderer`` encodes; the cache keeps the bytes and sets the validators
(``ETag``, ``Last-Modified``) and ``Cache-Control``.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from backoffice.api_errors import error_responses
from catalog.models import ActiveSubstance, Medicine
from catalog.selectors import alternative_ids
from catalog.thumbnails import thumbnail_names_ready

from . import queries
from . import serializers as s
from .filters import MedicineFilter, SubstanceFilter
from .locations import public_locations, stock_level
from .pagination import CatalogPagination
from .rendering import JSONOnlyNegotiation, ORJSONRenderer
from .response_cache import CacheContext, cached_catalog_view
from .throttling import CatalogRateThrottle
from .tree import visible_tree

TAGS = ["catalog"]
SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$", description="Medicine slug."
)


INVALID_PARAMETER = (400, "validation_error: a query parameter is not valid (see fields).")
NOT_FOUND = (404, "not_found: no such active medicine, or no such page.")
THROTTLED = (429, "rate_limited: too many requests from this address; see Retry-After.")


class CatalogView(GenericAPIView):
    """Base of the catalogue endpoints: anonymous, read-only, throttled, JSON, behind the response cache.

    A handler takes ``cache_context`` (what the response cache read for this
    request: the catalogue version to build for) besides its URL's arguments.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CatalogRateThrottle]
    renderer_classes = [ORJSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation
    http_method_names = ["get", "head", "options"]
    pagination_class = None

    @classmethod
    def as_view(cls, **initkwargs):
        return cached_catalog_view(super().as_view(**initkwargs))

    def perform_authentication(self, request) -> None:
        """Nobody is authenticated here: DRF's documented lazy authentication (``request.user`` unused)."""

    # --- Building blocks -----------------------------------------------------------

    def medicine_items(self, request, rows: list[dict], *, detail: bool = False) -> list[dict]:
        """Medicine rows (``queries``) as the API shows them: strengths and thumbnails in one read each."""
        strengths = queries.strengths_by_medicine((row["id"] for row in rows), detail=detail)
        thumbnails = thumbnail_names_ready(row["image"] for row in rows)
        form_names = s.dosage_form_names()
        return [
            s.medicine_row(
                row,
                strengths.get(row["id"], []),
                request.build_absolute_uri,
                detail=detail,
                thumbnails=thumbnails,
                form_names=form_names,
            )
            for row in rows
        ]


class CategoryTreeView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="The category tree",
        description="Active categories as a tree (roots first, in display order), with icon URLs.",
        responses={200: s.CategoryNodeSerializer(many=True), **error_responses(THROTTLED)},
    )
    def get(self, request, cache_context: CacheContext):
        tree = visible_tree(cache_context.version)

        def node(category_id: int) -> dict:
            _parent, name, slug, icon = tree.nodes[category_id]
            return {
                "id": category_id,
                "name": name,
                "slug": slug,
                "icon_url": s.file_url(icon, request.build_absolute_uri),
                "children": [node(child) for child in tree.children.get(category_id, ())],
            }

        return Response([node(root) for root in tree.children.get(None, ())])


class MedicineListView(CatalogView):
    filter_backends = [DjangoFilterBackend]  # for the schema: get() cleans with the same FilterSet
    filterset_class = MedicineFilter
    queryset = Medicine.objects.none()  # for the schema; get() builds its own
    pagination_class = CatalogPagination
    serializer_class = s.MedicineListItemSerializer

    @extend_schema(
        tags=TAGS,
        summary="Medicines: list, filter, order and search",
        description=(
            "Active medicines of active categories, paginated. `q` searches names, manufacturers and active "
            "substances in Latin or Cyrillic and tolerates typos."
        ),
        responses={
            200: s.MedicineListItemSerializer(many=True),
            **error_responses(INVALID_PARAMETER, NOT_FOUND, THROTTLED),
        },
    )
    def get(self, request, cache_context: CacheContext):
        paginator = self.paginator
        cleaned = MedicineFilter.clean(request.query_params, paginator.query_fields)
        tree = visible_tree(cache_context.version)
        query = queries.MedicineQuery.from_params(tree, cleaned, version=cache_context.version)
        rows = paginator.paginate_queryset(query, request, view=self)
        return Response(paginator.page_dict(self.medicine_items(request, rows)))


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineDetailView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="One medicine",
        description=(
            "An active medicine of an active category: description, usage, substances with strengths, form, "
            "pack size, price, availability, prescription and controlled flags, image and thumbnail URLs."
        ),
        responses={200: s.MedicineDetailSerializer, **error_responses(NOT_FOUND, THROTTLED)},
    )
    def get(self, request, slug: str, cache_context: CacheContext):
        row = queries.medicine_by_slug(visible_tree(cache_context.version), slug)
        if row is None:
            raise exceptions.NotFound()
        return Response(self.medicine_items(request, [row], detail=True)[0])


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineAlternativesView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="What to offer instead of a medicine",
        description=(
            "In stock medicines with the same active substances: exact generic equivalents first "
            "(same strengths and form), then other strengths or forms; cheapest first within each kind."
        ),
        responses={200: s.AlternativeSerializer(many=True), **error_responses(NOT_FOUND, THROTTLED)},
    )
    def get(self, request, slug: str, cache_context: CacheContext):
        tree = visible_tree(cache_context.version)
        medicine = queries.medicine_by_slug(tree, slug)
        if medicine is None:
            raise exceptions.NotFound()
        ranked = alternative_ids(medicine_id=medicine["id"])
        found = queries.medicine_rows(tree, [alternative_id for alternative_id, _ in ranked])
        kept = [(found[alternative_id], kind) for alternative_id, kind in ranked if alternative_id in found]
        items = self.medicine_items(request, [row for row, _ in kept])
        return Response([{**item, "alternative_kind": kind} for item, (_, kind) in zip(items, kept, strict=True)])


class SubstanceListView(CatalogView):
    filter_backends = [DjangoFilterBackend]  # for the schema: get() filters with the same FilterSet
    filterset_class = SubstanceFilter
    queryset = ActiveSubstance.objects.order_by("inn_name", "pk")
    pagination_class = CatalogPagination
    serializer_class = s.SubstanceSerializer

    @extend_schema(
        tags=TAGS,
        summary="Active substances: list and search",
        description="Active substances by INN, paginated. `q` searches INN, Uzbek and Russian names and ATC codes.",
        responses={200: s.SubstanceSerializer(many=True), **error_responses(INVALID_PARAMETER, NOT_FOUND, THROTTLED)},
    )
    def get(self, request, cache_context: CacheContext):
        paginator = self.paginator
        cleaned = SubstanceFilter.clean(request.query_params, paginator.query_fields)
        found = SubstanceFilter.filter_cleaned(self.get_queryset(), cleaned)
        rows = paginator.paginate_queryset(
            found.values("id", "inn_name", "name_uz", "name_ru", "atc_codes"), request, view=self
        )
        return Response(paginator.page_dict([s.substance_row(row) for row in rows]))


class LocationListView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="The pharmacies",
        description=(
            "Every place that sells to the public (branches, and warehouses open to customers), ordered by name; "
            "not paginated: a chain has tens of places. Each `id` is what the medicine list's `location` filter takes."
        ),
        responses={200: s.LocationSerializer(many=True), **error_responses(THROTTLED)},
    )
    def get(self, request, cache_context: CacheContext):
        region_names = s.region_names()
        return Response([s.location_row(row, region_names) for row in public_locations(cache_context.version).rows])


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineAvailabilityView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="Where a medicine is in stock",
        description=(
            "The public places that have the medicine in stock now, ordered by name, each with a coarse `level` "
            "counted in packs (few, some, many); never an exact quantity. A place goes off the list as soon as "
            "it sells its last pack; a level may lag a sale by the response cache's lifetime."
        ),
        responses={200: s.LocationAvailabilitySerializer(many=True), **error_responses(NOT_FOUND, THROTTLED)},
    )
    def get(self, request, slug: str, cache_context: CacheContext):
        found = queries.medicine_stock_by_slug(visible_tree(cache_context.version), slug)
        if found is None:
            raise exceptions.NotFound()
        medicine, units = found
        region_names = s.region_names()
        return Response(
            [
                {
                    **s.location_row(row, region_names),
                    "level": stock_level(units[row["id"]], medicine["parts_per_pack"]),
                }
                for row in public_locations(cache_context.version).rows
                if row["id"] in units
            ]
        )


@extend_schema(exclude=True)
class NotFoundView(CatalogView):
    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()
