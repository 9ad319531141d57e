"""The language of a request: the admin's choice for people, the header alone for the APIs.

Django's ``LocaleMiddleware`` prefers the ``django_language`` cookie (set by
the admin's language menu) to ``Accept-Language``. The catalogue API's answers
are ``public`` and say ``Vary: Accept-Language``, so a shared cache keeps one
copy per header value: a cookie that changed the body would let one visitor's
language be served to the next, and the API's own response cache (keyed by the
active language) would disagree with what a proxy keyed by the header holds.
Under ``API_PATH_PREFIXES`` the language therefore comes from
``Accept-Language`` only, falling back to ``LANGUAGE_CODE``; everywhere else
Django's rules apply unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.translation.trans_real import language_code_re, parse_accept_lang_header

API_PATH_PREFIXES = ("/api/",)


def language_from_accept_language(request: HttpRequest) -> str:
    """The supported language ``Accept-Language`` asks for first, else ``LANGUAGE_CODE``.

    The header half of ``django.utils.translation.get_language_from_request``,
    without the cookie (and without the URL prefix, which no API uses).
    """
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        if not language_code_re.search(code):
            continue
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(API_PATH_PREFIXES):
            translation.activate(language_from_accept_language(request))
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)
