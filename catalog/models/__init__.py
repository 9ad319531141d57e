"""The catalogue app's models, one module per subject; import them from here (``from catalog.models import Lot``).

- ``places``: ``Location`` (a branch, a warehouse, transit, a place's quarantine) and its region.
- ``medicines``: categories, manufacturers, active substances, medicines and their strengths; GTIN and ATC checks.
- ``stock``: lots, the stock of a lot at a place, a medicine's sellable stock per place, the ledger's movements.
- ``imports``: spreadsheet import jobs (the import log).
- ``transfers``: transfers of lots from one place to another.
"""

from .imports import ImportJob, ImportKind, ImportState, import_storage, import_upload_to
from .medicines import (
    MONEY,
    ActiveSubstance,
    Category,
    DosageForm,
    Manufacturer,
    Medicine,
    MedicineSubstance,
    StrengthUnit,
    gtin_check_digit,
    validate_atc,
    validate_gtin,
)
from .places import NOT_SELLING_KINDS, Location, LocationKind, Region
from .stock import Lot, LotStatus, LotStock, MedicineStock, MovementKind, StockMovement
from .transfers import Discrepancy, Transfer, TransferLine, TransferState

__all__ = [
    "ImportJob",
    "ImportKind",
    "ImportState",
    "import_storage",
    "import_upload_to",
    "MONEY",
    "ActiveSubstance",
    "Category",
    "DosageForm",
    "Manufacturer",
    "Medicine",
    "MedicineSubstance",
    "StrengthUnit",
    "gtin_check_digit",
    "validate_atc",
    "validate_gtin",
    "NOT_SELLING_KINDS",
    "Location",
    "LocationKind",
    "Region",
    "Lot",
    "LotStatus",
    "LotStock",
    "MedicineStock",
    "MovementKind",
    "StockMovement",
    "Discrepancy",
    "Transfer",
    "TransferLine",
    "TransferState",
]
