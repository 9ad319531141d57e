"""The owner's every-place stock value is kept by a beat task and read by the dashboard, with its time."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.roles import Role
from backoffice.selectors_dashboard import kept_stock_value, stock_value_profile
from backoffice.tasks import keep_stock_value
from catalog.formatting import format_uzs
from catalog.tests.factories import MedicineFactory, receive
from tasks.schedules import SCHEDULES

from .test_dashboard import INDEX, figure

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_the_owner_reads_the_kept_value_and_when_it_was_kept_until_the_task_keeps_it_again(staff_client):
    medicine = MedicineFactory()
    receive(medicine, 10, price="1000")
    client = staff_client(Role.ADMIN)
    with time_machine.travel(timezone.now(), tick=False):
        html = client.get(INDEX).content.decode()  # nothing kept yet: computed on the spot, and kept
        kept_at = timezone.localtime().strftime("%H:%M")
    title, value = figure(html, "owner-stock-cost")
    assert value == format_uzs(Decimal(10 * 1000))
    assert f"as of {kept_at}" in html

    receive(medicine, 5, price="1000")
    assert stock_value_profile(every_place=True).value_at_cost == Decimal(10 * 1000)  # still the kept figure
    assert stock_value_profile().value_at_cost == Decimal(15 * 1000)  # a place's own figures are live

    result = keep_stock_value.delay().get()
    assert result["groups"] == 1
    assert stock_value_profile(every_place=True).value_at_cost == Decimal(15 * 1000)


def test_a_kept_value_older_than_its_limit_is_recomputed_on_the_spot():
    medicine = MedicineFactory()
    receive(medicine, 2, price="1000")
    first = kept_stock_value()
    receive(medicine, 3, price="1000")
    assert kept_stock_value().computed_at == first.computed_at
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        fresh = kept_stock_value()
    assert fresh.computed_at > first.computed_at
    assert sum(value for _place, _expiry, value in fresh.rows) == Decimal(5 * 1000)


def test_the_task_is_scheduled_every_five_minutes():
    (schedule,) = [s for s in SCHEDULES if s.task == "backoffice.keep_stock_value"]
    assert (schedule.minute, schedule.hour) == ("*/5", "*")
