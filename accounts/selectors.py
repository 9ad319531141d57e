"""Reads of the accounts app that more than a page needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import BackupCode, User


@dataclass(frozen=True)
class SecondFactorStatus:
    """What the user page says about a person's second factor."""

    enrolled: bool  # a confirmed authenticator: the admin lets them in
    devices: list[str]  # the confirmed authenticators' names
    pending: int  # authenticators enrolment was started on and never confirmed
    backup_codes_left: int
    last_used: datetime | None  # the last login with an authenticator code or a backup code


def second_factor_status(user: User) -> SecondFactorStatus:
    authenticators = list(
        TOTPDevice.objects.filter(user=user).order_by("pk").values("name", "confirmed", "last_used_at")
    )
    confirmed = [device for device in authenticators if device["confirmed"]]
    codes = BackupCode.objects.filter(device__user=user, device__confirmed=True).aggregate(
        last_used=Max("used_at"), left=Count("pk", filter=Q(used_at__isnull=True))
    )
    left = codes["left"]
    used = [device["last_used_at"] for device in confirmed if device["last_used_at"]]
    if codes["last_used"]:
        used.append(codes["last_used"])
    return SecondFactorStatus(
        enrolled=bool(confirmed),
        devices=[device["name"] for device in confirmed],
        pending=len(authenticators) - len(confirmed),
        backup_codes_left=left,
        last_used=max(used) if used else None,
    )
