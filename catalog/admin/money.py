"""Prices in forms as lists show them: ``55 000`` in the input, and ``55 000``, ``55 000,50`` or ``55000.50`` accepted.

Lists and pages show money with ``format_uzs`` (groups of thousands, decimal
comma). A form that showed ``55000.00`` and wanted exactly that back made
staff retype what they had just read; this field speaks the same format.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from unfold.widgets import UnfoldAdminTextInputWidget

from catalog.formatting import DECIMAL_SEPARATOR, group_thousands

# Spaces people or browsers put between groups: plain, no-break, narrow no-break, thin.
_GROUPING = re.compile(r"[ \u00a0\u202f\u2009]")
_CURRENCY = re.compile(r"\s*(so['ʻ‘’`]?m|сум|uzs)\.?\s*$", re.IGNORECASE)


def format_money_input(value) -> str:
    """``Decimal("55000.00")`` -> ``"55 000"``; ``Decimal("1250.5")`` -> ``"1 250,50"`` (no currency)."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)  # what the member typed, shown back with its error
    whole = int(amount)
    fraction = abs(amount - whole)
    text = ("-" if amount < 0 and whole == 0 else "") + group_thousands(whole)
    if fraction:
        text += DECIMAL_SEPARATOR + f"{int((fraction * 100).to_integral_value()):02d}"
    return text


def parse_money_input(value: str) -> str:
    """``"55 000,50 so'm"`` -> ``"55000.50"``: groups and the currency dropped, a decimal comma or point."""
    text = _CURRENCY.sub("", _GROUPING.sub("", value.strip()))
    if text.count(",") + text.count(".") > 1:
        # "55,000.50" or "55.000": a grouping we do not write; refuse rather than guess.
        return value
    return text.replace(",", ".")


class MoneyInput(UnfoldAdminTextInputWidget):
    """A text input (a number input cannot show groups) that opens the numeric keyboard on phones."""

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs={"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        return format_money_input(value)


class MoneyHiddenInput(forms.HiddenInput):
    def format_value(self, value):
        return format_money_input(value)


class MoneyField(forms.DecimalField):
    """A model's money ``DecimalField`` in a form: shown grouped, typed grouped or plain."""

    widget = MoneyInput
    hidden_widget = MoneyHiddenInput

    def __init__(self, **kwargs) -> None:
        # The admin hands every DecimalField Unfold's number input; a number input cannot hold "55 000".
        kwargs["widget"] = MoneyInput
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = parse_money_input(value)
        return super().to_python(value)

    def widget_attrs(self, widget):
        # DecimalField would add step/min/max, which only a number input understands.
        return forms.Field.widget_attrs(self, widget)


MONEY_FIELDS = {"price": MoneyField, "part_price": MoneyField, "purchase_price": MoneyField}
