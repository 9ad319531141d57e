"""Background work of the accounts app: SMS delivery and the auth clean-up."""

import logging

from celery import shared_task
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from .services.otp import otp_flush, otp_sms_send
from .sms import SmsTemporaryError, get_backend

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(SmsTemporaryError,),
    retry_backoff=5,  # 5 s, 10 s, 20 s... with jitter
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def sms_send(self, *, phone: str, text: str, message_id: str) -> str:
    """Send one SMS with the text given (one-time codes go through ``sms_send_code``).

    Temporary failures (timeouts, 5xx) are retried with back-off; a refusal
    (bad credentials, bad number) is logged and not retried.
    """
    return get_backend().send(phone=phone, text=text, message_id=message_id)


@shared_task(
    bind=True,
    autoretry_for=(SmsTemporaryError,),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def sms_send_code(self, *, code_id: int) -> str | None:
    """Send the SMS of one-time code ``code_id``: the message carries its id, never the code.

    Queued with ``expires`` at the code's expiry; one that runs later anyway
    (a retry, a slow queue) finds the code dead and sends nothing.
    """
    return otp_sms_send(code_id=code_id)


@shared_task
def auth_cleanup() -> dict[str, int]:
    """Flush one-time codes older than a day and expired refresh tokens.

    Idempotent; run it hourly or daily. Blacklist rows go with their
    outstanding token (cascade), so an expired token stops taking room.
    """
    codes = otp_flush()
    _total, by_model = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).delete()
    tokens = by_model.get(OutstandingToken._meta.label, 0)
    result = {"codes": codes, "tokens": tokens}
    logger.info("auth_cleanup: %s", result)
    return result
