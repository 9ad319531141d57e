"""Spreadsheet imports: stock receipt, price list, stocktake (the exports are ``catalog/exports.py``).

``engine`` runs the flow (upload -> dry run -> confirm); ``receipt``, ``pricelist`` and
``stocktake`` check and write their rows set-based; ``parsing`` reads CSV/XLSX and cells.
"""
