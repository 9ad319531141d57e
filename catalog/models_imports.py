"""Kept only for migration 0002, which names ``catalog.models_imports.import_storage`` and ``import_upload_to``.

The import job's model lives in ``catalog/models/imports.py``; import from ``catalog.models``.
"""

from catalog.models.imports import import_storage, import_upload_to

__all__ = ["import_storage", "import_upload_to"]
