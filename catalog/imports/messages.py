"""Import messages kept as their English text and parameters, and put into words when someone reads them.

An import's errors are stored with the job and read later, often by someone
else: a Russian-speaking colleague must read the errors of a file an
Uzbek-speaking clerk uploaded in Russian. The import modules therefore write
``_("Unknown SKU “%(sku)s”.") % {"sku": sku}`` with ``_`` = ``deferred``: the
result keeps the message id and the parameters (``as_json``), and becomes text
in the active language only when shown (``str``, ``render``). A stock rule's
refusal (a ``CatalogError``) is kept the same way from its own message and
parameters (``from_error``).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext


class Deferred:
    """A message id with its parameters; ``str()`` translates it into the active language."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, params: dict[str, Any] | None = None) -> None:
        self.msgid = msgid
        self.params = params or {}

    def __mod__(self, params: dict[str, Any]) -> Deferred:
        return Deferred(self.msgid, dict(params))

    def __str__(self) -> str:
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {
            name: str(value) if isinstance(value, Deferred) else value for name, value in self.params.items()
        }

    def __repr__(self) -> str:
        return f"Deferred({self.msgid!r}, {self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Deferred) and (self.msgid, self.params) == (other.msgid, other.params)

    __hash__ = None

    def as_json(self) -> dict:
        return {"msgid": self.msgid, "params": {name: _param_json(value) for name, value in self.params.items()}}


def deferred(msgid: str) -> Deferred:
    """``gettext`` for messages that are stored: ``deferred("…%(x)s") % {"x": 1}`` keeps id and parameters."""
    return Deferred(msgid)


def _param_json(value):
    if isinstance(value, Deferred):
        return {"text": value.as_json()}
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)  # a date, a Decimal, a lazily translated word: as written now


def from_error(error) -> Deferred | str:
    """A ``CatalogError`` as a deferred message: its own message id and parameters (``.message`` if it has none)."""
    message = getattr(error, "_message", None)
    args = getattr(message, "_args", None)  # a gettext_lazy proxy keeps its message id
    if not (isinstance(message, Promise) and args and isinstance(args[0], str)):
        return error.message
    return Deferred(args[0], {name: value for name, value in error.params.items()})


def _from_json(stored: dict) -> Deferred:
    params = {}
    for name, value in (stored.get("params") or {}).items():
        params[name] = _from_json(value["text"]) if isinstance(value, dict) and "text" in value else value
    return Deferred(stored["msgid"], params)


def render(entry: dict) -> str:
    """A stored error's message in the active language; as stored when it was kept as text only."""
    stored = entry.get("text")
    if stored:
        try:
            return str(_from_json(stored))
        except (KeyError, TypeError, ValueError):
            pass  # a message id whose translation no longer takes these parameters
    return entry.get("message", "")
