"""Play Mobile (smsxabar.uz broker API).

``POST /broker-api/send`` with HTTP Basic auth and a JSON body
``{"messages": [{"recipient": "998XXXXXXXXX", "message-id": ..., "sms":
{"originator": ..., "content": {"text": ...}}}]}``. A 200 answer means the
broker accepted it; errors come as 4xx with ``error-code`` and
``error-description``. ``message-id`` is ours and unique per message, so a
retried send is recognised by the broker as the same message.
"""

from django.conf import settings

from .base import HttpBackend, SmsError, msisdn


class PlayMobileBackend(HttpBackend):
    name = "playmobile"

    def __init__(self, *, base_url=None, login=None, password=None, originator=None, timeout=None):
        super().__init__(timeout=timeout)
        self.base_url = (base_url or settings.PLAYMOBILE_BASE_URL).rstrip("/")
        self.auth = (
            login if login is not None else settings.PLAYMOBILE_LOGIN,
            password if password is not None else settings.PLAYMOBILE_PASSWORD,
        )
        self.originator = originator if originator is not None else settings.PLAYMOBILE_ORIGINATOR

    def send(self, *, phone: str, text: str, message_id: str) -> str:
        body = {
            "messages": [
                {
                    "recipient": msisdn(phone),
                    "message-id": message_id,
                    "sms": {"originator": self.originator, "content": {"text": text}},
                }
            ]
        }
        response = self.request("POST", f"{self.base_url}/broker-api/send", json=body, auth=self.auth)
        if response.status_code != 200:
            raise SmsError(f"playmobile: send refused (HTTP {response.status_code}): {response.text[:200]}")
        return message_id
