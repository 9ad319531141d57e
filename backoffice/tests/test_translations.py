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
