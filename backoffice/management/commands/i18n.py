"""Extract and check the interface's translations (Uzbek Latin, Russian).

    manage.py i18n extract   # refresh locale/{uz,ru}/LC_MESSAGES/django.po, then compile .mo
    manage.py i18n check     # fail if any string of the code or templates lacks a translation

The catalogues in ``locale/`` cover the project's own strings and those of
the admin packages whose screens staff see but which ship no Uzbek (or no
Russian) translation of their own, above all Unfold: their sources are
linked in for the extraction only, so one pair of files holds every string
of the interface. ``check`` extracts into a scratch copy of the project and
compares, so it never touches the working tree.

Django's own strings that its catalogues leave untranslated or word badly
(Uzbek password rules, Russian cases) are listed in ``backoffice/django_strings.py``
so that the extraction keeps them; the few of Django's admin scripts live in
``locale/<language>/LC_MESSAGES/djangojs.po``, kept by hand and compiled here too.
What the pages really show is checked in a browser by
``backoffice/tests/test_browser_phone_and_language.py``.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

LANGUAGES = ["uz", "ru"]
# Packages whose admin screens staff use and whose strings we translate ourselves.
THIRD_PARTY = ["unfold", "django_otp", "import_export", "simple_history", "axes", "django_celery_beat"]
LINK_DIR = "i18n_third_party"
IGNORE = [
    ".venv",
    "bench",
    "media",
    "staticfiles",
    "docs",
    "scripts",
    "fixtures",
    "node_modules",
    "*/tests/*",
    "*/migrations/*",
    "tests",
]
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "media",
    "staticfiles",
    "docs",
    "__pycache__",
    "*.sqlite3*",
    ".pytest_cache",
    ".ruff_cache",
    LINK_DIR,
)


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr(s), flags; obsolete ones skipped."""
    entries, current, key = [], None, None

    def flush():
        if current is not None and current.get("msgid", "") != "":
            entries.append(current)

    def unquote(text: str) -> str:
        return bytes(text.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~") or not line:
            if not line and current is not None:
                flush()
                current, key = None, None
            continue
        if line.startswith("#,"):
            if current is None:
                current = {"flags": set(), "msgstr": {}}
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if current is None:
            current = {"flags": set(), "msgstr": {}}
        for field in ("msgctxt", "msgid_plural", "msgid"):
            if line.startswith(field + " "):
                key = field
                current[field] = unquote(line[len(field) :])
                break
        else:
            if line.startswith("msgstr"):
                index = line[6 : line.index(" ")].strip("[]") or "0"
                key = ("msgstr", index)
                current["msgstr"][index] = unquote(line[line.index(" ") :])
            elif line.startswith('"') and key is not None:
                if isinstance(key, tuple):
                    current["msgstr"][key[1]] += unquote(line)
                else:
                    current[key] += unquote(line)
    flush()
    return entries


def untranslated(path: Path) -> list[str]:
    missing = []
    for entry in parse_po(path):
        if "fuzzy" in entry["flags"] or not entry["msgstr"] or not all(entry["msgstr"].values()):
            missing.append(entry["msgid"])
    return missing


class Command(BaseCommand):
    help = "Extract (and compile) or check the uz/ru translations of the interface."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["extract", "check"])

    def handle(self, *args, action: str, **options):
        root = Path(settings.BASE_DIR)
        if action == "extract":
            self._extract(root)
            return
        self._check(root)

    def _extract(self, root: Path) -> None:
        link_root = root / LINK_DIR
        link_root.mkdir(exist_ok=True)
        try:
            for package in THIRD_PARTY:
                spec = importlib.util.find_spec(package)
                source = Path(spec.origin).parent
                (link_root / package).symlink_to(source, target_is_directory=True)
            os.chdir(root)
            call_command(
                "makemessages",
                locale=LANGUAGES,
                ignore_patterns=IGNORE,
                symlinks=True,
                add_location="file",
                no_obsolete=True,
                verbosity=0,
            )
        finally:
            shutil.rmtree(link_root, ignore_errors=True)
        call_command("compilemessages", locale=LANGUAGES, ignore_patterns=[".venv"], verbosity=0)
        for language in LANGUAGES:
            po = root / "locale" / language / "LC_MESSAGES" / "django.po"
            self.stdout.write(f"{language}: {len(parse_po(po))} strings, {len(untranslated(po))} untranslated")

    def _check(self, root: Path) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "project"
            shutil.copytree(root, copy, ignore=COPY_IGNORE, symlinks=True)
            result = subprocess.run(
                [sys.executable, "manage.py", "i18n", "extract"],
                cwd=copy,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings.local", "DATABASE_URL": "sqlite://"},
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0:
                raise CommandError(f"Extraction failed:\n{result.stdout}\n{result.stderr}")
            problems = []
            for language in LANGUAGES:
                missing = untranslated(copy / "locale" / language / "LC_MESSAGES" / "django.po")
                problems += [f"{language}: {msgid!r}" for msgid in missing]
        if problems:
            shown = "\n".join(problems[:200])
            raise CommandError(f"{len(problems)} strings lack a translation:\n{shown}")
        self.stdout.write("Every string of the interface is translated into uz and ru.")
