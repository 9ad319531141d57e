"""The counter's admin: sales and their returns, cash shifts, the controlled-drug register, and the till.

The till (``till.py``: the point-of-sale page, its scan and sale endpoints, the receipt) and the shift's
pages (``shift_pages.py``: opening, closing, the Z-report) hang off the Order admin's URLs; everything
they change goes through ``orders.services``. The lists and pages here read: ``order.py`` (sales),
``returns.py`` (the return page and the returns list), ``shift.py`` (shifts), ``register.py`` (the
controlled-drug register). A member sees the documents of the places they work at (``places.py``).
"""

from .order import OrderAdmin
from .register import ControlledEntryAdmin
from .returns import ReturnAdmin
from .shift import ShiftAdmin

__all__ = ["ControlledEntryAdmin", "OrderAdmin", "ReturnAdmin", "ShiftAdmin"]
