"""The public catalogue API (/api/v1/catalog/): read-only and anonymous.

How a GET is served (``CatalogView``):
1. one round trip to Redis counts it for the per-IP throttle
   (``CatalogRateThrottle``), reads the catalogue version and reads the
   cached response for its host, language and full path;
2. a cached response of the current version is sent as stored (no query, no
   serialisation, no DRF request);
3. otherwise the view builds plain dicts from short SQL statements
   (``queries``: a fixed number of queries whatever the page size), encodes
   them with orjson and stores the bytes for the next request;
4. every response carries ``ETag`` (hash of the body), ``Last-Modified`` (the
   catalogue version's time) and ``Cache-Control``; a conditional GET whose
   validators match is answered 304 without a body.
Refusals (429), OPTIONS and other methods go through DRF as usual.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from backoffice.api_errors import error_responses
from backoffice.client_ip import client_ip
from catalog.models import ActiveSubstance, Medicine
from catalog.selectors import alternative_ids
from catalog.thumbnails import thumbnail_names_ready
from catalog.versioning import VERSION_KEY, catalog_version

from . import queries
from . import serializers as s
from .caching import cache_seconds, etag_for, incr_and_get_many, response_key
from .filters import MedicineFilter, SubstanceFilter, clean_params
from .locations import public_locations, stock_level
from .pagination import CatalogPagination
from .tree import visible_tree

TAGS = ["catalog"]
SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$", description="Medicine slug."
)


INVALID_PARAMETER = (400, "validation_error: a query parameter is not valid (see fields).")
NOT_FOUND = (404, "not_found: no such active medicine, or no such page.")
THROTTLED = (429, "rate_limited: too many requests from this address; see Retry-After.")


class CatalogRateThrottle(AnonRateThrottle):
    """Per client IP, ``settings.CATALOG_API_THROTTLE_RATE`` (e.g. "300/min").

    DRF's sliding window keeps every request's timestamp in one cache value and
    rewrites it on each request, which costs more than a cached response at
    storefront rates. This counts in fixed windows instead: one atomic
    increment per request, at most twice the rate across a window boundary.
    The increment travels with the cache reads of the request
    (``count_and_read``), so a cached response costs one round trip to Redis.
    """

    scope = "catalog"

    def get_rate(self) -> str | None:
        return getattr(settings, "CATALOG_API_THROTTLE_RATE", "300/min")

    def count_and_read(self, request, keys: list[str]) -> list:
        """Count ``request`` (a Django request) against its window and read ``keys`` from the cache."""
        if self.rate is None:
            found = cache.get_many(keys)
            return [found.get(key) for key in keys]
        now = self.timer()
        window = int(now // self.duration)
        request.catalog_window_end = (window + 1) * self.duration
        counter = f"throttle_{self.scope}_{client_ip(request)}_{self.duration}_{window}"
        request.catalog_count, values = incr_and_get_many(counter, self.duration + 1, keys)
        return values

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        # DRF passes its own Request; the count is kept on the Django one,
        # which it wraps. A request the view has already counted (on its way
        # to the response cache) is not counted twice.
        request = getattr(request, "_request", request)
        if getattr(request, "catalog_count", None) is None:
            self.count_and_read(request, [])  # OPTIONS and refused methods: counted, nothing to read
        self.window_end = request.catalog_window_end
        return request.catalog_count <= self.num_requests

    def wait(self) -> float:
        return max(1, math.ceil(self.window_end - self.timer()))


class CatalogView(GenericAPIView):
    """Base of the catalogue endpoints: anonymous, read-only, throttled, cached.

    A GET or HEAD first looks for its rendered response in the cache, in the
    same round trip that counts it for the throttle and reads the catalogue
    version (``serve_cached``): a hit is answered right there, before DRF wraps
    the request. A miss within the rate is built by ``serve_fresh``, which
    skips only what DRF's ``initial()`` would do for nothing here (no
    authentication, no permission to check, one renderer, the throttle already
    counted). A refusal (429), OPTIONS and every other method take DRF's own path.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CatalogRateThrottle]
    http_method_names = ["get", "head", "options"]
    pagination_class = None

    # --- The cache and the validators ------------------------------------------

    def dispatch(self, request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            response = self.serve_cached(request)
            if response is not None:
                return response
            if request.catalog_allowed:
                return self.serve_fresh(request, *args, **kwargs)
        # DRF's throttle refuses an over-limit request without counting it again.
        return super().dispatch(request, *args, **kwargs)

    def serve_cached(self, request) -> HttpResponse | None:
        """The cached response of a GET, if its entry is of the current catalogue version and the throttle allows."""
        ttl = cache_seconds()
        key = response_key(request.get_host(), get_language() or "", request.get_full_path()) if ttl else None
        throttle = CatalogRateThrottle()
        values = throttle.count_and_read(request, [VERSION_KEY, key] if key else [VERSION_KEY])
        version, entry = values[0], values[1] if key else None
        request.catalog_version = int(version) if version is not None else catalog_version()
        request.catalog_response_key = key
        request.catalog_allowed = throttle.allow_request(request, self)  # counted above: not again
        if entry is None or entry[0] != request.catalog_version or not request.catalog_allowed:
            return None
        return self.json_response(request, entry[1], entry[2], request.catalog_version)

    def serve_fresh(self, request, *args, **kwargs):
        """DRF's ``dispatch`` without ``initial()``: a GET the throttle has counted and allowed, built anew."""
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        self.format_kwarg = self.get_format_suffix(**kwargs)
        try:
            response = getattr(self, request.method.lower())(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def cached_json(self, request, build: Callable[[], Any]) -> HttpResponse:
        """The response a missed ``serve_cached`` asked for: build it, keep it for the next request."""
        version = getattr(request, "catalog_version", None) or catalog_version()
        request.catalog_version = version
        body = orjson.dumps(build())
        etag = etag_for(body)
        key = getattr(request, "catalog_response_key", None)
        if key:
            cache.set(key, (version, body, etag), timeout=cache_seconds())
        return self.json_response(request, body, etag, version)

    def json_response(self, request, body: bytes, etag: str, version: int) -> HttpResponse:
        response = HttpResponse(body, content_type="application/json")
        self._set_validators(response, etag, version)
        response = get_conditional_response(
            request, etag=etag, last_modified=version // 1_000_000_000, response=response
        )
        # What DRF's finalize_response adds, for the responses that skip it.
        response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def _set_validators(self, response, etag: str, version: int) -> None:
        response["ETag"] = etag
        response["Last-Modified"] = http_date(version // 1_000_000_000)
        patch_cache_control(response, public=True, max_age=getattr(settings, "CATALOG_API_MAX_AGE", 60))
        patch_vary_headers(response, ["Accept-Language"])

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.has_header("ETag"):
            return response
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            # Answers about what does not exist are as cacheable as the rest:
            # they change only with the catalogue.
            if isinstance(response, Response):
                response.render()
            version = getattr(request, "catalog_version", None) or catalog_version()
            self._set_validators(response, etag_for(response.content), version)
        elif response.status_code == 200 and request.method == "OPTIONS":
            patch_cache_control(response, public=True, max_age=getattr(settings, "CATALOG_API_MAX_AGE", 60))
        else:
            # Refusals (400, 405, 429) depend on the request, not the catalogue.
            patch_cache_control(response, no_store=True)
        return response

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
    def get(self, request):
        return self.cached_json(request, lambda: self._tree(request))

    def _tree(self, request) -> list[dict]:
        tree = visible_tree(getattr(request, "catalog_version", None))

        def node(category_id: int) -> dict:
            _parent, name, slug, icon = tree.nodes[category_id]
            return {
                "id": category_id,
                "name": name,
                "slug": slug,
                "icon_url": s.file_url(icon, request.build_absolute_uri),
                "children": [node(child) for child in tree.children.get(category_id, ())],
            }

        return [node(root) for root in tree.children.get(None, ())]


class MedicineListView(CatalogView):
    filter_backends = [DjangoFilterBackend]
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
    def get(self, request):
        return self.cached_json(request, lambda: self._page(request))

    def _page(self, request) -> dict:
        paginator = self.paginator
        cleaned = clean_params(MedicineFilter, request.query_params, paginator.query_fields)
        tree = visible_tree(request.catalog_version)
        query = queries.MedicineQuery.from_params(tree, cleaned, version=request.catalog_version)
        rows = paginator.paginate_queryset(query, request, view=self)
        return paginator.page_dict(self.medicine_items(request, rows))


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineDetailView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="One medicine",
        responses={200: s.MedicineDetailSerializer, **error_responses(NOT_FOUND, THROTTLED)},
    )
    def get(self, request, slug: str):
        return self.cached_json(request, lambda: self._detail(request, slug))

    def _detail(self, request, slug: str) -> dict:
        row = queries.medicine_by_slug(visible_tree(request.catalog_version), slug)
        if row is None:
            raise exceptions.NotFound()
        return self.medicine_items(request, [row], detail=True)[0]


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
    def get(self, request, slug: str):
        return self.cached_json(request, lambda: self._alternatives(request, slug))

    def _alternatives(self, request, slug: str) -> list[dict]:
        tree = visible_tree(request.catalog_version)
        medicine = queries.medicine_by_slug(tree, slug)
        if medicine is None:
            raise exceptions.NotFound()
        ranked = alternative_ids(medicine_id=medicine["id"])
        found = queries.medicine_rows(tree, [alternative_id for alternative_id, _ in ranked])
        kept = [(found[alternative_id], kind) for alternative_id, kind in ranked if alternative_id in found]
        items = self.medicine_items(request, [row for row, _ in kept])
        return [{**item, "alternative_kind": kind} for item, (_, kind) in zip(items, kept, strict=True)]


class SubstanceListView(CatalogView):
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubstanceFilter
    queryset = ActiveSubstance.objects.none()  # for the schema; get() builds its own
    pagination_class = CatalogPagination
    serializer_class = s.SubstanceSerializer

    @extend_schema(
        tags=TAGS,
        summary="Active substances: list and search",
        responses={200: s.SubstanceSerializer(many=True), **error_responses(INVALID_PARAMETER, NOT_FOUND, THROTTLED)},
    )
    def get(self, request):
        return self.cached_json(request, lambda: self._page(request))

    def _page(self, request) -> dict:
        paginator = self.paginator
        clean_params(SubstanceFilter, request.query_params, paginator.query_fields)  # a 400 names every wrong one
        filterset = SubstanceFilter(
            data=request.query_params, queryset=ActiveSubstance.objects.order_by("inn_name", "pk"), request=request
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        rows = paginator.paginate_queryset(
            filterset.qs.values("id", "inn_name", "name_uz", "name_ru", "atc_codes"), request, view=self
        )
        return paginator.page_dict([s.substance_row(row) for row in rows])


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
    def get(self, request):
        return self.cached_json(request, lambda: self._locations(request))

    def _locations(self, request) -> list[dict]:
        region_names = s.region_names()
        return [s.location_row(row, region_names) for row in public_locations(request.catalog_version).rows]


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
    def get(self, request, slug: str):
        return self.cached_json(request, lambda: self._availability(request, slug))

    def _availability(self, request, slug: str) -> list[dict]:
        found = queries.medicine_stock_by_slug(visible_tree(request.catalog_version), slug)
        if found is None:
            raise exceptions.NotFound()
        medicine, units = found
        region_names = s.region_names()
        return [
            {**s.location_row(row, region_names), "level": stock_level(units[row["id"]], medicine["parts_per_pack"])}
            for row in public_locations(request.catalog_version).rows
            if row["id"] in units
        ]


@extend_schema(exclude=True)
class NotFoundView(CatalogView):
    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()
