"""The one JSON parser of every DRF API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

DRF's own parser reads the body from the stream, which bypasses Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (only ``request.body`` checks it), and hands
it to ``json.load``, whose recursion turns ``[[[[...`` into a RecursionError
(a 500). This one refuses a body over that size with 413 before reading more
than the limit, and a body nested deeper than ``MAX_DEPTH`` with 400.
Errors reach the client in the API's ``{"code", "message"}`` shape
(``backoffice.api_errors``).
"""

from __future__ import annotations

import orjson
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers

# No request body of ours nests beyond a few levels; this leaves room and keeps
# every later walk over the data (validation, logging) far from Python's recursion limit.
MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"
    default_detail = _("The request body is too large.")


class JSONTooDeep(exceptions.ParseError):
    default_code = "json_too_deep"
    default_detail = _("The request body is nested too deeply.")


def _deeper_than(data, limit: int) -> bool:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = parser_context.get("request")
        if limit is not None and request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestTooLarge()
        # The stream may carry more than the header said: read one byte past the limit at most.
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            if encoding.lower().replace("_", "-") not in {"utf-8", "utf8"}:
                raw = raw.decode(encoding)
            # orjson stops at its own depth limit (1024) instead of recursing in Python,
            # and refuses NaN and Infinity as strict JSON asks.
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "depth" in str(exc):
                raise JSONTooDeep() from exc
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        if _deeper_than(data, MAX_DEPTH):
            raise JSONTooDeep()
        return data
