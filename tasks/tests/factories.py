"""Factories for alert tests.

Stock goes through the stock core (``catalog.tests.factories.receive`` and
``catalog.stock``); alerts are made directly only where a test needs one the
scans would not produce.
"""

import datetime

import factory
import time_machine
from django.utils import timezone

from catalog.models import MedicineStock
from catalog.tests.factories import main_location
from tasks.models import Alert, AlertKind, Severity


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


# Lots past their date cannot be received: tests receive them ahead of time and
# look at them LATER days on (``later()``), when their date has come.
LATER = 40


def later(days: int = LATER):
    """Travel ``days`` ahead (time frozen there): lots received today are that much nearer their date."""
    return time_machine.travel(timezone.now() + datetime.timedelta(days=days), tick=False)


def set_reorder_level_here(medicine, location, level: int | None) -> None:
    """A place's own reorder level for ``medicine`` (its row exists once it held a lot there).

    A person's setting, not a derived column; written directly until the
    catalogue has a service for it.
    """
    updated = MedicineStock.objects.filter(medicine=medicine, location=location).update(reorder_level=level)
    assert updated == 1, "the place holds no stock of this medicine yet"


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = AlertKind.OUT_OF_STOCK
    severity = Severity.CRITICAL
    medicine = factory.SubFactory("catalog.tests.factories.MedicineFactory")
    lot = None
    location = factory.LazyFunction(main_location)
    window = 0
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)
