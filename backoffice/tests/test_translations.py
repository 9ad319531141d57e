"""The interface ships complete in Uzbek (Latin) and Russian."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from backoffice.management.commands.i18n import LANGUAGES, parse_po

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.mark.slow
def test_every_string_of_the_code_and_templates_has_a_uz_and_ru_translation(capsys):
    # Extracts afresh from the code and templates (in a scratch copy) and
    # compares with the shipped catalogues: a new string without a
    # translation fails here.
    call_command("i18n", "check")
    assert "Every string of the interface is translated" in capsys.readouterr().out


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_catalogue_is_compiled_and_current(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert mo.exists()
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1, "run `manage.py i18n extract` to compile"


def test_uzbek_uses_the_turned_comma_in_o_and_g():
    # Uzbek Latin writes oʻ and gʻ with U+02BB, not an apostrophe or a backtick.
    wrong = re.compile(r"[oOgG][`'‘’]")
    offenders = [
        entry["msgid"]
        for entry in parse_po(LOCALE / "uz" / "LC_MESSAGES" / "django.po")
        for text in entry["msgstr"].values()
        if wrong.search(text)
    ]
    assert offenders == []


def test_the_admin_speaks_the_chosen_language():
    with translation.override("ru"):
        assert translation.gettext("Medicines") != "Medicines"
    with translation.override("uz"):
        assert translation.gettext("Medicines") != "Medicines"


# The user's fields that come from django.contrib.auth: Django's own catalogue names them.
DJANGO_AUTH_FIELDS = {"password", "last_login", "is_superuser", "groups", "user_permissions"}


def _shown_names():
    """Every field name and choice label of the project's models, as the admin and history pages show them."""
    from django.apps import apps

    for app in ("accounts", "catalog", "tasks"):
        for model in apps.get_app_config(app).get_models():
            if (
                model.__name__.startswith("Historical")
                or model.__module__.startswith("accounts.models")
                and (model.__name__.startswith(("BackupCode", "PhoneCode")))
            ):
                continue
            for field in model._meta.get_fields():
                if not getattr(field, "concrete", False) or field.primary_key or not getattr(field, "editable", True):
                    continue
                if model.__name__ == "User" and field.name in DJANGO_AUTH_FIELDS:
                    continue
                yield f"{model.__name__}.{field.name}", field.verbose_name
                for value, label in getattr(field, "flatchoices", None) or []:
                    if str(label) != str(value) or not str(value).isascii() or str(value).isalpha():
                        yield f"{model.__name__}.{field.name}={value}", label


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_name_and_choice_of_the_models_is_translated(language):
    # Units of strength (mg, %) read the same in every language: they are labels, not words.
    # Some words are the same in Uzbek (Operator, Administrator, gel, import, format), and a checksum is a checksum.
    same_everywhere = {"mg", "g", "mcg", "IU", "%", "mg/ml", "SKU", "SHA-256"}
    if language == "uz":
        same_everywhere |= {"Operator", "Administrator", "Gel", "import", "format"}
    untranslated = []
    for where, text in _shown_names():
        if str(text) in same_everywhere:
            continue
        with translation.override(language):
            shown = str(text)
        with translation.override("en"):
            english = str(text)
        if shown == english:
            untranslated.append(where)
    assert untranslated == []


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, 0), (21, 0), (101, 0), (2, 1), (3, 1), (22, 1), (5, 2), (11, 2), (12, 2), (25, 2)],
)
def test_russian_plurals_take_the_form_of_the_number(count, form):
    # One, few, many: 1 and 21 "упаковка", 2 and 22 "упаковки", 5, 11 and 12 "упаковок".
    plurals = [e for e in parse_po(LOCALE / "ru" / "LC_MESSAGES" / "django.po") if "msgid_plural" in e]
    assert plurals
    with translation.override("ru"):
        for entry in plurals:
            assert all(entry["msgstr"].values()), entry["msgid"]
            if "msgctxt" in entry:
                shown = translation.npgettext(entry["msgctxt"], entry["msgid"], entry["msgid_plural"], count)
            else:
                shown = translation.ngettext(entry["msgid"], entry["msgid_plural"], count)
            assert shown == entry["msgstr"][str(form)], (entry["msgid"], count)


def test_uzbek_puts_no_plural_after_a_number_and_joins_no_suffix_to_a_placeholder():
    # "3 ta import", never "3 import jurnallari"; "SKU-ni", never "%(name)s ni" nor "“%(name)s” ni".
    detached = re.compile(r"(%\([a-z_]+\)s|%s|[”\"»]) (ni|ning|ga|da|dan|lar|larni)\b")
    offenders = [
        entry["msgid"]
        for entry in parse_po(LOCALE / "uz" / "LC_MESSAGES" / "django.po")
        for text in entry["msgstr"].values()
        if detached.search(text) or re.search(r"(?<!\.)\.\.$", text)
    ]
    assert offenders == []
