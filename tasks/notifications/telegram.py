"""Alerts by Telegram: the Bot API's ``sendMessage``.

Token and chat ids per staff role come from settings (TELEGRAM_BOT_TOKEN,
TELEGRAM_CHAT_IDS); TELEGRAM_API_BASE is the API's address (tests point it
at a local server). The API answers ``{"ok": true, "result": {...}}``; on
flood control it answers 429 with ``parameters.retry_after`` seconds.
"""

from __future__ import annotations

import requests
from django.conf import settings

from .base import Channel, DeliveryError

# sendMessage takes at most 4096 characters of text.
MAX_TEXT = 4096
TIMEOUT_SECONDS = 10


class TelegramChannel(Channel):
    name = "telegram"

    def targets(self, role: str) -> list[str]:
        if not settings.TELEGRAM_BOT_TOKEN:
            return []
        chat_ids = settings.TELEGRAM_CHAT_IDS.get(str(role), [])
        if isinstance(chat_ids, str | int):
            chat_ids = [chat_ids]
        return [str(chat_id) for chat_id in chat_ids]

    def send(self, *, target: str, subject: str, text: str) -> None:
        body = f"{subject}\n\n{text}"
        if len(body) > MAX_TEXT:
            body = body[: MAX_TEXT - 1] + "…"
        url = f"{settings.TELEGRAM_API_BASE.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
        try:
            response = requests.post(
                url,
                json={"chat_id": target, "text": body, "disable_web_page_preview": True},
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"Telegram unreachable: {exc.__class__.__name__}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code == 200 and payload.get("ok"):
            return
        description = payload.get("description") or response.reason
        if response.status_code == 429:
            retry_after = (payload.get("parameters") or {}).get("retry_after")
            raise DeliveryError(f"Telegram flood control: {description}", retry_after=retry_after)
        if response.status_code >= 500:
            raise DeliveryError(f"Telegram server error {response.status_code}: {description}")
        # 400 chat not found, 401 bad token, 403 bot blocked: retrying will not help.
        raise DeliveryError(f"Telegram refused ({response.status_code}): {description}", permanent=True)
