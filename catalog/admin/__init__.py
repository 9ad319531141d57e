"""The catalogue's admin, registered on the default site (the Dorixona site).

Stock is never edited through a form: lot actions, receipts and transfers
call the stock core (catalog.stock). Every model keeps its history (django-simple-history).
"""

from .imports import ImportExportActionsMixin, ImportJobAdmin
from .location import LocationAdmin
from .lot import LotAdmin, StockMovementAdmin
from .medicine import MedicineAdmin
from .reference import ActiveSubstanceAdmin, CategoryAdmin, ManufacturerAdmin
from .transfer import TransferAdmin

__all__ = [
    "ActiveSubstanceAdmin",
    "CategoryAdmin",
    "ImportExportActionsMixin",
    "ImportJobAdmin",
    "LocationAdmin",
    "LotAdmin",
    "ManufacturerAdmin",
    "MedicineAdmin",
    "StockMovementAdmin",
    "TransferAdmin",
]
