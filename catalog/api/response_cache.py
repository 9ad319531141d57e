"""The catalogue API's response cache: a layer in front of the DRF views, and their HTTP caching headers.

``cached_catalog_view`` wraps a view's ``as_view()`` callable (``CatalogView``
wraps every catalogue view so). For a GET or HEAD it makes one round trip to
Redis (``caching.incr_and_get_many``) that

- counts the request for the throttle (``CatalogRateThrottle.window``),
- reads the catalogue version (``catalog.versioning``),
- reads the stored response for the request's host, language and full path;

then:

1. a stored response of the current version, within the rate, is answered
   from its bytes: no DRF request, no query, no serialisation;
2. otherwise the DRF view runs as usual (authentication, permissions, the
   throttle, the handler, the exception handler), handed what the round trip
   read as the keyword argument ``cache_context`` (a ``CacheContext``): the
   handler builds for that version, and the throttle takes the count instead
   of counting again (a refusal is DRF's 429 with ``Retry-After``);
3. a 200 it answers is stored as ``(version, body, etag)`` for the next
   request (an entry of an older version is a miss, and is overwritten).

Every GET/HEAD answer of 200 or 404 carries ``ETag`` (a hash of the body),
``Last-Modified`` (the version's time), ``Cache-Control: public, max-age``
and ``Vary: Accept-Language``, and a conditional GET whose validators match is
answered 304 without a body. Refusals (400, 405, 429) are ``no-store``: they
depend on the request, not on the catalogue. Other methods (OPTIONS, refused
ones) go straight to DRF.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from catalog.versioning import VERSION_KEY, catalog_version

from .caching import cache_seconds, etag_for, incr_and_get_many, response_key
from .throttling import CatalogRateThrottle, ThrottleWindow

CONTEXT_KWARG = "cache_context"


@dataclass(frozen=True, slots=True)
class CacheContext:
    """What the response cache read for one GET or HEAD, shared with the view and its throttle.

    ``version``: the catalogue version the response is built for (and stored
    under); ``key``: where it is stored (None: the response cache is off);
    ``window`` and ``count``: the throttle counter the request was counted on
    and its count there (None: no rate limit).
    """

    version: int
    key: str | None
    window: ThrottleWindow | None
    count: int | None


def cached_catalog_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` (a DRF ``as_view()`` callable) behind the catalogue's response cache (see the module)."""
    view_class = view.cls
    # The Allow header DRF's finalize_response sets, for the answers that skip DRF.
    allow = ", ".join(
        method.upper()
        for method in view_class.http_method_names
        if hasattr(view_class, method) or (method == "head" and hasattr(view_class, "get"))
    )

    @functools.wraps(view)
    def serve(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return _with_cache_control(request, view(request, *args, **kwargs))
        throttle = CatalogRateThrottle()
        context, entry = _look_up(request, throttle)
        if entry is not None and entry[0] == context.version and throttle.allows(context.count):
            _version, body, etag = entry
            response = HttpResponse(body, content_type="application/json")
            response["Allow"] = allow
            return _conditional(request, response, etag, context.version)
        response = view(request, *args, **{**kwargs, CONTEXT_KWARG: context})
        if response.status_code not in (200, 404):
            return _with_cache_control(request, response)
        if hasattr(response, "render"):
            response.render()
        etag = etag_for(response.content)
        if response.status_code == 200 and context.key:
            cache.set(context.key, (context.version, response.content, etag), timeout=cache_seconds())
        # Answers about what does not exist (404) are as cacheable by clients as
        # the rest: they change only with the catalogue. The server keeps 200s only.
        return _conditional(request, response, etag, context.version)

    return serve


def _look_up(request: HttpRequest, throttle: CatalogRateThrottle) -> tuple[CacheContext, tuple | None]:
    """The one round trip: count the request on ``throttle``, read the version and the stored response."""
    key = response_key(request.get_host(), get_language() or "", request.get_full_path()) if cache_seconds() else None
    keys = [VERSION_KEY, key] if key else [VERSION_KEY]
    window = throttle.window(request)
    if window is None:
        found = cache.get_many(keys)
        count, values = None, [found.get(k) for k in keys]
    else:
        count, values = incr_and_get_many(window.key, window.timeout, keys)
    version = int(values[0]) if values[0] is not None else catalog_version()
    entry = values[1] if key else None
    return CacheContext(version=version, key=key, window=window, count=count), entry


def _conditional(request: HttpRequest, response: HttpResponse, etag: str, version: int) -> HttpResponse:
    """``response`` with its validators and cache headers, or a 304 if the client's copy is current."""
    seconds = version // 1_000_000_000
    response["ETag"] = etag
    response["Last-Modified"] = http_date(seconds)
    patch_cache_control(response, public=True, max_age=getattr(settings, "CATALOG_API_MAX_AGE", 60))
    patch_vary_headers(response, ["Accept-Language"])
    allow = response.get("Allow")
    response = get_conditional_response(request, etag=etag, last_modified=seconds, response=response)
    if allow:
        response["Allow"] = allow  # a 304 too, as DRF would set it
    return response


def _with_cache_control(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.status_code == 200 and request.method == "OPTIONS":
        patch_cache_control(response, public=True, max_age=getattr(settings, "CATALOG_API_MAX_AGE", 60))
    else:
        # Refusals (400, 405, 429) depend on the request, not the catalogue.
        patch_cache_control(response, no_store=True)
    return response
