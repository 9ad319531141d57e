"""The periodic schedules (django-celery-beat), in one place, with their meaning in words.

Times are Asia/Tashkent wall-clock. They are created after every
``migrate`` (and by ``manage.py setup_schedules``) when missing; changes
made in the admin are kept unless ``setup_schedules --reset`` is run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

TIMEZONE = "Asia/Tashkent"


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str
    hour: str
    description: str


SCHEDULES: list[Schedule] = [
    Schedule(
        "Expired-lot sweep",
        "tasks.sweep_expired_lots",
        minute="5",
        hour="0",
        description="Every day at 00:05: lots whose expiry date has come stop being sellable.",
    ),
    Schedule(
        "Token and OTP clean-up",
        "accounts.tasks.auth_cleanup",
        minute="30",
        hour="3",
        description="Every day at 03:30, the quietest hour: expired tokens and one-time codes are deleted.",
    ),
    Schedule(
        "Expiry scan",
        "tasks.scan_expiry",
        minute="0",
        hour="6",
        description="Every day at 06:00, before the pharmacy opens: lots entering the 180/90/30-day windows.",
    ),
    Schedule(
        "Daily alert digest",
        "tasks.daily_digest",
        minute="30",
        hour="7",
        description="Every day at 07:30, after the morning scans: open alerts to pharmacists and inventory staff.",
    ),
    Schedule(
        "Stock value for the owner's dashboard",
        "backoffice.keep_stock_value",
        minute="*/5",
        hour="*",
        description="Every five minutes: every place's stock value by expiry date, which the owner's dashboard reads.",
    ),
    Schedule(
        "Low-stock scan",
        "tasks.scan_low_stock",
        minute="15",
        hour="*",
        description="Every hour at a quarter past: medicines at or below their reorder level, or out of stock.",
    ),
]


@transaction.atomic
def schedules_ensure(*, reset: bool = False) -> list[str]:
    """Create the missing schedules (all of them with ``reset``); returns the names written."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    written = []
    for schedule in SCHEDULES:
        existing = PeriodicTask.objects.filter(name=schedule.name).first()
        if existing and not reset:
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=schedule.minute,
            hour=schedule.hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.update_or_create(
            name=schedule.name,
            defaults={
                "task": schedule.task,
                "crontab": crontab,
                "interval": None,
                "clocked": None,
                "solar": None,
                "enabled": True,
                "description": schedule.description,
            },
        )
        written.append(schedule.name)
    return written
