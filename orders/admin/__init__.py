"""The counter's admin: sales and their returns, cash shifts, the controlled-drug register, and the till.

The till (``till.py``: the point-of-sale page, its scan and sale endpoints, the shift's opening and
closing, the receipt and the Z-report) hangs off the Order admin's URLs; everything it changes goes
through ``orders.services``.
"""

from .order import OrderAdmin

__all__ = ["OrderAdmin"]
