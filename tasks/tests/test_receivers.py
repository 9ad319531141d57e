"""A stock change resolves the alerts it cleared as soon as it commits, not at the next scan."""

import logging

import pytest
from django.db import DatabaseError

from catalog import stock
from catalog.models import LocationKind
from catalog.tests.factories import LocationFactory, MedicineFactory, receive
from tasks import services
from tasks.models import Alert, AlertKind


def sold_out(medicine, location=None):
    receive(medicine, 2, location=location)
    stock.stock_dispense(medicine=medicine, quantity=2, location=location)


@pytest.mark.django_db(transaction=True)
def test_an_out_of_stock_alert_resolves_right_after_the_restocking_receipt_commits():
    medicine = MedicineFactory(reorder_level=5)
    sold_out(medicine)
    services.alerts_scan_low_stock()
    alert = Alert.objects.open().get(kind=AlertKind.OUT_OF_STOCK)

    receive(medicine, 40)  # its own transaction, committed: the receiver has run

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert not Alert.objects.open().exists()


@pytest.mark.django_db
def test_a_receipt_at_one_place_leaves_another_place_s_alert_open(django_capture_on_commit_callbacks):
    branch, warehouse = LocationFactory(), LocationFactory(kind=LocationKind.WAREHOUSE)
    medicine = MedicineFactory(reorder_level=5)
    sold_out(medicine, branch)
    sold_out(medicine, warehouse)
    services.alerts_scan_low_stock()

    with django_capture_on_commit_callbacks(execute=True):
        receive(medicine, 100, location=warehouse)

    assert set(Alert.objects.open().values_list("location", flat=True)) == {branch.pk}


@pytest.mark.django_db
def test_a_write_off_resolves_the_expiry_alert_of_its_place(django_capture_on_commit_callbacks):
    medicine = MedicineFactory(reorder_level=0)
    lot = receive(medicine, 6, expires_in_days=10)
    services.alerts_scan_expiry()
    assert Alert.objects.open().filter(lot=lot, kind=AlertKind.EXPIRY).exists()

    with django_capture_on_commit_callbacks(execute=True):
        stock.stock_write_off(lot=lot, quantity=None, reason="Damaged")

    assert not Alert.objects.open().filter(kind=AlertKind.EXPIRY).exists()


@pytest.mark.django_db
def test_a_sale_that_leaves_the_cause_in_place_resolves_nothing(django_capture_on_commit_callbacks):
    medicine = MedicineFactory(reorder_level=10)
    receive(medicine, 8)
    services.alerts_scan_low_stock()

    with django_capture_on_commit_callbacks(execute=True):
        stock.stock_dispense(medicine=medicine, quantity=1)

    assert Alert.objects.open().filter(kind=AlertKind.LOW_STOCK, medicine=medicine).exists()


@pytest.mark.django_db
def test_a_failed_resolve_never_breaks_the_stock_change(django_capture_on_commit_callbacks, monkeypatch, caplog):
    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(services, "alerts_resolve_cleared", broken)
    medicine = MedicineFactory()

    with caplog.at_level(logging.ERROR, logger="tasks.receivers"), django_capture_on_commit_callbacks(execute=True):
        lot = receive(medicine, 3)

    lot.refresh_from_db()
    assert lot.quantity == 3
    assert "Could not resolve" in caplog.text


@pytest.mark.django_db
def test_resolving_after_a_change_is_a_fixed_number_of_statements(django_assert_max_num_queries):
    medicines = [MedicineFactory(reorder_level=5) for _ in range(4)]
    for medicine in medicines:
        sold_out(medicine)
    services.alerts_scan_low_stock()

    # Whether any is open, savepoint, two try-locks (PostgreSQL), one resolve per kind, release.
    with django_assert_max_num_queries(7):
        services.alerts_resolve_cleared(medicine_ids=[m.pk for m in medicines])


@pytest.mark.django_db
def test_a_change_to_medicines_without_open_alerts_costs_one_probe(django_assert_num_queries):
    medicine = MedicineFactory(reorder_level=0)
    receive(medicine, 5)

    with django_assert_num_queries(1):
        assert services.alerts_resolve_cleared(medicine_ids=[medicine.pk]) == 0
