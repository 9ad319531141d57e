"""One-time SMS codes: issue, verify, flush.

Rules (settings in ``backoffice/settings/base.py``, section "Customer sign-up codes"):

- 6 digits from ``secrets``; only an HMAC-SHA256 of phone, purpose and code
  (keyed with ``SECRET_KEY``) is stored, so a database dump reveals no code;
- the SMS text waits for the send task in the code's row, encrypted with a key
  derived from ``SECRET_KEY`` (AES-GCM), and is dropped once sent. The queue
  message carries only the code's id and expires with the code, and a task that
  runs after the code expired sends nothing. (Whoever has ``SECRET_KEY`` could
  already try the million codes against the HMAC, so the key adds no exposure;
  a plaintext in the broker, or in the cache, would sit in Redis and its dumps.)
- a code lives ``OTP_CODE_TTL`` (2 minutes) and serves one purpose for one
  phone (and, for a phone change, one user);
- ``OTP_MAX_ATTEMPTS`` (5) wrong tries kill it; comparison is constant-time;
- a new code for a phone waits ``OTP_RESEND_COOLDOWN`` (60 s) after the last one,
  whatever its purpose;
- at most ``OTP_HOURLY_LIMIT`` codes of one purpose go to one phone in an hour and
  ``OTP_DAILY_LIMIT`` in 24 hours *at the request of one client* (its network,
  ``backoffice.client_ip.client_network``: an IPv4 address or an IPv6 /64).
  The caps count codes issued, never refused requests, and each purpose and
  each client on its own: a stranger who asks for codes of a number, for any
  purpose, uses up only their own caps, and holds the owner back by the
  cooldown at most. The cooldown, phone-wide, is what keeps a number from being
  flooded by many clients: one SMS a minute. Codes not sent (``deliver=False``:
  a forgotten password of an unknown number) count against each other only,
  so that they answer like sent ones without ever holding back a code that is
  sent. Codes asked for with no client (``client=None``: commands, rows from
  before clients were recorded) share one bucket of their own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from backoffice.cache import CacheUnavailable, add_or_raise
from backoffice.queue import enqueue

from ..exceptions import (
    CodeCooldown,
    CodeDailyLimit,
    CodeHourlyLimit,
    CodeInvalid,
    CodeLocked,
    ServiceUnavailable,
)
from ..models import PhoneCode, User
from ..sms import get_backend

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
# Seconds a client is asked to wait when Redis is unreachable.
OUTAGE_RETRY_AFTER = 30
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def _code_hash(*, phone: str, purpose: str, code: str) -> str:
    message = f"{phone}|{purpose}|{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


@dataclass(frozen=True)
class IssuedCode:
    phone_code: PhoneCode
    # The code in clear: it exists only here and in the SMS.
    code: str


def otp_issue(
    *,
    phone: str,
    purpose: str,
    user: User | None = None,
    deliver: bool = True,
    signup: dict | None = None,
    template: str | None = None,
    client: str | None,
    now: datetime | None = None,
) -> IssuedCode:
    """Create a fresh code for ``phone`` and ``purpose`` and send it by SMS after commit.

    Earlier live codes of the same phone and purpose stop working. Raises
    ``CodeCooldown``, ``CodeHourlyLimit`` or ``CodeDailyLimit`` (with ``retry_after`` seconds).
    ``deliver=False`` goes through every step but sends nothing: forgot-password
    uses it for unknown numbers so that both answer alike, cooldown included.
    ``signup`` is kept with the code (see ``PhoneCode.signup``); ``template``
    replaces ``SMS_CODE_TEMPLATE`` for a text that carries no code. ``client``
    is the network of the client asking (``backoffice.client_ip.client_network``),
    whose caps the code counts against; None when no request asks.
    """
    now = now or timezone.now()
    # A short mutex per phone: two simultaneous requests must not both pass the
    # cooldown check below and send two SMS.
    lock_key = f"otp:issue:{phone}"
    try:
        acquired = add_or_raise(cache, lock_key, 1, timeout=10)
    except CacheUnavailable as exc:
        # Redis is also the SMS queue: no code could be sent now.
        raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc
    if not acquired:
        raise CodeCooldown(retry_after=_seconds(settings.OTP_RESEND_COOLDOWN))
    try:
        with transaction.atomic():
            # The cooldown looks at every code of the phone: one SMS a minute at most,
            # whoever asks, and sent and unsent codes alike, or the answer would tell
            # them apart. The caps count the codes this client asked for only.
            alike = Q(purpose=purpose, delivered=deliver)
            alike &= Q(requested_from__isnull=True) if client is None else Q(requested_from=client)
            hour = alike & Q(created_at__gt=now - HOUR)
            recent = PhoneCode.objects.filter(phone=phone, created_at__gt=now - DAY).aggregate(
                last=Max("created_at"),
                day_count=Count("pk", filter=alike),
                day_oldest=Min("created_at", filter=alike),
                hour_count=Count("pk", filter=hour),
                hour_oldest=Min("created_at", filter=hour),
            )
            last = recent["last"]
            if last is not None and now - last < settings.OTP_RESEND_COOLDOWN:
                raise CodeCooldown(retry_after=_seconds(last + settings.OTP_RESEND_COOLDOWN - now))
            if recent["day_count"] >= settings.OTP_DAILY_LIMIT:
                raise CodeDailyLimit(retry_after=_seconds(recent["day_oldest"] + DAY - now))
            if recent["hour_count"] >= settings.OTP_HOURLY_LIMIT:
                raise CodeHourlyLimit(retry_after=_seconds(recent["hour_oldest"] + HOUR - now))

            PhoneCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=now).update(
                expires_at=now
            )
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            text = None
            if deliver:
                minutes = max(1, round(settings.OTP_CODE_TTL.total_seconds() / 60))
                text = (template or settings.SMS_CODE_TEMPLATE).format(code=code, minutes=minutes)
            phone_code = PhoneCode.objects.create(
                phone=phone,
                purpose=purpose,
                user=user,
                code_hash=_code_hash(phone=phone, purpose=purpose, code=code),
                created_at=now,
                expires_at=now + settings.OTP_CODE_TTL,
                signup=signup,
                delivered=deliver,
                requested_from=client,
                sms_text=_seal(text, phone=phone, purpose=purpose) if text is not None else None,
            )
            if deliver:
                # Only the id travels through the broker, and the message dies with the code.
                enqueue("accounts.tasks.sms_send_code", code_id=phone_code.pk, expires=phone_code.expires_at)
    finally:
        cache.delete(lock_key)
    return IssuedCode(phone_code=phone_code, code=code)


def _sms_key() -> bytes:
    # The label is the module's old path; it stays, or texts sealed before the move would not open.
    return hmac.new(settings.SECRET_KEY.encode(), b"accounts.otp.sms_text", hashlib.sha256).digest()


def _seal(text: str, *, phone: str, purpose: str) -> bytes:
    nonce = secrets.token_bytes(12)
    # Phone and purpose are authenticated with the text: a sealed text copied to another row will not open.
    return nonce + AESGCM(_sms_key()).encrypt(nonce, text.encode(), f"{phone}|{purpose}".encode())


def _unseal(sealed: bytes, *, phone: str, purpose: str) -> str:
    sealed = bytes(sealed)
    return AESGCM(_sms_key()).decrypt(sealed[:12], sealed[12:], f"{phone}|{purpose}".encode()).decode()


def otp_sms_send(*, code_id: int, now: datetime | None = None) -> str | None:
    """Send the SMS of code ``code_id`` if the code still lives; return the gateway's message id.

    Sends nothing for a code that expired, was used, was replaced or was
    already sent (its text is gone). The text is dropped after sending, so a
    redelivered task does not send twice. Gateway errors propagate (the task
    retries temporary ones while the code lives).
    """
    now = now or timezone.now()
    phone_code = PhoneCode.objects.filter(pk=code_id).first()
    if phone_code is None or phone_code.sms_text is None:
        return None
    if phone_code.used_at is not None or phone_code.expires_at <= now:
        PhoneCode.objects.filter(pk=code_id).update(sms_text=None)
        return None
    text = _unseal(phone_code.sms_text, phone=phone_code.phone, purpose=phone_code.purpose)
    message_id = get_backend().send(phone=phone_code.phone, text=text, message_id=f"otp-{code_id}")
    PhoneCode.objects.filter(pk=code_id).update(sms_text=None)
    return message_id


def otp_verify(
    *, phone: str, purpose: str, code: str, user: User | None = None, now: datetime | None = None
) -> PhoneCode:
    """Consume the live code of ``phone`` for ``purpose`` if ``code`` matches.

    Raises ``CodeInvalid`` (wrong, expired, used or no code) or ``CodeLocked``
    (too many wrong tries). A wrong try is counted in its own transaction, so
    call this outside any outer ``atomic`` block or the count rolls back with it.
    """
    now = now or timezone.now()
    error: type[CodeInvalid] | type[CodeLocked] | None = None
    with transaction.atomic():
        candidates = PhoneCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True)
        if user is not None:
            candidates = candidates.filter(user=user)
        # Locked so that parallel guesses are all counted against the same row.
        phone_code = candidates.order_by("-created_at").select_for_update().first()
        if phone_code is None or phone_code.expires_at <= now:
            error = CodeInvalid
        elif phone_code.attempts >= settings.OTP_MAX_ATTEMPTS:
            error = CodeLocked
        else:
            expected = _code_hash(phone=phone, purpose=purpose, code=str(code))
            if hmac.compare_digest(expected, phone_code.code_hash):
                PhoneCode.objects.filter(pk=phone_code.pk).update(used_at=now)
                phone_code.used_at = now
            else:
                PhoneCode.objects.filter(pk=phone_code.pk).update(attempts=F("attempts") + 1)
                error = CodeLocked if phone_code.attempts + 1 >= settings.OTP_MAX_ATTEMPTS else CodeInvalid
    if error is not None:
        raise error()
    return phone_code


def otp_flush(*, now: datetime | None = None) -> int:
    """Delete codes older than a day (the daily cap counts the younger ones).

    The client network each code was asked from goes with its row: an address
    is kept no longer than the code it asked for.

    Younger codes that expired keep their row but lose the SMS text a send task
    never came for (the broker was away).
    """
    now = now or timezone.now()
    PhoneCode.objects.filter(sms_text__isnull=False, expires_at__lte=now).update(sms_text=None)
    keep_for = max(DAY, settings.OTP_CODE_TTL)
    deleted, _by_model = PhoneCode.objects.filter(created_at__lt=now - keep_for).delete()
    return deleted
