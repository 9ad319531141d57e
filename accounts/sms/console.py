import logging

from .base import SmsBackend

logger = logging.getLogger("accounts.sms")

# Every message the console backend "sent", like django.core.mail.outbox: tests read codes here.
outbox: list[dict[str, str]] = []


class ConsoleBackend(SmsBackend):
    """Writes the message to the log instead of sending it (make run, tests)."""

    name = "console"

    def send(self, *, phone: str, text: str, message_id: str) -> str:
        logger.info("SMS to %s [%s]: %s", phone, message_id, text)
        outbox.append({"phone": phone, "text": text, "message_id": message_id})
        return message_id
