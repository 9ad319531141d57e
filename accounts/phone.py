"""Uzbek phone numbers: one parser, one stored format (E.164).

Staff type numbers every way people write them (``90 123 45 67``,
``998901234567``, ``+998 (90) 123-45-67``); all of them store as
``+998901234567``. Parsing and validity come from Google's libphonenumber
(``phonenumbers``), which knows Uzbekistan's numbering plan, rather than from
a hand-written pattern that would drift from it.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

UZ_REGION = "UZ"
UZ_COUNTRY_CODE = 998
_NOT_DIGITS = re.compile(r"[^\d+]")

# How long a typed number may be, spaces, brackets, dashes and "00" prefix included
# ("00 998 (90) 123-45-67" is 22); the stored E.164 form is at most 16.
PHONE_INPUT_MAX_LENGTH = 32
# The characters a typed number may hold: digits, spaces, "+", brackets, dashes, dots.
PHONE_INPUT_PATTERN = r"^[0-9\s+().-]+$"
_PHONE_INPUT = re.compile(PHONE_INPUT_PATTERN)

INVALID_PHONE_MESSAGE = _("Enter a valid Uzbek phone number, for example +998 90 123 45 67.")


def normalize_phone(value: str) -> str:
    """Return ``value`` as an E.164 Uzbek number or raise ``ValidationError``."""
    if value is None:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    raw = str(value).strip()
    if not _PHONE_INPUT.fullmatch(raw):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    compact = _NOT_DIGITS.sub("", raw)
    if not compact or compact.count("+") > 1 or ("+" in compact and not compact.startswith("+")):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    # "998901234567" is the full international number without its "+": libphonenumber
    # would read it as a (too long) national number, so give it the "+" back.
    if not compact.startswith("+") and compact.startswith(str(UZ_COUNTRY_CODE)) and len(compact) == 12:
        compact = "+" + compact
    # "00998..." is the international prefix dialled from abroad.
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        parsed = phonenumbers.parse(compact, UZ_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone") from exc
    if parsed.country_code != UZ_COUNTRY_CODE or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """``+998901234567`` as people read it: ``+998 90 123 45 67``."""
    try:
        parsed = phonenumbers.parse(value, UZ_REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
