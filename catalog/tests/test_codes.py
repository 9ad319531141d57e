"""What a scanner types at the till is read as the pack's GTIN (and batch, expiry, serial when the code has them)."""

import datetime

import pytest

from catalog.codes import parse_scan

GTIN13 = "4601234567893"
GTIN14 = "04601234567893"
SERIAL = "ABC1234567890"
CRYPTO = "a" * 44


def test_an_ean13_is_read_as_its_gtin14():
    code = parse_scan(GTIN13)
    assert code.gtin == GTIN14
    assert code.barcode_candidates[:2] == [GTIN14, GTIN13]


def test_a_gtin14_with_a_leading_zero_is_the_same_product():
    assert parse_scan(GTIN14).gtin == GTIN14


def test_a_wrong_check_digit_is_not_a_code():
    assert parse_scan("4601234567890") is None


@pytest.mark.parametrize("separator", ["\x1d", "\xe8"])
@pytest.mark.parametrize("prefix", ["", "]d2"])
def test_the_marking_datamatrix_gives_gtin_and_serial(prefix, separator):
    raw = f"{prefix}01{GTIN14}21{SERIAL}{separator}91EE07{separator}92{CRYPTO}"
    code = parse_scan(raw)
    assert code.gtin == GTIN14
    assert code.serial == SERIAL
    assert code.identification_code == f"01{GTIN14}21{SERIAL}"


def test_an_aggregation_code_gives_the_batch_and_expiry_with_day_00_the_months_end():
    code = parse_scan(f"]C101{GTIN14}10LOT7\x1d17290200")
    assert (code.gtin, code.lot_number, code.expiry_date) == (GTIN14, "LOT7", datetime.date(2029, 2, 28))


def test_the_human_readable_form_is_read_too():
    code = parse_scan(f"(01){GTIN14}(21){SERIAL}(10)L123(17)281231")
    assert (code.gtin, code.serial, code.lot_number, code.expiry_date) == (
        GTIN14,
        SERIAL,
        "L123",
        datetime.date(2028, 12, 31),
    )


def test_separators_dropped_by_the_scanner_still_give_the_gtin():
    code = parse_scan(f"01{GTIN14}21{SERIAL}91EE0792{CRYPTO}")
    assert code.gtin == GTIN14


def test_a_scanner_typing_through_a_cyrillic_layout_still_gives_the_gtin():
    assert parse_scan(f"ъв201{GTIN14}21{SERIAL}\x1d91EE07").gtin == GTIN14


@pytest.mark.parametrize("text", ["", "  ", "paracetamol", "PARA-500-20", "12", "(01)123"])
def test_names_skus_and_garbage_are_not_codes(text):
    assert parse_scan(text) is None
