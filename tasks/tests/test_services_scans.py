import datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import stock
from catalog.models import Location, LocationKind, LotStatus
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from tasks import services
from tasks.models import Alert, AlertKind, Severity
from tasks.tests.factories import LATER, AlertFactory, later, set_reorder_level_here

pytestmark = pytest.mark.django_db

NOON_TASHKENT = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))


def open_alerts(**filters):
    return set(Alert.objects.open().filter(**filters).values_list("kind", "window", "lot_id", "medicine_id"))


def open_at(location, **filters):
    return open_alerts(location=location, **filters)


def receive_expiring(medicine, days: int, quantity: int = 50, **kwargs):
    """A lot that will have ``days`` left (negative: past its date) once ``later()`` has travelled."""
    return receive(medicine, quantity, expires_in_days=LATER + days, **kwargs)


def test_each_lot_gets_one_alert_in_the_narrowest_window_it_has_reached():
    medicine = MedicineFactory()
    expired, in_20, in_60, in_150, _in_400 = (receive_expiring(medicine, d) for d in (-3, 20, 60, 150, 400))

    with later():
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
    assert set(Alert.objects.values_list("location", flat=True)) == {main_location().pk}


def test_lots_without_stock_or_on_hold_get_no_expiry_alert():
    emptied = receive(MedicineFactory(), 5, expires_in_days=10)
    stock.stock_write_off(lot=emptied, quantity=None, reason="Broken")
    stock.lot_quarantine(lot=receive(MedicineFactory(), 5, expires_in_days=10), reason="Seal")
    stock.lot_recall(lot=receive(MedicineFactory(), 5, expires_in_days=10), reason="Recall notice")

    services.alerts_scan_expiry()

    assert not Alert.objects.exists()


def test_each_place_gets_its_own_expiry_alert_for_the_units_it_holds():
    branch, warehouse = LocationFactory(), LocationFactory(kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory()
    lot = receive(medicine, 20, expires_in_days=20, location=branch, lot_number="SHARED")
    receive(medicine, 30, expires_in_days=20, location=warehouse, lot_number="SHARED")
    elsewhere = LocationFactory()

    services.alerts_scan_expiry()

    assert open_at(branch) == open_at(warehouse) == {(AlertKind.EXPIRY, 30, lot.pk, medicine.pk)}
    assert open_at(elsewhere) == set()
    assert Alert.objects.count() == 2

    stock.stock_write_off(lot=lot, quantity=None, location=warehouse, reason="Damaged in the warehouse")
    result = services.alerts_scan_expiry()

    assert result.resolved == 1
    assert open_at(branch) == {(AlertKind.EXPIRY, 30, lot.pk, medicine.pk)}
    assert open_at(warehouse) == set()


def test_packs_in_transit_raise_no_alert_until_they_arrive():
    source, destination = LocationFactory(), LocationFactory()
    medicine = MedicineFactory(reorder_level=0)
    receive(medicine, 10, expires_in_days=20, location=source)
    transfer = stock.transfer_create(source=source, destination=destination, lines=[(medicine, 10)])
    stock.transfer_send(transfer=transfer)

    services.alerts_scan_expiry()
    services.alerts_scan_low_stock()

    transit = Location.objects.get(kind=LocationKind.TRANSIT)
    assert not Alert.objects.filter(location=transit).exists()
    assert open_at(source, kind=AlertKind.OUT_OF_STOCK) == {(AlertKind.OUT_OF_STOCK, 0, None, medicine.pk)}
    assert not Alert.objects.filter(kind=AlertKind.EXPIRY).exists()


def test_rerunning_the_scan_opens_no_duplicate_and_moves_last_seen_on():
    receive(MedicineFactory(), 5, expires_in_days=20)
    with time_machine.travel(NOON_TASHKENT - datetime.timedelta(hours=1), tick=False):
        receive(MedicineFactory(), 5, expires_in_days=18)
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
        lot = receive(MedicineFactory(), 5, expires_in_days=35)
        services.alerts_scan_expiry()
    with time_machine.travel(NOON_TASHKENT + datetime.timedelta(days=6), tick=False):
        result = services.alerts_scan_expiry()

    assert result.resolved == 1 and result.created == 1
    ninety = Alert.objects.get(lot=lot, window=90)
    thirty = Alert.objects.get(lot=lot, window=30)
    assert ninety.resolved_at == NOON_TASHKENT + datetime.timedelta(days=6)
    assert thirty.resolved_at is None and thirty.severity == Severity.CRITICAL


def test_an_alert_resolves_itself_when_its_stock_is_gone():
    lot = receive_expiring(MedicineFactory(), -1)
    with later():
        services.alerts_scan_expiry()
        stock.stock_write_off(lot=lot, quantity=None, reason="Expired")

        result = services.alerts_scan_expiry()

    alert = Alert.objects.get(lot=lot)
    assert result.resolved == 1
    assert alert.resolved_at is not None


def test_stock_scan_tells_low_stock_from_out_of_stock_using_only_sellable_stock():
    low = MedicineFactory(reorder_level=100)
    receive(low, 60, expires_in_days=300)
    receive(low, 500, expires_in_days=1)  # past its date by the time of the scan: not sellable
    stock.lot_quarantine(lot=receive(low, 500), reason="Seal")
    empty = MedicineFactory(reorder_level=10)
    emptied = receive(empty, 4)
    stock.stock_write_off(lot=emptied, quantity=None, reason="Broken")
    enough = MedicineFactory(reorder_level=10)
    receive(enough, 11)
    receive(MedicineFactory(is_active=False), 1)
    MedicineFactory(reorder_level=10)  # never held anywhere: no place carries it

    with later(2):
        services.lots_sweep_expired()  # the daily sweep: the lot's day has come
        result = services.alerts_scan_low_stock()

    assert result.created == 2
    assert open_alerts() == {
        (AlertKind.LOW_STOCK, 0, None, low.pk),
        (AlertKind.OUT_OF_STOCK, 0, None, empty.pk),
    }
    assert Alert.objects.get(medicine=empty).severity == Severity.CRITICAL
    assert Alert.objects.get(medicine=low).severity == Severity.WARNING


def test_low_stock_at_a_branch_is_not_low_stock_at_the_warehouse():
    branch, warehouse = LocationFactory(), LocationFactory(kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 8, location=branch)
    receive(medicine, 500, location=warehouse)

    services.alerts_scan_low_stock()

    assert open_at(branch) == {(AlertKind.LOW_STOCK, 0, None, medicine.pk)}
    assert open_at(warehouse) == set()
    # The chain holds 508: nothing is low for the chain as a whole.
    assert Alert.objects.open().count() == 1


def test_a_place_s_own_reorder_level_replaces_the_medicine_s():
    branch, warehouse = LocationFactory(), LocationFactory(kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 8, location=branch)
    receive(medicine, 150, location=warehouse)
    set_reorder_level_here(medicine, warehouse, 200)
    set_reorder_level_here(medicine, branch, 5)

    services.alerts_scan_low_stock()

    assert open_at(warehouse) == {(AlertKind.LOW_STOCK, 0, None, medicine.pk)}
    assert open_at(branch) == set()

    set_reorder_level_here(medicine, branch, None)  # back to the medicine's 10
    result = services.alerts_scan_low_stock()

    assert result.created == 1
    assert open_at(branch) == {(AlertKind.LOW_STOCK, 0, None, medicine.pk)}


def test_a_place_that_sold_its_last_pack_is_out_of_stock_there_only():
    branch, other = LocationFactory(), LocationFactory()
    medicine = MedicineFactory(reorder_level=3)
    receive(medicine, 2, location=branch)
    receive(medicine, 40, location=other)
    stock.stock_dispense(medicine=medicine, quantity=2, location=branch)

    services.alerts_scan_low_stock()

    assert open_at(branch) == {(AlertKind.OUT_OF_STOCK, 0, None, medicine.pk)}
    assert open_at(other) == set()


def test_a_receipt_resolves_out_of_stock_and_a_sale_to_the_level_opens_low_stock():
    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 5)
    stock.stock_dispense(medicine=medicine, quantity=5)
    services.alerts_scan_low_stock()
    assert open_alerts() == {(AlertKind.OUT_OF_STOCK, 0, None, medicine.pk)}
    receive(medicine, 40)

    services.alerts_scan_low_stock()
    assert open_alerts() == set()
    assert Alert.objects.get(kind=AlertKind.OUT_OF_STOCK).resolved_at is not None

    stock.stock_dispense(medicine=medicine, quantity=30)
    services.alerts_scan_low_stock()
    assert open_alerts() == {(AlertKind.LOW_STOCK, 0, None, medicine.pk)}


def test_the_database_refuses_a_second_open_alert_for_the_same_medicine_at_a_place():
    first = AlertFactory(kind=AlertKind.OUT_OF_STOCK)
    AlertFactory(kind=AlertKind.OUT_OF_STOCK, medicine=first.medicine, location=LocationFactory())

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(kind=AlertKind.OUT_OF_STOCK, medicine=first.medicine)


def test_the_database_refuses_a_second_open_alert_for_the_same_lot_and_window():
    lot = receive(MedicineFactory(), 5, expires_in_days=10)
    AlertFactory(kind=AlertKind.EXPIRY, medicine=lot.medicine, lot=lot, window=30)

    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(kind=AlertKind.EXPIRY, medicine=lot.medicine, lot=lot, window=30)


def test_a_resolved_alert_does_not_block_a_new_one():
    first = AlertFactory(kind=AlertKind.OUT_OF_STOCK, resolved_at=timezone.now())

    second = AlertFactory(kind=AlertKind.OUT_OF_STOCK, medicine=first.medicine)

    assert second.pk != first.pk


def _scan_statements(lot_count: int, place_count: int) -> int:
    places = [main_location(), *(LocationFactory() for _ in range(place_count - 1))]
    for i in range(lot_count):
        medicine = MedicineFactory(reorder_level=5)
        receive(medicine, 2 + i % 6, expires_in_days=10 + (i * 37) % 200, location=places[i % place_count])
    with CaptureQueriesContext(connection) as ctx:
        services.alerts_scan_expiry()
        services.alerts_scan_low_stock()
    assert Alert.objects.values("location").distinct().count() == place_count
    return len(ctx.captured_queries)


def test_detection_is_a_fixed_number_of_statements_whatever_the_number_of_lots_and_places():
    few = _scan_statements(6, 1)
    Alert.objects.all().delete()
    many = _scan_statements(30, 3)

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

    lot = receive(MedicineFactory(), 5, expires_in_days=1)
    keep = receive(MedicineFactory(), 5, expires_in_days=2)

    with later(1):
        outcome = sweep_expired_lots.apply().get()

    lot.refresh_from_db()
    keep.refresh_from_db()
    assert outcome["expired_lots"] == 1
    assert lot.status == LotStatus.EXPIRED and keep.status == LotStatus.AVAILABLE
    assert lot.history.latest().status == LotStatus.EXPIRED
    assert open_alerts(kind=AlertKind.EXPIRED) == {(AlertKind.EXPIRED, 0, lot.pk, lot.medicine_id)}
