"""What a barcode scanner typed: a GTIN (EAN-13, UPC, GTIN-14) or a GS1 element string (the DataMatrix of
Uzbekistan's mandatory marking, "Asl belgisi", or a GS1-128 aggregation label), parsed with ``biip``.

A keyboard-wedge scanner types the code into whatever has focus. The DataMatrix of a pack carries
``(01)`` GTIN, ``(21)`` serial, ``(91)`` verification key and ``(92)`` verification code, the variable
fields ended by GS (ASCII 29; some printers put character 232 instead); an aggregation label also
carries ``(10)`` the batch and ``(17)`` the expiry (YYMMDD, day ``00`` meaning the month's end). The
scanner may prefix the symbology identifier (``]d2``, ``]C1``), and a person may type the human-readable
form ``(01)04601234567893(21)...`` printed under it. ``biip`` reads all of these (and checks the
GTIN's check digit); a string that is none of them is not a code and the caller searches by name.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from biip import ParseConfig, ParseError, parse
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin

# ASCII 29 (GS) is the standard FNC1 separator; character 232 ("è") is what some printers and
# scanner set-ups send instead (CRPT-Turon's marking guidelines mention both).
SEPARATORS = ("\x1d", "\xe8")
_CONFIG = ParseConfig(separator_chars=SEPARATORS)
# A scanner that drops the separators leaves the serial run into the next fields, and one typing through
# a Cyrillic keyboard layout turns "]d2" into "ъв2": the GTIN, fixed-length and first, still reads (the
# rest is not trusted).
_LEADING_GTIN = re.compile(r"^(?:\D{1,2}\d)?01(\d{14})")


@dataclass(frozen=True)
class ScannedCode:
    """A code read off a pack: its GTIN as 14 digits, and what else the code carried."""

    gtin: str
    serial: str = ""
    lot_number: str = ""
    expiry_date: datetime.date | None = None

    @property
    def barcode_candidates(self) -> list[str]:
        """The forms a catalogue may hold this GTIN in: GTIN-14, and EAN-13 / UPC-A / EAN-8 when its
        leading digits are zeros (a DataMatrix always carries 14 digits, a pack's EAN-13 has 13)."""
        forms = [self.gtin]
        for length in (13, 12, 8):
            if self.gtin[: 14 - length] == "0" * (14 - length):
                forms.append(self.gtin[14 - length :])
        return forms

    @property
    def identification_code(self) -> str:
        """GTIN + serial: what identifies one pack (empty without a serial)."""
        return f"01{self.gtin}21{self.serial}" if self.serial else ""


def _from_message(message: GS1Message) -> ScannedCode | None:
    gtin = lot = serial = ""
    expiry = None
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in ("01", "02") and element.gtin is not None and not gtin:
            gtin = element.gtin.value.zfill(14)
        elif ai == "21":
            serial = element.value
        elif ai == "10":
            lot = element.value
        elif ai == "17":
            expiry = element.date
    if not gtin:
        return None
    return ScannedCode(gtin=gtin, serial=serial, lot_number=lot, expiry_date=expiry)


def parse_scan(value: str) -> ScannedCode | None:
    """The code in what the scanner (or a person) typed, or ``None`` when it is not a code with a GTIN.

    Digits only: a GTIN with a valid check digit (else not a code: it may be a SKU). A GS1 element string
    with or without its symbology identifier, with GS separators, or in the parenthesised form.
    """
    text = (value or "").strip(" \t\r\n")
    if not text:
        return None
    if text.startswith("("):
        try:
            return _from_message(GS1Message.parse_hri(text, config=_CONFIG))
        except ParseError:
            return None
    try:
        result = parse(text, config=_CONFIG)
    except ParseError:
        return _leading_gtin(text)
    if result.gs1_message is not None:
        found = _from_message(result.gs1_message)
        if found is not None:
            return found
    if result.gtin is not None:
        return ScannedCode(gtin=result.gtin.value.zfill(14))
    return _leading_gtin(text)


def _leading_gtin(text: str) -> ScannedCode | None:
    match = _LEADING_GTIN.match(text)
    if match is None:
        return None
    try:
        return ScannedCode(gtin=Gtin.parse(match.group(1)).value.zfill(14))
    except ParseError:
        return None
