"""The public catalogue API (/api/v1/catalog/): read-only and anonymous.

How a request is served (``CatalogView``):
1. throttled per client IP (``CatalogRateThrottle``);
2. looked up in the Django cache under the catalogue version, the host, the
   language and the full path; on a hit the stored JSON bytes are sent as they
   are (no query, no serialisation);
3. on a miss the view builds plain dicts from ``.values()`` rows (a fixed
   number of queries whatever the page size) and stores the JSON;
4. every response carries ``ETag`` (hash of the body), ``Last-Modified`` (the
   catalogue version's time) and ``Cache-Control``; a conditional GET whose
   validators match is answered 304 without a body.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from catalog.models import ActiveSubstance, Medicine, MedicineSubstance
from catalog.thumbnails import thumbnail_names_ready

from . import serializers as s
from .caching import cache_seconds, catalog_version, count_and_version, etag_for, versioned_key
from .filters import MedicineFilter, SubstanceFilter
from .pagination import CatalogPagination
from .tree import VisibleTree, visible_tree

TAGS = ["catalog"]
SLUG_PARAMETER = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$", description="Medicine slug."
)
SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "validation_error: a query parameter is not valid (see fields).",
        404: "not_found: no such active medicine, or no such page.",
        429: "rate_limited: too many requests from this address; see Retry-After.",
    }
    return {code: OpenApiResponse(s.ErrorSerializer, description=descriptions[code]) for code in statuses}


class CatalogRateThrottle(AnonRateThrottle):
    """Per client IP, ``settings.CATALOG_API_THROTTLE_RATE`` (e.g. "300/min").

    DRF's sliding window keeps every request's timestamp in one cache value and
    rewrites it on each request, which costs more than a cached response at
    storefront rates. This counts in fixed windows instead: one atomic
    increment per request, at most twice the rate across a window boundary.
    """

    scope = "catalog"

    def get_rate(self) -> str | None:
        return getattr(settings, "CATALOG_API_THROTTLE_RATE", "300/min")

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        # DRF passes its own Request; the version is kept on the Django one,
        # which the view's request wraps.
        request = getattr(request, "_request", request)
        now = self.timer()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"throttle_{self.scope}_{self.get_ident(request)}_{self.duration}_{window}"
        count, request.catalog_version = count_and_version(key, self.duration)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(1, math.ceil(self.window_end - self.timer()))


class CatalogView(GenericAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CatalogRateThrottle]
    http_method_names = ["get", "head", "options"]
    pagination_class = None

    # --- The cache and the validators ------------------------------------------

    def cached_json(self, request, build: Callable[[], Any]) -> HttpResponse:
        # Read with the throttle's counter in the same round trip when it ran.
        version = getattr(request, "catalog_version", None) or catalog_version()
        request.catalog_version = version
        ttl = cache_seconds()
        key = versioned_key(
            "response", request.get_host(), get_language() or "", request.get_full_path(), version=version
        )
        entry = cache.get(key) if ttl else None
        if entry is None:
            body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
            entry = (body, etag_for(body))
            if ttl:
                cache.set(key, entry, timeout=ttl)
        body, etag = entry
        response = HttpResponse(body, content_type="application/json")
        self._set_validators(response, etag, version)
        return get_conditional_response(request, etag=etag, last_modified=version // 1_000_000_000, response=response)

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

    def visible_medicines(self, tree: VisibleTree):
        medicines = Medicine.objects.filter(is_active=True)
        return medicines.exclude(category_id__in=tree.hidden_ids) if tree.hidden_ids else medicines

    def visible_medicine_by_slug(self, tree: VisibleTree, slug: str):
        # The route takes any segment so that a malformed slug is a JSON 404
        # too; only a well-formed one reaches the database.
        if not SLUG_RE.fullmatch(slug):
            raise exceptions.NotFound()
        return self.visible_medicines(tree).filter(slug=slug)

    def strengths_by_medicine(self, medicine_ids: Iterable[int], detail: bool = False) -> dict[int, list[dict]]:
        medicine_ids = list(medicine_ids)
        out: dict[int, list[dict]] = defaultdict(list)
        if not medicine_ids:
            return out
        fields = s.STRENGTH_DETAIL_FIELDS if detail else s.STRENGTH_FIELDS
        rows = (
            MedicineSubstance.objects.filter(medicine_id__in=medicine_ids)
            .order_by("medicine_id", "substance__inn_name", "pk")
            .values(*fields)
        )
        for row in rows:
            out[row["medicine_id"]].append(s.strength_row(row, detail=detail))
        return out


class CategoryTreeView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="The category tree",
        description="Active categories as a tree (roots first, in display order), with icon URLs.",
        responses={200: s.CategoryNodeSerializer(many=True), **_errors(429)},
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
        responses={200: s.MedicineListItemSerializer(many=True), **_errors(400, 404, 429)},
    )
    def get(self, request):
        return self.cached_json(request, lambda: self._page(request))

    def _page(self, request) -> dict:
        tree = visible_tree(request.catalog_version)
        filterset = MedicineFilter(data=request.query_params, queryset=self.visible_medicines(tree), request=request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        paginator = self.paginator
        rows = paginator.paginate_queryset(filterset.qs.values(*s.MEDICINE_LIST_FIELDS), request, view=self)
        strengths = self.strengths_by_medicine(row["id"] for row in rows)
        thumbnails = thumbnail_names_ready(row["image"] for row in rows)
        return paginator.page_dict(
            [
                s.medicine_row(row, strengths.get(row["id"], []), request.build_absolute_uri, thumbnails=thumbnails)
                for row in rows
            ]
        )


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineDetailView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="One medicine",
        responses={200: s.MedicineDetailSerializer, **_errors(404, 429)},
    )
    def get(self, request, slug: str):
        return self.cached_json(request, lambda: self._detail(request, slug))

    def _detail(self, request, slug: str) -> dict:
        tree = visible_tree(request.catalog_version)
        row = self.visible_medicine_by_slug(tree, slug).values(*s.MEDICINE_DETAIL_FIELDS).first()
        if row is None:
            raise exceptions.NotFound()
        strengths = self.strengths_by_medicine([row["id"]], detail=True)
        thumbnails = thumbnail_names_ready([row["image"]])
        return s.medicine_row(
            row, strengths.get(row["id"], []), request.build_absolute_uri, detail=True, thumbnails=thumbnails
        )


@extend_schema_view(get=extend_schema(parameters=[SLUG_PARAMETER]))
class MedicineAlternativesView(CatalogView):
    @extend_schema(
        tags=TAGS,
        summary="What to offer instead of a medicine",
        description=(
            "In stock medicines with the same active substances: exact generic equivalents first "
            "(same strengths and form), then other strengths or forms; cheapest first within each kind."
        ),
        responses={200: s.AlternativeSerializer(many=True), **_errors(404, 429)},
    )
    def get(self, request, slug: str):
        return self.cached_json(request, lambda: self._alternatives(request, slug))

    def _alternatives(self, request, slug: str) -> list[dict]:
        from catalog.selectors import medicine_alternatives

        tree = visible_tree(request.catalog_version)
        medicine = self.visible_medicine_by_slug(tree, slug).first()
        if medicine is None:
            raise exceptions.NotFound()
        out = []
        alternatives = medicine_alternatives(medicine=medicine)
        thumbnails = thumbnail_names_ready(alternative.image.name for alternative in alternatives)
        for alternative in alternatives:
            node = tree.nodes.get(alternative.category_id)
            if node is None or not alternative.is_active:
                continue
            row = {
                "id": alternative.pk,
                "slug": alternative.slug,
                "name": alternative.name,
                "manufacturer_id": alternative.manufacturer_id,
                "manufacturer__name": alternative.manufacturer.name,
                "category_id": alternative.category_id,
                "category__slug": node[2],
                "category__name": node[1],
                "dosage_form": alternative.dosage_form,
                "pack_size": alternative.pack_size,
                "price": alternative.price,
                "sellable_quantity": alternative.sellable_quantity,
                "is_prescription": alternative.is_prescription,
                "is_controlled": alternative.is_controlled,
                "image": alternative.image.name,
            }
            strengths = [
                s.strength_row(
                    {
                        "substance_id": link.substance_id,
                        "substance__inn_name": link.substance.inn_name,
                        "strength": link.strength,
                        "unit": link.unit,
                        "per_volume_ml": link.per_volume_ml,
                    }
                )
                for link in sorted(
                    alternative.medicine_substances.all(), key=lambda link: (link.substance.inn_name, link.pk)
                )
            ]
            item = s.medicine_row(row, strengths, request.build_absolute_uri, thumbnails=thumbnails)
            item["alternative_kind"] = alternative.alternative_kind
            out.append(item)
        return out


class SubstanceListView(CatalogView):
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubstanceFilter
    queryset = ActiveSubstance.objects.none()  # for the schema; get() builds its own
    pagination_class = CatalogPagination
    serializer_class = s.SubstanceSerializer

    @extend_schema(
        tags=TAGS,
        summary="Active substances: list and search",
        responses={200: s.SubstanceSerializer(many=True), **_errors(400, 404, 429)},
    )
    def get(self, request):
        return self.cached_json(request, lambda: self._page(request))

    def _page(self, request) -> dict:
        filterset = SubstanceFilter(
            data=request.query_params, queryset=ActiveSubstance.objects.order_by("inn_name", "pk"), request=request
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        paginator = self.paginator
        rows = paginator.paginate_queryset(
            filterset.qs.values("id", "inn_name", "name_uz", "name_ru", "atc_codes"), request, view=self
        )
        return paginator.page_dict([s.substance_row(row) for row in rows])


@extend_schema(exclude=True)
class NotFoundView(CatalogView):
    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()


def bare_json_view(request):
    """The benchmark's floor: a JsonResponse through the same middleware, no framework.

    Routed only when ``settings.BENCH_BARE_ENDPOINT`` is true (see backoffice/urls.py).
    """
    return JsonResponse({"ok": True})
