"""Caching of the public catalogue API.

Every cached thing (whole responses, page counts, the visible category tree)
is keyed by the *catalogue version*: one value in the Django cache (Redis in
production) that changes whenever the catalogue changes. Changing it makes
every old key unreachable at once, so nothing has to be deleted by pattern;
old keys simply expire.

The version is bumped:
- by the ``post_save``/``post_delete`` receivers below, for every model whose
  rows appear in an API response (connected in ``CatalogConfig.ready``);
- by ``stock_changed`` when a medicine went in or out of stock (a sale that
  leaves it in stock changes no response; see ``_on_stock_changed``);
- by ``catalog_cache_bump()``, which writers call after set-based writes
  (``QuerySet.update()``, ``bulk_create``) that send no signals: the import
  engine once per confirmed import, thumbnails once generated.

The version is a nanosecond timestamp, so it doubles as the ``Last-Modified``
of every response.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

VERSION_KEY = "catalog:api:version"
# Old versions are never read again; whatever is keyed by them expires on its own.
VERSION_TIMEOUT = None


def catalog_version() -> int:
    """The current catalogue version (a nanosecond timestamp); created on first use."""
    version = cache.get(VERSION_KEY)
    if version is None:
        # add() so that two workers starting together agree on one version.
        cache.add(VERSION_KEY, time.time_ns(), timeout=VERSION_TIMEOUT)
        version = cache.get(VERSION_KEY) or time.time_ns()
    return int(version)


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


def _bump() -> None:
    previous = cache.get(VERSION_KEY) or 0
    # Strictly increasing even if the clock steps back or two bumps share a tick.
    cache.set(VERSION_KEY, max(time.time_ns(), int(previous) + 1), timeout=VERSION_TIMEOUT)


def catalog_cache_bump() -> None:
    """Invalidate every cached catalogue response, count and tree.

    Bumps now, so that a reader inside the same transaction sees the change,
    and again when the surrounding transaction commits, so that a response
    rendered by another worker from the pre-commit data between the two is not
    kept under the new version. Outside a transaction both run at once.
    """
    _bump()
    transaction.on_commit(_bump)


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


# --- Signals ------------------------------------------------------------------


def _on_catalogue_change(sender, **kwargs) -> None:
    catalog_cache_bump()


def _on_stock_changed(sender, availability_changed: bool = True, **kwargs) -> None:
    """Stock reaches the API as "in stock" (shown, filtered on, required of alternatives),
    for the chain and for each public place (``location`` filter, availability), and
    as a coarse level per place (availability).

    A sale or receipt that leaves every medicine on the same side of zero, in the
    chain and at every place, keeps the cache: on a busy chain a version per sale
    would leave nothing cached. What it may move lags by up to
    ``CATALOG_API_CACHE_SECONDS``: the popularity order (``number_sold``) and an
    availability level (a branch going from "some" to "few" packs); a place that
    sells its last pack leaves the availability at once.
    """
    if availability_changed:
        catalog_cache_bump()


def connect_signals() -> None:
    """Connect the invalidation receivers; called from ``CatalogConfig.ready``."""
    from catalog import models

    # Lots are not here: the API shows no lot, and what lots change in a
    # medicine (its stock) is announced by stock_changed below. Locations are:
    # the locations list, every availability answer and the ``location``
    # filter show them (a rename, a new address, a place closed or hidden).
    watched = [
        models.Category,
        models.Manufacturer,
        models.ActiveSubstance,
        models.Medicine,
        models.MedicineSubstance,
        models.Location,
    ]
    # Stock services change rows with QuerySet.update() (no post_save) and say
    # so with stock_changed after their transaction commits.
    from catalog.signals import stock_changed

    stock_changed.connect(_on_stock_changed, dispatch_uid="catalog_api_stock_changed")
    for model in watched:
        post_save.connect(_on_catalogue_change, sender=model, dispatch_uid=f"catalog_api_save_{model.__name__}")
        post_delete.connect(_on_catalogue_change, sender=model, dispatch_uid=f"catalog_api_delete_{model.__name__}")
