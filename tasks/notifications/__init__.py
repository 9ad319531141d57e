"""Pluggable notification channels.

A channel has a ``name``, ``audiences() -> list[Audience]`` (who receives
which kinds of alert on it, for which places) and ``send(*, target, subject,
text)``, which raises ``DeliveryError`` (``permanent`` or with a
``retry_after``) on failure. ``CHANNELS`` maps the names in ``settings.ALERT_CHANNELS`` to their
classes; add one here to add a channel.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Audience, Channel, DeliveryError

CHANNELS: dict[str, str] = {
    "email": "tasks.notifications.email.EmailChannel",
    "telegram": "tasks.notifications.telegram.TelegramChannel",
}


def enabled_channels() -> list[Channel]:
    return [import_string(CHANNELS[name])() for name in settings.ALERT_CHANNELS]


__all__ = ["CHANNELS", "Audience", "Channel", "DeliveryError", "enabled_channels"]
