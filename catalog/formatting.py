"""How money and quantities are shown to people (admin, API texts, messages)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

# Groups of thousands (and the currency) are separated by a no-break space,
# so a price never wraps in the middle of a table cell: "12 500 so'm".
GROUP_SEPARATOR = "\u00a0"
DECIMAL_SEPARATOR = ","


def group_thousands(number: int) -> str:
    digits = f"{abs(number):d}"
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return ("-" if number < 0 else "") + GROUP_SEPARATOR.join(groups or ["0"])


def format_uzs(amount: Decimal | int | None) -> str:
    """``Decimal("12500")`` -> ``"12 500 so'm"``; tiyin shown only when present (``"12 500,50 so'm"``)."""
    if amount is None:
        return ""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = int(value)
    fraction = abs(value - whole)
    text = group_thousands(whole)
    if value < 0 and whole == 0:
        text = "-" + text
    if fraction:
        text += DECIMAL_SEPARATOR + f"{int(fraction * 100):02d}"
    # Translators: the Uzbek currency after an amount, e.g. "12 500 so'm".
    shown = _("%(amount)s so'm") % {"amount": text}
    # Never wrap the amount away from its currency in a narrow cell.
    return shown.replace(" ", GROUP_SEPARATOR)


# Dates as staff in Tashkent write them, whatever the interface language:
# 27.11.2026 (day, month, year with dots), months as 11.2026, days in a chart as 27.11.
def format_date(value) -> str:
    """``date(2026, 11, 27)`` -> ``"27.11.2026"``; a datetime is shown in Tashkent time first."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return f"{value:%d.%m.%Y %H:%M}"
    return f"{value:%d.%m.%Y}"


def format_month(value) -> str:
    """``date(2026, 11, 1)`` -> ``"11.2026"``."""
    return f"{value:%m.%Y}" if value is not None else ""


def format_day_month(value) -> str:
    """``date(2026, 11, 27)`` -> ``"27.11"`` (chart axes of the last weeks)."""
    return f"{value:%d.%m}" if value is not None else ""


def format_units(units: int, medicine) -> str:
    """Units of a medicine as packs and loose parts: ``"3 packs + 1 blister"``; whole packs alone: ``"3 packs"``.

    ``medicine`` needs ``parts_per_pack`` and ``part_name`` (a ``Medicine`` or a row
    with those two). Stock counts the smallest unit sold, so for a medicine sold
    by the part the figure is split back into what a person sees on the shelf.
    """
    from django.utils.translation import ngettext

    per_pack = max(getattr(medicine, "parts_per_pack", 1) or 1, 1)
    packs, loose = divmod(int(units), per_pack)
    packs_text = ngettext("%(count)s pack", "%(count)s packs", packs) % {"count": group_thousands(packs)}
    if not loose:
        return packs_text
    name = getattr(medicine, "part_name", "") or ""
    if name:
        parts_text = f"{group_thousands(loose)} {name}"
    else:
        parts_text = ngettext("%(count)s part", "%(count)s parts", loose) % {"count": group_thousands(loose)}
    if not packs:
        return parts_text
    # Translators: whole packs and loose parts of a medicine, e.g. "3 packs + 1 blister".
    return _("%(packs)s + %(parts)s") % {"packs": packs_text, "parts": parts_text}
