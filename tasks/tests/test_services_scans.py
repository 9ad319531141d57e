import datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Lot, LotStatus
from catalog.tests.factories import MedicineFactory
from tasks import services
from tasks.models import Alert, AlertKind, Severity
from tasks.tests.factories import AlertFactory, LotFactory, in_days

pytestmark = pytest.mark.django_db

NOON_TASHKENT = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))


def open_alerts(**filters):
    return set(Alert.objects.open().filter(**filters).values_list("kind", "window", "lot_id", "medicine_id"))


def test_each_lot_gets_one_alert_in_the_narrowest_window_it_has_reached():
    medicine = MedicineFactory()
    expired, in_20, in_60, in_150, in_400 = (
        LotFactory(medicine=medicine, expiry_date=in_days(d)) for d in (-3, 20, 60, 150, 400)
    )

    result = services.alerts_scan_expiry()

    assert result.created == 4
    assert open_alerts() == {
        (AlertKind.EXPIRED, 0, expired.pk, medicine.pk),
        (AlertKind.EXPIRY, 30, in_20.pk, medicine.pk),
        (AlertKind.EXPIRY, 90, in_60.pk, medicine.pk),
        (AlertKind.EXPIRY, 180, in_150.pk, medicine.pk),
    }
    severities = dict(Alert.objects.values_list("lot_id", "severity"))
    assert severities == {
        expired.pk: Severity.CRITICAL,
        in_20.pk: Severity.CRITICAL,
        in_60.pk: Severity.WARNING,
        in_150.pk: Severity.INFO,
    }


def test_lots_without_stock_or_on_hold_get_no_expiry_alert():
    LotFactory(expiry_date=in_days(10), quantity=0)
    LotFactory(expiry_date=in_days(10), status=LotStatus.QUARANTINED)
    LotFactory(expiry_date=in_days(10), status=LotStatus.RECALLED)

    services.alerts_scan_expiry()

    assert not Alert.objects.exists()


def test_rerunning_the_scan_opens_no_duplicate_and_moves_last_seen_on():
    LotFactory(expiry_date=in_days(20))
    with time_machine.travel(NOON_TASHKENT - datetime.timedelta(hours=1), tick=False):
        LotFactory(expiry_date=datetime.date(2026, 3, 20))
        services.alerts_scan_expiry()
        first = Alert.objects.get(lot__expiry_date=datetime.date(2026, 3, 20))

    with time_machine.travel(NOON_TASHKENT, tick=False):
        again = services.alerts_scan_expiry()

    first.refresh_from_db()
    assert again.created == 0
    assert Alert.objects.filter(lot=first.lot).count() == 1
    assert first.last_seen == NOON_TASHKENT
    assert first.first_seen == NOON_TASHKENT - datetime.timedelta(hours=1)


def test_a_lot_entering_a_narrower_window_resolves_the_wider_alert_and_opens_a_critical_one():
    with time_machine.travel(NOON_TASHKENT, tick=False):
        lot = LotFactory(expiry_date=datetime.date(2026, 3, 2) + datetime.timedelta(days=35))
        services.alerts_scan_expiry()
    with time_machine.travel(NOON_TASHKENT + datetime.timedelta(days=6), tick=False):
        result = services.alerts_scan_expiry()

    assert result.resolved == 1 and result.created == 1
    ninety = Alert.objects.get(lot=lot, window=90)
    thirty = Alert.objects.get(lot=lot, window=30)
    assert ninety.resolved_at == NOON_TASHKENT + datetime.timedelta(days=6)
    assert thirty.resolved_at is None and thirty.severity == Severity.CRITICAL


def test_an_alert_resolves_itself_when_its_stock_is_gone():
    lot = LotFactory(expiry_date=in_days(-1))
    services.alerts_scan_expiry()
    Lot.objects.filter(pk=lot.pk).update(quantity=0)  # as a write-off leaves it

    result = services.alerts_scan_expiry()

    alert = Alert.objects.get(lot=lot)
    assert result.resolved == 1
    assert alert.resolved_at is not None


def test_stock_scan_tells_low_stock_from_out_of_stock_using_only_sellable_lots():
    low = MedicineFactory(reorder_level=100)
    LotFactory(medicine=low, quantity=60, expiry_date=in_days(300))
    LotFactory(medicine=low, quantity=500, expiry_date=in_days(-1))  # past its date: not sellable
    LotFactory(medicine=low, quantity=500, status=LotStatus.QUARANTINED)
    empty = MedicineFactory(reorder_level=10)
    enough = MedicineFactory(reorder_level=10)
    LotFactory(medicine=enough, quantity=11)
    MedicineFactory(is_active=False)

    result = services.alerts_scan_low_stock()

    assert result.created == 2
    assert open_alerts() == {
        (AlertKind.LOW_STOCK, 0, None, low.pk),
        (AlertKind.OUT_OF_STOCK, 0, None, empty.pk),
    }
    assert Alert.objects.get(medicine=empty).severity == Severity.CRITICAL
    assert Alert.objects.get(medicine=low).severity == Severity.WARNING


def test_a_receipt_resolves_out_of_stock_and_a_sale_to_the_level_opens_low_stock():
    medicine = MedicineFactory(reorder_level=10)
    services.alerts_scan_low_stock()
    lot = LotFactory(medicine=medicine, quantity=40)

    services.alerts_scan_low_stock()
    assert open_alerts() == set()
    assert Alert.objects.get(kind=AlertKind.OUT_OF_STOCK).resolved_at is not None

    Lot.objects.filter(pk=lot.pk).update(quantity=10)
    services.alerts_scan_low_stock()
    assert open_alerts() == {(AlertKind.LOW_STOCK, 0, None, medicine.pk)}


def test_the_database_refuses_a_second_open_alert_for_the_same_medicine():
    first = AlertFactory(kind=AlertKind.OUT_OF_STOCK)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(kind=AlertKind.OUT_OF_STOCK, medicine=first.medicine)


def test_the_database_refuses_a_second_open_alert_for_the_same_lot_and_window():
    lot = LotFactory(expiry_date=in_days(10))
    AlertFactory(kind=AlertKind.EXPIRY, medicine=lot.medicine, lot=lot, window=30)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(kind=AlertKind.EXPIRY, medicine=lot.medicine, lot=lot, window=30)


def test_a_resolved_alert_does_not_block_a_new_one():
    first = AlertFactory(kind=AlertKind.OUT_OF_STOCK, resolved_at=timezone.now())

    second = AlertFactory(kind=AlertKind.OUT_OF_STOCK, medicine=first.medicine)

    assert second.pk != first.pk


def _scan_statements(lot_count: int) -> int:
    Alert.objects.all().delete()
    Lot.objects.all().delete()
    for i in range(lot_count):
        LotFactory(expiry_date=in_days(i % 200 - 5), quantity=i % 3)
    with CaptureQueriesContext(connection) as ctx:
        services.alerts_scan_expiry()
        services.alerts_scan_low_stock()
    assert Alert.objects.count() > 0
    return len(ctx.captured_queries)


def test_detection_is_a_fixed_number_of_statements_whatever_the_number_of_lots():
    few = _scan_statements(10)
    many = _scan_statements(200)

    assert few == many
    # Per scan: savepoint, (PostgreSQL) advisory lock, resolve, touch, insert,
    # release, count of open alerts.
    assert many <= 14


def test_acknowledging_records_who_and_when_in_the_history(make_staff):
    pharmacist = make_staff()
    alert = AlertFactory()
    already = AlertFactory(acknowledged_at=timezone.now())

    count = services.alerts_acknowledge(alert_ids=[alert.pk, already.pk], user=pharmacist)

    alert.refresh_from_db()
    assert count == 1
    assert alert.acknowledged_by == pharmacist and alert.acknowledged_at is not None
    record = alert.history.latest()
    assert record.history_user == pharmacist and record.acknowledged_by_id == pharmacist.pk


def test_the_sweep_expires_lots_past_their_date_in_the_history_and_opens_expired_alerts():
    from tasks.tasks import sweep_expired_lots

    lot = LotFactory(expiry_date=in_days(0))
    keep = LotFactory(expiry_date=in_days(1))

    outcome = sweep_expired_lots.apply().get()

    lot.refresh_from_db()
    keep.refresh_from_db()
    assert outcome["expired_lots"] == 1
    assert lot.status == LotStatus.EXPIRED and keep.status == LotStatus.AVAILABLE
    assert lot.history.latest().status == LotStatus.EXPIRED
    assert open_alerts(kind=AlertKind.EXPIRED) == {(AlertKind.EXPIRED, 0, lot.pk, lot.medicine_id)}
