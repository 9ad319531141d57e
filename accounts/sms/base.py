import re

import requests


class SmsError(Exception):
    """The gateway refused the message; retrying will not help.

    An infrastructure failure (the SMS provider's answer), not a domain error: the send task logs it."""


class SmsTemporaryError(SmsError):
    """Timeout, connection failure or a 5xx answer: worth retrying later."""


class SmsBackend:
    name = "base"

    def send(self, *, phone: str, text: str, message_id: str) -> str:
        raise NotImplementedError


def msisdn(phone: str) -> str:
    """``+998901234567`` -> ``998901234567``: what Uzbek gateways expect."""
    return re.sub(r"\D", "", phone)


class HttpBackend(SmsBackend):
    """Shared HTTP plumbing: one session, a timeout on every call, errors sorted."""

    def __init__(self, *, timeout: float | None = None):
        from django.conf import settings

        self.timeout = timeout if timeout is not None else settings.SMS_TIMEOUT_SECONDS
        self.session = requests.Session()

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SmsTemporaryError(f"{self.name}: {exc.__class__.__name__} on {url}") from exc
        if response.status_code >= 500:
            raise SmsTemporaryError(f"{self.name}: HTTP {response.status_code} on {url}")
        return response
