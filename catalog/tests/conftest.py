"""Fixtures of the catalogue tests: the public API's (``api``, ``shop``) live in api_support.py."""

from .api_support import api, shop  # noqa: F401
