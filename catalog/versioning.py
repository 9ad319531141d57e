"""The catalogue version: one number that changes whenever what the public sees of the catalogue changes.

It lives in the Django cache (Redis in production) under ``VERSION_KEY``.
Readers key what they keep by it (``catalog.api.caching``: whole responses,
page counts, the category tree), so changing it makes every old key
unreachable at once: nothing has to be deleted by pattern, old keys expire.

This is domain code: writers change the version, the API only reads it. It is
bumped

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

import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from catalog import models
from catalog.signals import stock_changed

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
    stock_changed.connect(_on_stock_changed, dispatch_uid="catalog_api_stock_changed")
    for model in watched:
        post_save.connect(_on_catalogue_change, sender=model, dispatch_uid=f"catalog_api_save_{model.__name__}")
        post_delete.connect(_on_catalogue_change, sender=model, dispatch_uid=f"catalog_api_delete_{model.__name__}")
