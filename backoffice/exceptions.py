"""The one base of every domain error: a rule refused an operation, with data.

A domain error says *what* was refused, never how to answer over HTTP:

- ``code``: stable and machine-readable (``insufficient_stock``,
  ``code_cooldown``); the API's ``code``, and what callers and tests branch on;
- ``params``: the data of this refusal (``{"lot": "A12"}``,
  ``{"retry_after": 30}``), interpolated into the message;
- ``message``: translated when it is *read*, so the admin, a task's log and
  the API each get it in the language active there.

Each app subclasses it once (``catalog.exceptions.CatalogError``,
``accounts.exceptions.AccountsError``, the import engine's refusals) and every
error of the app subclasses that. What a code means over HTTP (its status, a
``Retry-After`` header) is the API layer's business: ``backoffice/api_errors.py``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every domain error; see the module docstring."""

    code: str = "error"
    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, code: str | None = None, **params: Any) -> None:
        if code is not None:
            self.code = code
        self.params = params
        # Kept lazy (a gettext_lazy proxy or the class's default) until read.
        self._message = message if message is not None else self.default_message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = str(self._message)
        # Only a message that names a parameter is formatted: a param meant for
        # the caller alone (retry_after) must not trip over a literal "%".
        return text % self.params if self.params and "%(" in text else text

    def __str__(self) -> str:
        return self.message
