"""A Redis cache that degrades to "nothing cached" when Redis is unreachable.

The cache only ever holds what can be recomputed (API responses, versions,
counts), so an outage of Redis must cost speed, not requests: a read is a
miss, a write is dropped, a counter starts afresh (so cache-based rate
limits do not hold during the outage), and the failure is logged. Django's RedisCache
raises instead, which would turn a Redis outage into 500s on every page that
touches the cache.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class CacheUnavailable(Exception):
    """The cache could not be reached; raised only where a caller asks for it (``add_or_raise``).

    An infrastructure failure, not a domain error: a caller turns it into its own refusal if it must."""


def add_or_raise(cache, key, value, timeout=DEFAULT_TIMEOUT) -> bool:
    """``cache.add``, but an unreachable cache raises ``CacheUnavailable`` instead of answering False.

    For a mutex held in the cache: failing soft there would make an outage look
    like a lock someone else holds. Caches that cannot be unreachable (local
    memory) are asked plainly.
    """
    strict = getattr(cache, "add_or_raise", None)
    return strict(key, value, timeout) if strict is not None else cache.add(key, value, timeout)


def _warn(operation: str, exc: Exception) -> None:
    logger.warning("Cache unavailable (%s): %s", operation, exc.__class__.__name__)


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis client, keeping one ``redis.Redis`` per connection pool.

    Django builds a new ``redis.Redis`` for every cache operation, and each
    one fills a table of ~80 response callbacks: a few cache calls per API
    request cost half a millisecond before any byte reaches Redis. The client
    object is thread-safe (connections come from the pool per command), so one
    per pool is enough.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _warn("add", exc)
            return False

    def add_or_raise(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _warn("add", exc)
            raise CacheUnavailable() from exc

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            _warn("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            _warn("set", exc)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE as exc:
            _warn("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNAVAILABLE as exc:
            _warn("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as exc:
            _warn("has_key", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            # As if the counter had just been created: counters kept in the
            # cache (rate limits) stop counting while Redis is away.
            _warn("incr", exc)
            return delta

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as exc:
            _warn("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            _warn("delete_many", exc)

    def incr_and_get_many(self, counter_key: str, timeout: int, keys: list[str]) -> tuple[int, list]:
        """Increment a counter and read ``keys``, in one round trip to Redis.

        The counter expires ``timeout`` seconds after it is created (a rate
        limit's window). Returns the new count and the values of ``keys`` in
        order (None where missing). With Redis away the counter starts afresh
        (1) and every key is a miss, as the other operations here behave.
        """
        counter = self.make_and_validate_key(counter_key)
        try:
            client = self._cache.get_client(counter, write=True)
            pipe = client.pipeline(transaction=False)
            pipe.incr(counter)
            pipe.expire(counter, timeout, nx=True)
            for key in keys:
                pipe.get(self.make_and_validate_key(key))
            count, _expiry_set, *values = pipe.execute()
        except UNAVAILABLE as exc:
            _warn("incr_and_get_many", exc)
            return 1, [None] * len(keys)
        loads = self._cache._serializer.loads
        return int(count), [None if value is None else loads(value) for value in values]

    def clear(self):
        try:
            return super().clear()
        except UNAVAILABLE as exc:
            _warn("clear", exc)
            return False
