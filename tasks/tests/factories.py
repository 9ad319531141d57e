"""Factories for alert tests.

Lots are made directly (quantity set) so that scans can be tested on many
lots quickly; stock changes that matter to a test go through catalog.services.
"""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Lot, LotStatus
from catalog.tests.factories import MedicineFactory
from tasks.models import Alert, AlertKind, Severity


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    medicine = factory.SubFactory(MedicineFactory)
    lot_number = factory.Sequence(lambda n: f"T{n:06d}")
    expiry_date = factory.LazyFunction(lambda: in_days(400))
    received_date = factory.LazyFunction(lambda: in_days(-30))
    quantity = 50
    purchase_price = Decimal("5000")
    status = LotStatus.AVAILABLE


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    kind = AlertKind.OUT_OF_STOCK
    severity = Severity.CRITICAL
    medicine = factory.SubFactory(MedicineFactory)
    lot = None
    window = 0
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)


def lots_expiring(medicine, days_list, **kwargs) -> list[Lot]:
    return [LotFactory(medicine=medicine, expiry_date=in_days(d), **kwargs) for d in days_list]
