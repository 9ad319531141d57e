"""Django's own strings that staff read and that Django's catalogues leave untranslated or word badly.

Django ships no Uzbek for its password rules, the password hash summary or
the admin's selection counter, and its Russian puts a model's name in the
nominative after «Добавить еще один». Listing the strings here makes
``manage.py i18n extract`` keep them in ``locale/``, whose translations
take precedence over Django's (``LOCALE_PATHS`` is read last). Nothing
imports this module: it exists to be read by the extraction.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

ADMIN = [
    gettext_noop("No action selected."),
    gettext_noop("Items must be selected in order to perform actions on them. No items have been changed."),
    gettext_noop("0 of %(cnt)s selected"),
    gettext_noop("Add %s"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Delete selected %(verbose_name_plural)s"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
]
ADMIN_PLURALS = [
    ngettext_lazy("%(total_count)s selected", "All %(total_count)s selected", "total_count"),
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.", "%(count)s %(name)s were changed successfully.", "count"
    ),
]

# The password hash summary on a user's page (django.contrib.auth.hashers, PBKDF2 and Argon2).
PASSWORD_HASH_SUMMARY = [
    gettext_noop("algorithm"),
    gettext_noop("iterations"),
    gettext_noop("salt"),
    gettext_noop("hash"),
    gettext_noop("variety"),
    gettext_noop("version"),
    gettext_noop("memory cost"),
    gettext_noop("time cost"),
    gettext_noop("parallelism"),
    gettext_noop("work factor"),
    gettext_noop("checksum"),
]

# The password rules of AUTH_PASSWORD_VALIDATORS: their help texts and their refusals.
PASSWORD_RULES = [
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("This password is too common."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop("This password is entirely numeric."),
    gettext_noop("Enter the same password as before, for verification."),
]
PASSWORD_RULES_PLURALS = [
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
