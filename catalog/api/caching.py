"""Caching of the public catalogue API, keyed by the catalogue version.

Every cached thing (whole responses, page counts, the visible category tree)
is keyed by the catalogue version (``catalog.versioning``: what bumps it and
why). This module only reads the version: it makes the keys, keeps values
computed once per version, and reads the throttle's counter, the version and
a cached response in one round trip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches

from catalog.versioning import catalog_version


def incr_and_get_many(counter_key: str, timeout: int, keys: list[str]) -> tuple[int, list]:
    """Increment a rate-limit counter and read ``keys``: one round trip with Redis.

    A cached API response costs little more than its cache round trips, so the
    throttle's counter, the catalogue version and the cached response travel
    together (``FailSoftRedisCache.incr_and_get_many``). Other cache backends
    (tests without Redis) take the generic path.
    """
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy
    if hasattr(backend, "incr_and_get_many"):
        return backend.incr_and_get_many(counter_key, timeout, keys)
    try:
        count = backend.incr(counter_key)
    except ValueError:
        count = 1 if backend.add(counter_key, 1, timeout=timeout) else backend.incr(counter_key)
    found = backend.get_many(keys)
    return count, [found.get(key) for key in keys]


def cache_seconds() -> int:
    """How long a rendered response stays in the Django cache (0 turns the response cache off)."""
    return int(getattr(settings, "CATALOG_API_CACHE_SECONDS", 300))


def versioned_key(kind: str, *parts: str, version: int | None = None) -> str:
    version = catalog_version() if version is None else version
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return f"catalog:api:{kind}:{version}:{digest}"


# Values computed per catalogue version, kept in this process too: a version's
# counts never change, and reading them here saves a cache round trip per page.
_memo: dict[str, Any] = {}
_MEMO_SIZE = 4096


def versioned_get_or_set(kind: str, parts: tuple[str, ...], compute: Callable[[], Any], version: int | None = None):
    """``compute()`` once per catalogue version (and per ``parts``), then from this process or the cache."""
    key = versioned_key(kind, *parts, version=version)
    sentinel = object()
    value = _memo.get(key, sentinel)
    if value is not sentinel:
        return value
    value = cache.get(key, sentinel)
    if value is sentinel:
        value = compute()
        cache.set(key, value, timeout=max(cache_seconds(), 60))
    if len(_memo) >= _MEMO_SIZE:
        _memo.clear()  # old versions' entries are never read again
    _memo[key] = value
    return value


def response_key(host: str, language: str, full_path: str) -> str:
    """Where a rendered response is kept: one key per URL, host and language, across versions.

    The entry holds the version it was rendered for (``(version, body, etag)``),
    so the response and the current version can be read in one round trip and
    an entry of an older version is simply a miss (and is overwritten).
    """
    digest = hashlib.blake2b("\x1f".join((host, language, full_path)).encode(), digest_size=16).hexdigest()
    return f"catalog:api:response:{digest}"


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
