"""Alerts by e-mail through Django's configured e-mail backend, one message per person."""

from __future__ import annotations

import smtplib

from django.core.mail import EmailMessage

from accounts.models import User

from .base import Channel, DeliveryError


class EmailChannel(Channel):
    name = "email"

    def targets(self, role: str) -> list[str]:
        emails = (
            User.objects.filter(role=role, is_active=True)
            .exclude(email="")
            .order_by("email")
            .values_list("email", flat=True)
            .distinct()
        )
        return list(emails)

    def send(self, *, target: str, subject: str, text: str) -> None:
        try:
            EmailMessage(subject=subject, body=text, to=[target]).send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"address refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"e-mail not sent: {exc}") from exc
