"""Glue between the login form and django-axes."""

from django.core.exceptions import ValidationError

from .phone import PHONE_INPUT_MAX_LENGTH, normalize_phone


def axes_username(request, credentials) -> str:
    """The phone as stored, so "90 123 45 67" and "+998901234567" count as one user."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    try:
        return normalize_phone(raw)
    except ValidationError:
        return str(raw)[:PHONE_INPUT_MAX_LENGTH]
