"""What a browser test checks on every page it visits: nothing wider than the phone, nothing left in English.

``overflow(page)`` lists what sticks out of the viewport (or is cut off inside a box that hides its
overflow); ``untranslated(page, language)`` lists the texts shown in English, or as a raw field name
or Python value, on a page rendered in Uzbek or Russian.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils.translation import trans_real

# Elements wider than the viewport, unless a box that scrolls sideways holds them; and boxes that cut their
# content off (overflow hidden) without an ellipsis saying so. Text that is deliberately shortened with an
# ellipsis (breadcrumbs, long names in a narrow column) is not a fault.
OVERFLOW_JS = """(ignore) => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const describe = (el) => {
    const cls = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).slice(0, 3).join('.') : '';
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls ? '.' + cls : ''}: `
      + (el.innerText || el.value || '').trim().slice(0, 40);
  };
  // Inside a box within the screen that scrolls sideways (or, with clipping too, one that cuts its
  // content off: that box is checked itself).
  const held = (el, clipping) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      const holds = x === 'auto' || x === 'scroll' || (clipping && x !== 'visible');
      if (holds && p.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.checkVisibility({opacityProperty: true}) || (ignore && el.closest(ignore))) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (box.right > width + 1 && !held(el, true)) {
      found.push('wider than the screen: ' + describe(el));
    } else if (['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) {
      continue;  // a field scrolls its own text
    } else if (
      (style.overflowX === 'hidden' || style.overflowX === 'clip') && style.textOverflow !== 'ellipsis'
      && el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0 && !held(el, false)
    ) {
      found.push('cut off: ' + describe(el));
    } else if (
      el.tagName === 'TD' && (style.overflowY === 'hidden' || style.overflowY === 'clip')
      && el.scrollHeight > el.clientHeight + 2
    ) {
      found.push('cut off below: ' + describe(el));
    }
  }
  if (document.scrollingElement.scrollWidth > window.innerWidth) {
    found.unshift(`the page scrolls sideways: ${document.scrollingElement.scrollWidth} > ${window.innerWidth}`);
  }
  return found.slice(0, 20);
}"""

# Every text a person reads: visible text nodes, the labels a narrow table shows before each cell
# (data-label), placeholders, titles, and the options of every select.
TEXTS_JS = """() => {
  const texts = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(parent.tagName)) continue;
    if (parent.closest('.material-symbols-outlined')) continue;
    if (parent.tagName !== 'OPTION' && !parent.checkVisibility()) continue;
    const text = node.textContent.trim();
    if (text) texts.add(text);
  }
  for (const el of document.body.querySelectorAll('[data-label], [placeholder], [title]')) {
    if (!el.checkVisibility()) continue;
    for (const name of ['data-label', 'placeholder', 'title']) {
      const value = (el.getAttribute(name) || '').trim();
      if (value) texts.add(value);
    }
  }
  return [...texts];
}"""

PYTHON_VALUES = {"True", "False", "None"}
# Uzbek Latin writes oʻ and gʻ with U+02BB: an apostrophe there is a string from a catalogue that is not ours.
UZBEK_WRONG_APOSTROPHE = re.compile(r"[oOgG][`'‘’]")
# A field's name as the code spells it (is_active, status_reason), or as a careless header makes it (Lot_number).
IDENTIFIER = re.compile(r"[A-Za-z][a-z]*(_[a-z]+)+")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
# Words that read the same in English and the other language, or are not words at all.
SAME_EVERYWHERE = {"SKU", "GTIN", "ID", "OTP", "SHA-256", "CSV", "XLSX", "JSON", "TOTP", "URL", "mg", "ml", "IU", "%"}
SAME_IN = {
    "uz": {"Operator", "Administrator", "Import", "Format", "Gel", "Status", "Model", "Test", "Admin"},
    "ru": set(),
}


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(":*…").strip()


@cache
def _english_strings() -> tuple[frozenset[str], tuple[re.Pattern, ...], dict[str, frozenset[str]]]:
    """Every translatable English string the interface knows (the msgids of every catalogue), and for each
    language those it translates as themselves on purpose."""
    msgids: set[str] = set()
    same: dict[str, set[str]] = {}
    for language in ("uz", "ru"):
        same[language] = set()
        for domain in ("django", "djangojs"):
            catalog = trans_real.DjangoTranslation(language, domain=domain)._catalog
            for part in catalog._catalogs:
                for key, value in part.items():
                    msgid = key[0] if isinstance(key, tuple) else key
                    if not msgid:
                        continue
                    msgids.add(msgid)
                    if value == msgid:
                        same[language].add(_normalize(msgid).casefold())
    plain, patterns = set(), []
    for msgid in msgids:
        text = _normalize(msgid)
        if PLACEHOLDER.search(text):
            literal = PLACEHOLDER.sub("", text)
            if len(re.findall(r"[A-Za-z]", literal)) >= 6:
                parts = [re.escape(piece) for piece in PLACEHOLDER.split(text)]
                patterns.append(re.compile(".+?".join(parts), re.IGNORECASE))
        elif len(re.findall(r"[A-Za-z]", text)) >= 2:
            plain.add(text.casefold())
    return frozenset(plain), tuple(patterns), {key: frozenset(value) for key, value in same.items()}


def untranslated_texts(texts: list[str], language: str, *, allowed: set[str] = frozenset()) -> list[str]:
    plain, patterns, same = _english_strings()
    found = []
    for raw in texts:
        text = _normalize(raw)
        folded = text.casefold()
        if not text or text in allowed or text in SAME_EVERYWHERE or text in SAME_IN[language]:
            continue
        if folded in same[language]:
            continue
        if language == "uz" and UZBEK_WRONG_APOSTROPHE.search(text):
            found.append(text)
        elif text in PYTHON_VALUES or IDENTIFIER.fullmatch(text):
            found.append(text)
        elif folded in plain or any(pattern.fullmatch(text) for pattern in patterns):
            found.append(text)
    return sorted(set(found))


def overflow(page, *, ignore: str = "") -> list[str]:
    """What sticks out of the viewport or is cut off, outside the elements matching the CSS selector ``ignore``."""
    return page.evaluate(OVERFLOW_JS, ignore or None)


def untranslated(page, language: str, *, allowed: set[str] = frozenset()) -> list[str]:
    return untranslated_texts(page.evaluate(TEXTS_JS), language, allowed=allowed)
