"""The catalogue's admin, registered on the default site (the Dorixona site).

Stock is never edited through a form: lot actions and receipts call
catalog.services. Every model keeps its history (django-simple-history).
"""

from .imports import ImportExportActionsMixin, ImportJobAdmin
from .location import LocationAdmin
from .lot import LotAdmin, StockMovementAdmin
from .medicine import MedicineAdmin
from .reference import ActiveSubstanceAdmin, CategoryAdmin, ManufacturerAdmin

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
]
