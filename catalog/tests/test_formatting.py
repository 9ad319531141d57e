from decimal import Decimal

import pytest

from catalog.formatting import format_units, format_uzs

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("12500"), f"12{NBSP}500{NBSP}so'm"),
        (Decimal("12500.00"), f"12{NBSP}500{NBSP}so'm"),
        (Decimal("0"), f"0{NBSP}so'm"),
        (Decimal("999"), f"999{NBSP}so'm"),
        (Decimal("1000"), f"1{NBSP}000{NBSP}so'm"),
        (Decimal("1234567.5"), f"1{NBSP}234{NBSP}567,50{NBSP}so'm"),
        (Decimal("-45000"), f"-45{NBSP}000{NBSP}so'm"),
        (Decimal("0.005"), f"0,01{NBSP}so'm"),
        (7, f"7{NBSP}so'm"),
    ],
)
def test_format_uzs_groups_thousands_and_shows_tiyin_only_when_present(amount, shown):
    assert format_uzs(amount) == shown


def test_format_uzs_of_nothing_is_empty():
    assert format_uzs(None) == ""


@pytest.mark.parametrize(
    ("units", "parts_per_pack", "part_name", "shown"),
    [
        (3, 1, "", "3 packs"),
        (1, 1, "", "1 pack"),
        (0, 1, "", "0 packs"),
        (7, 2, "blister", "3 packs + 1 blister"),
        (6, 2, "blister", "3 packs"),
        (1, 2, "blister", "1 blister"),
        (23, 10, "", "2 packs + 3 parts"),
        (1, 10, "", "1 part"),
        (12005, 10, "ampoule", f"1{NBSP}200 packs + 5 ampoule"),
        (-7, 2, "blister", "-(3 packs + 1 blister)"),
        (-6, 2, "blister", "-3 packs"),
    ],
)
def test_format_units_counts_whole_packs_and_the_loose_parts(units, parts_per_pack, part_name, shown):
    assert format_units(units, parts_per_pack, part_name) == shown
