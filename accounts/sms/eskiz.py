"""Eskiz (notify.eskiz.uz).

Log in with the cabinet's e-mail and password (``POST /api/auth/login``, form
fields ``email``, ``password``; answer ``{"message": "token_generated",
"data": {"token": ...}}``), then send with a bearer token
(``POST /api/message/sms/send``, form fields ``mobile_phone`` as 998XXXXXXXXX,
``message``, ``from``; answer ``{"id": ..., "status": "waiting", ...}``).
The token lasts about a month and is answered with 401 once stale: log in
again and repeat the send once. Eskiz delivers only texts approved in the
cabinet, hence the single ``SMS_CODE_TEMPLATE``.
"""

from django.conf import settings
from django.core.cache import cache

from .base import HttpBackend, SmsError, msisdn

TOKEN_CACHE_KEY = "sms:eskiz:token"
TOKEN_CACHE_SECONDS = 25 * 24 * 3600


class EskizBackend(HttpBackend):
    name = "eskiz"

    def __init__(self, *, base_url=None, email=None, password=None, sender=None, timeout=None):
        super().__init__(timeout=timeout)
        self.base_url = (base_url or settings.ESKIZ_BASE_URL).rstrip("/")
        self.email = email if email is not None else settings.ESKIZ_EMAIL
        self.password = password if password is not None else settings.ESKIZ_PASSWORD
        self.sender = sender if sender is not None else settings.ESKIZ_FROM

    def login(self) -> str:
        response = self.request(
            "POST", f"{self.base_url}/api/auth/login", data={"email": self.email, "password": self.password}
        )
        if response.status_code != 200:
            raise SmsError(f"eskiz: login refused (HTTP {response.status_code})")
        try:
            token = response.json()["data"]["token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsError("eskiz: login answer has no token") from exc
        # Shared by every worker, so each does not log in on its own.
        cache.set(TOKEN_CACHE_KEY, token, TOKEN_CACHE_SECONDS)
        return token

    def _send_once(self, token: str, *, phone: str, text: str):
        return self.request(
            "POST",
            f"{self.base_url}/api/message/sms/send",
            headers={"Authorization": f"Bearer {token}"},
            data={"mobile_phone": msisdn(phone), "message": text, "from": self.sender},
        )

    def send(self, *, phone: str, text: str, message_id: str) -> str:
        token = cache.get(TOKEN_CACHE_KEY) or self.login()
        response = self._send_once(token, phone=phone, text=text)
        if response.status_code == 401:
            response = self._send_once(self.login(), phone=phone, text=text)
        if response.status_code != 200:
            raise SmsError(f"eskiz: send refused (HTTP {response.status_code}): {response.text[:200]}")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsError("eskiz: send answer has no id") from exc
