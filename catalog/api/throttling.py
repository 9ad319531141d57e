"""The catalogue API's rate limit: a DRF throttle counting per client IP in fixed windows."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from backoffice.client_ip import client_ip

from .caching import incr_and_get_many


@dataclass(frozen=True, slots=True)
class ThrottleWindow:
    """The counter one request is counted on: its cache key, how long it lives, when its window ends."""

    key: str
    timeout: int
    ends_at: float


class CatalogRateThrottle(SimpleRateThrottle):
    """Per client IP, ``settings.CATALOG_API_THROTTLE_RATE`` (e.g. "300/min"); refused requests get 429 + Retry-After.

    DRF's sliding window keeps every request's timestamp in one cache value and
    rewrites it on each request, which costs more than a cached response at
    storefront rates. This counts in fixed windows instead: one atomic
    increment per request, at most twice the rate across a window boundary.

    Behind the response cache (``catalog.api.response_cache``) a GET has
    already been counted, in the same round trip to Redis that read its cached
    response: the count arrives in the view's ``CacheContext`` and is not
    incremented again. Any other request (OPTIONS, a refused method, a view
    used without the cache) is counted here.
    """

    scope = "catalog"

    def get_rate(self) -> str | None:
        return getattr(settings, "CATALOG_API_THROTTLE_RATE", "300/min")

    def window(self, request) -> ThrottleWindow | None:
        """The counter ``request`` (Django's or DRF's) is counted on now; None when there is no limit."""
        if self.rate is None:
            return None
        window = int(self.timer() // self.duration)
        return ThrottleWindow(
            key=f"throttle_{self.scope}_{client_ip(request)}_{self.duration}_{window}",
            timeout=self.duration + 1,
            ends_at=(window + 1) * self.duration,
        )

    def allows(self, count: int | None) -> bool:
        """Whether the ``count``-th request of a window is within the rate (None: not counted, no limit)."""
        return count is None or count <= self.num_requests

    def allow_request(self, request, view) -> bool:
        # response_cache.CONTEXT_KWARG: the response cache hands its CacheContext to the view as a keyword argument.
        context = getattr(view, "kwargs", {}).get("cache_context")
        if context is not None and context.window is not None:
            window, count = context.window, context.count
        else:
            window = self.window(request)
            if window is None:
                return True
            count, _ = incr_and_get_many(window.key, window.timeout, [])
        self.window_ends_at = window.ends_at
        return self.allows(count)

    def wait(self) -> float:
        return max(1, math.ceil(self.window_ends_at - self.timer()))
