"""Domain errors of the catalogue and stock services.

Each error is a ``backoffice.exceptions.DomainError``: it carries data
(``.code``, ``.params``, and for stock shortages ``.lines``) and a translated
``.message``; callers (admin actions, Celery tasks) render the message, the API
maps the code to a status (``backoffice/api_errors.py``), and none parses the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from backoffice.exceptions import DomainError


class CatalogError(DomainError):
    """Base of every catalogue domain error."""

    code: str = "catalog_error"
    default_message = _("The catalogue operation is not allowed.")


class InvalidQuantity(CatalogError):
    code = "invalid_quantity"
    default_message = _("The quantity must be a whole number greater than zero.")


class ReasonRequired(CatalogError):
    code = "reason_required"
    default_message = _("Give a reason for this stock change.")


class LotStatusError(CatalogError):
    """The lot's status does not allow the operation (e.g. releasing a recalled lot)."""

    code = "lot_status"
    default_message = _("Lot %(lot)s is %(status)s: this operation is not allowed.")


class LotMismatch(CatalogError):
    """A receipt names an existing lot but disagrees with it (another expiry date)."""

    code = "lot_mismatch"
    default_message = _(
        "Lot %(lot_number)s of this medicine already exists with expiry date %(expiry_date)s; "
        "a receipt into it must carry the same expiry date."
    )


class LotExpired(CatalogError):
    code = "lot_expired"
    default_message = _("Lot %(lot_number)s expires on %(expiry_date)s: expired stock cannot be received.")


@dataclass(frozen=True)
class ShortageLine:
    """One medicine (or one lot) that cannot cover the requested quantity."""

    medicine_id: int
    medicine_name: str
    requested: int
    available: int
    lot_id: int | None = None
    lot_number: str = ""

    @property
    def missing(self) -> int:
        return self.requested - self.available


class InsufficientStock(CatalogError):
    """Raised after checking every requested line; ``lines`` lists each shortage."""

    code = "insufficient_stock"
    default_message = _("Not enough sellable stock: %(details)s.")

    def __init__(self, lines: list[ShortageLine], message: Any = None) -> None:
        self.lines = list(lines)
        details = "; ".join(
            f"{line.medicine_name}{f' ({line.lot_number})' if line.lot_number else ''}: "
            f"{line.requested} / {line.available}"
            for line in self.lines
        )
        super().__init__(message, details=details)


class LocationRequired(CatalogError):
    """The stock is in more than one place (or none): the caller must say which."""

    code = "location_required"
    default_message = _("Say at which location: the stock is kept in more than one place.")


class LocationForbidden(CatalogError):
    """A staff member acting on the stock of a place they do not work at."""

    code = "location_forbidden"
    default_message = _("You do not work at %(location)s: its stock is not yours to change.")


class TransferStateError(CatalogError):
    code = "transfer_state"
    default_message = _("Transfer %(transfer)s is %(state)s: this operation is not allowed.")


class PartsPerPackLocked(CatalogError):
    code = "parts_per_pack_locked"
    default_message = _(
        "The number of parts per pack cannot change once the medicine has stock movements: "
        "every quantity already recorded would change its meaning."
    )


class CountSuperseded(CatalogError):
    """A count taken against a book another count has replaced since (the same units would be found missing twice)."""

    code = "count_superseded"
    default_message = _("Lot %(lot)s was counted again since this file was checked: upload the file again.")


class CountOvertaken(CatalogError):
    """A count's difference that later sales have overtaken: applied now, it would leave the lot below zero there."""

    code = "count_overtaken"
    default_message = _(
        "Lot %(lot)s held %(book)s when counted and holds %(now)s now: the count's difference "
        "of %(difference)s would leave it below zero. Count it again."
    )


@dataclass(frozen=True)
class RefusedLine:
    """One line of a bulk stock write and why it is refused; ``ref`` is the caller's tag (a file's line)."""

    ref: Any
    error: CatalogError


class LinesRefused(CatalogError):
    """A bulk stock write checked every line and refused the whole: ``lines`` lists each refused one."""

    code = "lines_refused"
    default_message = _("Nothing was written: %(details)s")

    def __init__(self, lines: list[RefusedLine]) -> None:
        self.lines = list(lines)
        details = "; ".join(f"{line.ref}: {line.error.message}" for line in self.lines[:20])
        super().__init__(details=details)
