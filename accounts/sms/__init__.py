"""Sending SMS through one small interface; the gateway is chosen by ``SMS_BACKEND``.

``get_backend().send(phone=..., text=..., message_id=...)`` returns the
provider's message id or raises ``SmsError`` (``SmsTemporaryError`` when a
retry may succeed: timeouts, connection errors, 5xx).
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import SmsBackend, SmsError, SmsTemporaryError

BACKENDS = {
    "console": "accounts.sms.console.ConsoleBackend",
    "eskiz": "accounts.sms.eskiz.EskizBackend",
    "playmobile": "accounts.sms.playmobile.PlayMobileBackend",
}


def get_backend(name: str | None = None) -> SmsBackend:
    return import_string(BACKENDS[name or settings.SMS_BACKEND])()


__all__ = ["SmsBackend", "SmsError", "SmsTemporaryError", "get_backend"]
