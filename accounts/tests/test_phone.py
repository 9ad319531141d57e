import pytest
from django.core.exceptions import ValidationError

from accounts.phone import format_phone, normalize_phone


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("90 123 45 67", "+998901234567"),
        ("901234567", "+998901234567"),
        ("998901234567", "+998901234567"),
        ("+998901234567", "+998901234567"),
        ("+998 (90) 123-45-67", "+998901234567"),
        ("+998-90-123-45-67", "+998901234567"),
        ("00998901234567", "+998901234567"),
        ("  +998 90 123 45 67  ", "+998901234567"),
        ("(93) 555 12 34", "+998935551234"),
        ("+998 33 123 45 67", "+998331234567"),
        ("+998 97 123 4567", "+998971234567"),
        ("88 123 45 67", "+998881234567"),
        ("71 123 45 67", "+998711234567"),
        ("+998 50 123 45 67", "+998501234567"),
    ],
)
def test_a_valid_uzbek_number_is_stored_in_e164(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abc",
        "12345",
        "+7 901 234 56 78",
        "+1 202 555 0123",
        "+998 90 123 45 6",
        "+998 90 123 45 678",
        "99890123456",
        "++998901234567",
        "90+1234567",
        "90 123 45 67x",
        "+998/90/123/45/67",
        "+998 00 123 45 67",
        "9012345678901",
        None,
    ],
)
def test_anything_that_is_not_an_uzbek_number_is_rejected_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as error:
        normalize_phone(typed)
    assert error.value.code == "invalid_phone"
    assert "valid Uzbek phone number" in error.value.messages[0]


def test_a_stored_number_is_shown_grouped_as_people_read_it():
    assert format_phone("+998901234567") == "+998 90 123 45 67"
