import re

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.sms import console

AUTH = "/api/v1/auth/"


@pytest.fixture(autouse=True)
def _fresh_cache_and_outbox():
    # Throttle counters and the gateway token live in the cache: each test starts clean.
    cache.clear()
    console.outbox.clear()
    yield
    cache.clear()


class Api:
    """An API client whose requests run their on-commit callbacks (the SMS task) as in production."""

    def __init__(self, capture):
        self.client = APIClient()
        self._capture = capture

    def _call(self, method, path, data=None, token=None, **extra):
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        url = path if path.startswith("/") else AUTH + path
        with self._capture(execute=True):
            return getattr(self.client, method)(url, data, format="json", **extra)

    def post(self, path, data=None, **kw):
        return self._call("post", path, data, **kw)

    def get(self, path, **kw):
        return self._call("get", path, None, **kw)

    def patch(self, path, data=None, **kw):
        return self._call("patch", path, data, **kw)


@pytest.fixture
def api(db, django_capture_on_commit_callbacks):
    return Api(django_capture_on_commit_callbacks)


def last_code(phone: str) -> str:
    """The code in the last SMS sent to ``phone``."""
    texts = [m["text"] for m in console.outbox if m["phone"] == phone]
    assert texts, f"no SMS sent to {phone}"
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def sms_count(phone: str) -> int:
    return sum(1 for m in console.outbox if m["phone"] == phone)
