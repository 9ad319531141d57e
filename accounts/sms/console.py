import logging

from .base import SmsBackend

logger = logging.getLogger("accounts.sms")


class ConsoleBackend(SmsBackend):
    """Writes the message to the log instead of sending it (make run, tests)."""

    name = "console"

    def send(self, *, phone: str, text: str, message_id: str) -> str:
        logger.info("SMS to %s [%s]: %s", phone, message_id, text)
        return message_id
