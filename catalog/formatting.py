"""How money and quantities are shown to people (admin, API texts, messages)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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


def format_units(units: int, parts_per_pack: int = 1, part_name: str = "") -> str:
    """Units of stock as people count them: ``(7, 2, "blister")`` -> ``"3 packs + 1 blister"``.

    Stock counts the smallest unit sold: a pack, or a part of it for a medicine
    sold by the part (``parts_per_pack`` > 1). The part's name is the medicine's
    own (``part_name``, entered by staff in their language, so it is not
    inflected); without one the part is called a part. A negative quantity (a
    movement out) is shown with a minus before the whole: ``"-(3 packs + 1 blister)"``.
    """
    packs, parts = divmod(abs(units), parts_per_pack) if parts_per_pack > 1 else (abs(units), 0)
    if not parts:
        text = _packs(packs)
    elif not packs:
        text = _parts(parts, part_name)
    else:
        # Translators: whole packs and the loose parts of a pack, e.g. "3 packs + 1 blister".
        text = _("%(packs)s + %(parts)s") % {"packs": _packs(packs), "parts": _parts(parts, part_name)}
    if units >= 0:
        return text
    return f"-({text})" if packs and parts else f"-{text}"


def _packs(count: int) -> str:
    return ngettext("%(count)s pack", "%(count)s packs", count) % {"count": group_thousands(count)}


def _parts(count: int, part_name: str) -> str:
    if part_name:
        return f"{group_thousands(count)} {part_name}"
    return ngettext("%(count)s part", "%(count)s parts", count) % {"count": group_thousands(count)}


def medicine_units(units: int, medicine) -> str:
    """``units`` of ``medicine`` as packs and parts (the medicine's own part name): ``format_units`` for a medicine."""
    return format_units(units, medicine.parts_per_pack, medicine.part_name)
