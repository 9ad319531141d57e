import datetime

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from catalog import stock
from catalog.tests.factories import LocationFactory, MedicineFactory, receive
from tasks import services
from tasks.models import AlertDelivery, DeliveryStatus, DigestDelivery
from tasks.tests.conftest import INVENTORY_CHAT, PHARMACIST_CHAT
from tasks.tests.factories import LATER, later
from tasks.tests.telegram_server import chat_not_found, flood_control, server_error

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 5, 4, 8, 0, tzinfo=datetime.UTC)


def sold_out(medicine):
    """``medicine`` out of stock at the main place, which carried it."""
    receive(medicine, 1)
    stock.stock_dispense(medicine=medicine, quantity=1)
    return medicine


@pytest.fixture
def staff(make_staff):
    return {
        "pharmacist": make_staff(Role.PHARMACIST, email="pharmacist@dorixona.uz"),
        "inventory": make_staff(Role.INVENTORY, email="stock@dorixona.uz"),
        "operator": make_staff(Role.OPERATOR, email="operator@dorixona.uz"),
        "no_email": make_staff(Role.PHARMACIST, email=""),
    }


def test_a_new_critical_expiry_alert_reaches_pharmacists_by_email_and_telegram_once(staff, bot_api):
    lot = receive(MedicineFactory(), 40, expires_in_days=12, lot_number="AB-77")
    services.alerts_scan_expiry()

    first = services.alerts_notify()
    second = services.alerts_notify()

    assert (first.sent, second.sent) == (2, 0)
    assert [m.to for m in mail.outbox] == [["pharmacist@dorixona.uz"]]
    assert "AB-77" in mail.outbox[0].body and lot.medicine.name in mail.outbox[0].body
    assert "40 on hand — Main pharmacy" in mail.outbox[0].body
    sent = bot_api.sent()
    assert [m["chat_id"] for m in sent] == [PHARMACIST_CHAT]
    assert "AB-77" in sent[0]["text"]
    assert AlertDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2


def test_out_of_stock_goes_to_inventory_staff_and_warnings_wait_for_the_digest(staff, bot_api):
    sold_out(MedicineFactory(name="Ibuprofen 200"))
    receive(MedicineFactory(), 5, expires_in_days=60)  # a 90-day warning: digest only
    services.alerts_scan_expiry()
    services.alerts_scan_low_stock()

    services.alerts_notify()

    assert [m.to for m in mail.outbox] == [["stock@dorixona.uz"]]
    assert "Ibuprofen 200" in mail.outbox[0].body
    assert [m["chat_id"] for m in bot_api.sent()] == [INVENTORY_CHAT]


def test_flood_control_is_honoured_before_the_message_is_sent_again(staff, bot_api):
    from tasks.notifications.telegram import TelegramChannel

    telegram = [TelegramChannel()]
    bot_api.replies = [flood_control(120)]
    with time_machine.travel(T0, tick=False):
        receive(MedicineFactory(), 5, expires_in_days=5)
        services.alerts_scan_expiry()
        result = services.alerts_notify(channels=telegram)
        delivery = AlertDelivery.objects.get()
        assert result.retry_in == 120
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.next_attempt_at == T0 + datetime.timedelta(seconds=120)

    with time_machine.travel(T0 + datetime.timedelta(seconds=119), tick=False):
        services.alerts_notify(channels=telegram)
    assert len(bot_api.requests) == 1

    with time_machine.travel(T0 + datetime.timedelta(seconds=121), tick=False):
        services.alerts_notify(channels=telegram)
        services.alerts_notify(channels=telegram)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert len(bot_api.sent()) == 1


def test_server_errors_are_retried_with_growing_back_off(staff, bot_api):
    from tasks.notifications.telegram import TelegramChannel

    bot_api.replies = [server_error(), server_error()]
    with time_machine.travel(T0, tick=False):
        receive(MedicineFactory(), 5, expires_in_days=5)
        services.alerts_scan_expiry()
        assert services.alerts_notify(channels=[TelegramChannel()]).retry_in == 60
    with time_machine.travel(T0 + datetime.timedelta(seconds=61), tick=False):
        assert services.alerts_notify(channels=[TelegramChannel()]).retry_in == 120
    with time_machine.travel(T0 + datetime.timedelta(seconds=61 + 121), tick=False):
        result = services.alerts_notify(channels=[TelegramChannel()])

    delivery = AlertDelivery.objects.get()
    assert result.sent == 1
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    assert [r["status"] for r in bot_api.requests] == [502, 502, 200]


def test_an_unknown_chat_is_given_up_at_once(staff, bot_api):
    from tasks.notifications.telegram import TelegramChannel

    bot_api.replies = [chat_not_found()]
    with time_machine.travel(T0, tick=False):
        receive(MedicineFactory(), 5, expires_in_days=5)
        services.alerts_scan_expiry()
        services.alerts_notify(channels=[TelegramChannel()])
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        services.alerts_notify(channels=[TelegramChannel()])

    delivery = AlertDelivery.objects.get()
    assert delivery.status == DeliveryStatus.GAVE_UP
    assert "chat not found" in delivery.last_error
    assert len(bot_api.requests) == 1


def test_a_claimed_alert_cannot_be_claimed_again_on_the_same_channel(staff):
    receive(MedicineFactory(), 5, expires_in_days=5)
    services.alerts_scan_expiry()
    now = timezone.now()

    first = services._claim_alert_deliveries(channel="email", target="a@b.uz", kinds=["expiry"], now=now)
    second = services._claim_alert_deliveries(channel="email", target="a@b.uz", kinds=["expiry"], now=now)

    assert len(first) == 1 and second == []
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertDelivery.objects.create(alert_id=first[0], channel="email", target="a@b.uz", claimed_at=now)


def test_a_claim_left_by_a_dead_worker_is_taken_again_once_stale(staff):
    with time_machine.travel(T0, tick=False):
        receive(MedicineFactory(), 5, expires_in_days=5)
        services.alerts_scan_expiry()
        services._claim_alert_deliveries(channel="email", target="pharmacist@dorixona.uz", kinds=["expiry"], now=T0)
    with time_machine.travel(T0 + datetime.timedelta(minutes=5), tick=False):
        services.alerts_notify()
        assert mail.outbox == []
    with time_machine.travel(T0 + datetime.timedelta(minutes=11), tick=False):
        services.alerts_notify()

    assert len(mail.outbox) == 1
    assert AlertDelivery.objects.get().status == DeliveryStatus.SENT


def test_the_digest_goes_once_a_day_to_each_audience(staff, bot_api):
    with time_machine.travel(T0, tick=False):
        sold_out(MedicineFactory(name="Aspirin Cardio"))
        receive(MedicineFactory(), 5, expires_in_days=150, lot_number="D-1")
        services.alerts_scan_expiry()
        services.alerts_scan_low_stock()

        first = services.alerts_digest_send()
        again = services.alerts_digest_send()

    assert (first.sent, again.sent) == (4, 0)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"pharmacist@dorixona.uz", "stock@dorixona.uz"}
    assert "Expiring within 180 days: 1" in by_address["pharmacist@dorixona.uz"].body
    assert "D-1" in by_address["pharmacist@dorixona.uz"].body
    assert "Aspirin Cardio" in by_address["stock@dorixona.uz"].body
    assert sorted(m["chat_id"] for m in bot_api.sent()) == sorted([PHARMACIST_CHAT, INVENTORY_CHAT])

    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        services.alerts_digest_send()
    assert len(mail.outbox) == 4
    assert DigestDelivery.objects.count() == 8


def test_the_send_task_reports_what_went_out(staff):
    from tasks.tasks import send_alert_notifications

    receive(MedicineFactory(), 5, expires_in_days=LATER - 2)
    with later():
        services.alerts_scan_expiry()

        outcome = send_alert_notifications.apply().get()

    assert outcome == {"sent": 1, "failed": 0}


def test_an_alert_reaches_the_staff_of_its_place_and_not_another_s(make_staff, bot_api, settings):
    chilonzor, yunusobod = LocationFactory(code="chilonzor"), LocationFactory(code="yunusobod")
    make_staff(Role.PHARMACIST, email="chilonzor@dorixona.uz", locations=[chilonzor])
    make_staff(Role.PHARMACIST, email="yunusobod@dorixona.uz", locations=[yunusobod])
    make_staff(Role.PHARMACIST, email="both@dorixona.uz", locations=[chilonzor, yunusobod])
    make_staff(Role.INVENTORY, email="stock-chilonzor@dorixona.uz", locations=[chilonzor])
    make_staff(Role.ADMIN, email="owner@dorixona.uz", locations=[])
    settings.TELEGRAM_CHAT_IDS = {"pharmacist": {"chilonzor": ["-2001"], "yunusobod": ["-2002"]}}
    receive(MedicineFactory(), 7, expires_in_days=12, lot_number="CH-1", location=chilonzor)

    services.alerts_scan_expiry()
    services.alerts_notify()

    assert sorted(m.to[0] for m in mail.outbox) == ["both@dorixona.uz", "chilonzor@dorixona.uz", "owner@dorixona.uz"]
    assert all("CH-1" in m.body and f"— {chilonzor.name}" in m.body for m in mail.outbox)
    assert [m["chat_id"] for m in bot_api.sent()] == ["-2001"]


def test_the_digest_of_a_member_counts_the_alerts_of_their_places_only(make_staff):
    branch, other = LocationFactory(), LocationFactory()
    make_staff(Role.PHARMACIST, email="branch@dorixona.uz", locations=[branch])
    receive(MedicineFactory(), 5, expires_in_days=150, lot_number="HERE", location=branch)
    receive(MedicineFactory(), 5, expires_in_days=150, lot_number="THERE", location=other)
    receive(MedicineFactory(), 5, expires_in_days=120, lot_number="THERE-2", location=other)
    services.alerts_scan_expiry()

    services.alerts_digest_send()

    (message,) = mail.outbox
    assert "Expiring within 180 days: 1" in message.body
    assert "HERE" in message.body and "THERE" not in message.body


def test_a_low_stock_message_gives_the_place_s_own_reorder_level(make_staff):
    from tasks.notifications.messages import alert_line
    from tasks.selectors import alerts_open
    from tasks.tests.factories import set_reorder_level_here

    branch = LocationFactory(name="Sergeli")
    medicine = MedicineFactory(name="Loratadin 10 mg", reorder_level=10)
    receive(medicine, 12, location=branch)
    set_reorder_level_here(medicine, branch, 25)
    services.alerts_scan_low_stock()

    (alert,) = alerts_open()

    assert alert_line(alert) == "! Loratadin 10 mg: low stock, reorder level 25 — Sergeli"


def test_staff_working_nowhere_receive_nothing(make_staff):
    make_staff(Role.PHARMACIST, email="nowhere@dorixona.uz", locations=[])
    receive(MedicineFactory(), 5, expires_in_days=5)
    services.alerts_scan_expiry()

    assert services.alerts_notify().sent == 0
    assert mail.outbox == []
