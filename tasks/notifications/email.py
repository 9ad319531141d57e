"""Alerts by e-mail through Django's configured e-mail backend, one message per person.

Each staff member with an e-mail address receives the kinds of alert their
role acts on (``tasks.models.AUDIENCES``) at the places they work at
(``User.locations``); the administrator works at every place.
"""

from __future__ import annotations

import smtplib

from django.core.mail import EmailMessage

from accounts.models import User
from accounts.roles import Role

from ..models import AUDIENCES
from .base import Audience, Channel, DeliveryError


class EmailChannel(Channel):
    name = "email"

    def audiences(self) -> list[Audience]:
        # One statement: a row per person and place (the administrator's row has no place).
        rows = (
            User.objects.filter(is_active=True, role__in=list(AUDIENCES))
            .exclude(email="")
            .order_by("email", "role")
            .values_list("email", "role", "locations__id")
        )
        places: dict[tuple[str, str], set[int]] = {}
        for email, role, location_id in rows:
            ids = places.setdefault((email, role), set())
            if location_id is not None:
                ids.add(location_id)
        audiences = []
        for (email, role), location_ids in places.items():
            if role == Role.ADMIN:
                audiences.append(Audience(email, AUDIENCES[role], None))
            elif location_ids:
                audiences.append(Audience(email, AUDIENCES[role], frozenset(location_ids)))
        return audiences

    def send(self, *, target: str, subject: str, text: str) -> None:
        try:
            EmailMessage(subject=subject, body=text, to=[target]).send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"address refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"e-mail not sent: {exc}") from exc
