"""Latin <-> Cyrillic spellings for catalogue search.

Customers and operators in Uzbekistan type a medicine's name in Latin
(``paracetamol``), in Russian Cyrillic (``парацетамол``) or in the Uzbek
Latin transliteration of the Russian name (``paratsetamol``). The search
column holds every one of these spellings, so a single (indexed) condition
finds all of them and the query itself needs no rewriting.

The rules are deliberately simple and phonetic; they only have to produce the
spelling a person would type, not a reversible transliteration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Russian and Uzbek Cyrillic -> Uzbek Latin (the official 1995 alphabet, with
# the apostrophes dropped because people rarely type them).
_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
    "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ў": "o", "қ": "q", "ғ": "g", "ҳ": "h",
}  # fmt: skip
# The Russian-style romanisation differs in a few letters (zh, kh, shch).
_CYR_TO_LAT_RU = {**_CYR_TO_LAT, "ж": "zh", "х": "kh", "щ": "shch", "ы": "y"}

# Latin -> Cyrillic: digraphs first, then single letters. ``c`` is soft
# (ц) before e/i/y as in Latin drug names (paracetamol -> парацетамол).
_LAT_DIGRAPHS = [
    ("shch", "щ"), ("sch", "ш"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"),
    ("yo", "ё"), ("yu", "ю"), ("ya", "я"), ("ye", "е"), ("ph", "ф"), ("th", "т"), ("qu", "кв"),
    ("o'", "ў"), ("g'", "ғ"), ("oʻ", "ў"), ("gʻ", "ғ"), ("ck", "к"),
]  # fmt: skip
_LAT_SINGLE = {
    "a": "а", "b": "б", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "ж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с",
    "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс", "z": "з",
}  # fmt: skip
_VOWELS = set("aeiouy")

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case-fold and normalise what people type interchangeably (ё/е, apostrophes, spaces)."""
    text = (text or "").casefold().replace("ё", "е")
    text = text.replace("ʻ", "'").replace("’", "'").replace("‘", "'").replace("`", "'")
    return _SPACES.sub(" ", text).strip()


def cyrillic_to_latin(text: str, *, russian_style: bool = False) -> str:
    table = _CYR_TO_LAT_RU if russian_style else _CYR_TO_LAT
    return "".join(table.get(ch, ch) for ch in text)


def latin_to_cyrillic(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for latin, cyrillic in _LAT_DIGRAPHS:
            if text.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            ch = text[i]
            nxt = text[i + 1] if i + 1 < n else ""
            prev = text[i - 1] if i > 0 else ""
            if ch == "c":
                out.append("ц" if nxt in ("e", "i", "y") else "к")
            elif ch == "y":
                # y before a vowel or after one is a consonant (й); otherwise a vowel (и).
                out.append("й" if (nxt in _VOWELS or prev in _VOWELS) else "и")
            else:
                out.append(_LAT_SINGLE.get(ch, ch))
            i += 1
    return "".join(out)


def spellings(text: str) -> list[str]:
    """The folded text plus its Latin and Cyrillic spellings, without duplicates, in a stable order."""
    folded = fold(text)
    if not folded:
        return []
    variants = [folded]
    if _CYRILLIC.search(folded):
        variants.append(cyrillic_to_latin(folded))
        variants.append(cyrillic_to_latin(folded, russian_style=True))
    if _LATIN.search(folded):
        cyrillic = latin_to_cyrillic(folded)
        variants.append(cyrillic)
        # The Uzbek Latin spelling of the Russian name: paracetamol -> парацетамол -> paratsetamol.
        variants.append(cyrillic_to_latin(cyrillic))
    seen: dict[str, None] = {}
    for variant in variants:
        variant = variant.replace("'", "").strip()
        if variant:
            seen.setdefault(variant, None)
    return list(seen)


def search_document(parts: list[str], spell: Callable[[str], Iterable[str]] = spellings) -> str:
    """One search column value: every spelling of every part (name, manufacturer, substances), each once.

    ``spell`` is ``spellings`` or a cached copy of it (the synthetic catalogue's, for 100,000 medicines).
    """
    seen: dict[str, None] = {}
    for part in parts:
        for variant in spell(part):
            seen.setdefault(variant, None)
    return " ".join(seen)
