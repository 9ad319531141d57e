"""Alerts by Telegram: the Bot API's ``sendMessage``.

The token comes from TELEGRAM_BOT_TOKEN; TELEGRAM_API_BASE is the API's
address (tests point it at a local server). TELEGRAM_CHAT_IDS names the chats
per staff role, for every place or per place::

    {"pharmacist": ["-1001"],                                  # every place's expiry alerts
     "inventory": {"chilonzor": ["-1002"], "sklad": ["-1003"]},  # each place's stock alerts to its chat
     "admin": ["-1009"]}                                       # every alert of every place

(place codes are ``Location.code``). The API answers ``{"ok": true, "result":
{...}}``; on flood control it answers 429 with ``parameters.retry_after`` seconds.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings

from catalog.models import Location

from ..models import AUDIENCES
from .base import Audience, Channel, DeliveryError

logger = logging.getLogger(__name__)

# sendMessage takes at most 4096 characters of text.
MAX_TEXT = 4096
TIMEOUT_SECONDS = 10


def _chat_list(value) -> list[str]:
    if isinstance(value, str | int):
        value = [value]
    return [str(chat_id) for chat_id in value or []]


class TelegramChannel(Channel):
    name = "telegram"

    def audiences(self) -> list[Audience]:
        if not settings.TELEGRAM_BOT_TOKEN:
            return []
        configured = settings.TELEGRAM_CHAT_IDS or {}
        codes = {code for value in configured.values() if isinstance(value, dict) for code in value}
        place_ids = dict(Location.objects.filter(code__in=codes).values_list("code", "pk")) if codes else {}
        # (chat, role) -> the places it receives (None: every place).
        chats: dict[tuple[str, str], set[int] | None] = {}
        for role in AUDIENCES:
            value = configured.get(str(role))
            if isinstance(value, dict):
                for code, chat_ids in value.items():
                    if code not in place_ids:
                        logger.warning("TELEGRAM_CHAT_IDS names an unknown place %r for %s: skipped", code, role)
                        continue
                    for chat_id in _chat_list(chat_ids):
                        places = chats.setdefault((chat_id, role), set())
                        if places is not None:
                            places.add(place_ids[code])
            else:
                for chat_id in _chat_list(value):
                    chats[(chat_id, role)] = None
        return [
            Audience(chat_id, AUDIENCES[role], None if places is None else frozenset(places))
            for (chat_id, role), places in chats.items()
        ]

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
