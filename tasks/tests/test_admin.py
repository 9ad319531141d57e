import pytest
from django.core.management import call_command
from django.test import Client

from accounts.roles import Role
from catalog.tests.factories import LocationFactory, MedicineFactory, receive
from tasks.models import Alert, AlertKind
from tasks.navigation import open_alerts_badge
from tasks.tests.factories import LATER, AlertFactory, later

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tasks/alert/"


def make_alerts(n: int) -> list[Alert]:
    alerts = [AlertFactory() for _ in range(n)]
    for days in (-1, 10, 70, 150):
        lot = receive(MedicineFactory(), 5, expires_in_days=max(days, 1))
        kind = AlertKind.EXPIRED if days < 0 else AlertKind.EXPIRY
        window = 0 if days < 0 else 30 if days <= 30 else 90 if days <= 90 else 180
        severity = "critical" if window <= 30 else "warning" if window == 90 else "info"
        alerts.append(AlertFactory(kind=kind, severity=severity, medicine=lot.medicine, lot=lot, window=window))
    return alerts


def test_the_alert_list_shows_every_alert_in_a_fixed_number_of_queries(staff_client, django_assert_max_num_queries):
    client = staff_client(Role.PHARMACIST)
    make_alerts(5)
    with django_assert_max_num_queries(20):
        small = client.get(CHANGELIST)
    make_alerts(30)
    with django_assert_max_num_queries(20):
        response = client.get(CHANGELIST)

    assert small.status_code == 200 and response.status_code == 200
    body = response.content.decode()
    assert "Critical" in body and "Expires within 30 days" in body


def test_the_list_filters_by_state_kind_and_severity(staff_client):
    client = staff_client(Role.OPERATOR)
    make_alerts(2)

    response = client.get(CHANGELIST, {"state": "open", "kind__exact": "expiry", "severity__exact": "critical"})

    assert response.status_code == 200
    assert list(response.context["cl"].queryset.values_list("kind", "window")) == [("expiry", 30)]


def test_a_pharmacist_acknowledges_alerts_in_bulk(staff_client):
    client = staff_client(Role.PHARMACIST)
    alerts = make_alerts(3)

    response = client.post(
        CHANGELIST, {"action": "acknowledge", "_selected_action": [a.pk for a in alerts[:2]]}, follow=True
    )

    assert response.status_code == 200
    acknowledged = Alert.objects.filter(acknowledged_by=client.user)
    assert set(acknowledged.values_list("pk", flat=True)) == {alerts[0].pk, alerts[1].pk}


def test_operators_and_inventory_staff_may_look_but_not_acknowledge(staff_client):
    client = staff_client(Role.INVENTORY)
    alerts = make_alerts(1)

    page = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "acknowledge", "_selected_action": [alerts[0].pk]})

    assert page.status_code == 200
    assert 'value="acknowledge"' not in page.content.decode()
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


RUN_SCANS = CHANGELIST + "run_scans/"


def test_opening_the_run_scans_link_asks_for_confirmation_and_runs_nothing(staff_client):
    client = staff_client(Role.PHARMACIST)
    receive(MedicineFactory(), 5, expires_in_days=3)

    response = client.get(RUN_SCANS)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body
    assert not Alert.objects.exists()


def test_confirming_runs_the_scans(staff_client):
    client = staff_client(Role.PHARMACIST)
    receive(MedicineFactory(), 5, expires_in_days=3)

    response = client.post(RUN_SCANS, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert Alert.objects.filter(kind=AlertKind.EXPIRY, window=30).count() == 1


def test_a_cross_site_post_without_the_csrf_token_runs_nothing(staff_client):
    logged_in = staff_client(Role.PHARMACIST)
    cross_site = Client(enforce_csrf_checks=True)
    cross_site.cookies = logged_in.cookies  # the victim's session, but no token from our page
    receive(MedicineFactory(), 5, expires_in_days=3)

    response = cross_site.post(RUN_SCANS)

    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_staff_without_the_scan_permission_can_neither_open_nor_confirm_it(staff_client):
    client = staff_client(Role.OPERATOR)
    receive(MedicineFactory(), 5, expires_in_days=3)

    opened, confirmed = client.get(RUN_SCANS), client.post(RUN_SCANS)

    assert opened.status_code == 403 and confirmed.status_code == 403
    assert not Alert.objects.exists()


def test_the_sidebar_badge_counts_open_unacknowledged_alerts(rf, django_assert_num_queries):
    assert open_alerts_badge(rf.get("/")) is None
    make_alerts(2)
    AlertFactory(acknowledged_at="2026-01-01T00:00:00Z")

    with django_assert_num_queries(1):
        badge = open_alerts_badge(rf.get("/"))

    assert badge == "6"


def test_schedules_exist_after_migrate_in_tashkent_time_and_admin_edits_are_kept():
    from django_celery_beat.models import PeriodicTask

    tasks = {t.task: t for t in PeriodicTask.objects.select_related("crontab")}
    assert {
        "tasks.scan_expiry",
        "tasks.scan_low_stock",
        "tasks.sweep_expired_lots",
        "tasks.daily_digest",
        "accounts.tasks.auth_cleanup",
    } <= set(tasks)
    sweep = tasks["tasks.sweep_expired_lots"]
    assert (sweep.crontab.hour, sweep.crontab.minute, str(sweep.crontab.timezone)) == ("0", "5", "Asia/Tashkent")
    assert tasks["tasks.scan_low_stock"].crontab.hour == "*"

    PeriodicTask.objects.filter(task="tasks.scan_expiry").update(enabled=False)
    call_command("setup_schedules")
    assert not PeriodicTask.objects.get(task="tasks.scan_expiry").enabled
    call_command("setup_schedules", "--reset")
    assert PeriodicTask.objects.get(task="tasks.scan_expiry").enabled


def test_run_alerts_runs_every_scan_and_prints_what_it_found(capsys):
    receive(MedicineFactory(reorder_level=0), 5, expires_in_days=LATER - 1)
    receive(MedicineFactory(reorder_level=0), 5, expires_in_days=LATER + 20)

    with later():
        call_command("run_alerts")

    out = capsys.readouterr().out
    assert "Sweep: 1 lot(s) moved to expired." in out
    assert "Expiry scan: 2 new, 0 resolved" in out
    assert "Stock scan:" in out
    assert Alert.objects.open().count() == 3  # and the medicine whose only lot expired is out of stock


def test_the_list_shows_each_alert_s_place_and_filters_by_place(staff_client):
    client = staff_client(Role.ADMIN)
    branch = LocationFactory(name="Yakkasaroy")
    here = AlertFactory(location=branch)
    AlertFactory()

    page = client.get(CHANGELIST)
    filtered = client.get(CHANGELIST, {"location__id__exact": branch.pk})

    assert "Yakkasaroy" in page.content.decode()
    assert list(filtered.context["cl"].queryset) == [here]


def test_a_member_sees_and_acknowledges_only_the_alerts_of_their_places(staff_client):
    branch, other = LocationFactory(name="Olmazor"), LocationFactory(name="Bektemir")
    client = staff_client(Role.PHARMACIST, locations=[branch])
    mine, theirs = AlertFactory(location=branch), AlertFactory(location=other)

    page = client.get(CHANGELIST)
    badge = open_alerts_badge(page.wsgi_request)
    foreign = client.get(f"{CHANGELIST}{theirs.pk}/change/")
    client.post(CHANGELIST, {"action": "acknowledge", "_selected_action": [mine.pk, theirs.pk]})

    assert list(page.context["cl"].queryset) == [mine]
    assert "Bektemir" not in page.content.decode()  # nor in the place filter
    assert foreign.status_code == 302  # "does not exist": back to the list
    assert set(Alert.objects.filter(acknowledged_at__isnull=False).values_list("pk", flat=True)) == {mine.pk}
    assert badge == "1"


def test_an_alert_s_page_offers_acknowledge_and_no_save(staff_client):
    client = staff_client(Role.PHARMACIST)
    alert = AlertFactory()
    page = f"{CHANGELIST}{alert.pk}/change/"
    acknowledge = f"{CHANGELIST}{alert.pk}/acknowledge/"

    html = client.get(page).content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert acknowledge in html

    # The link only asks; the form's POST acknowledges, with who did it in the history.
    client.get(acknowledge)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    response = client.post(acknowledge)
    assert response.status_code == 302 and response["Location"] == page
    alert.refresh_from_db()
    assert alert.acknowledged_by_id == client.user.pk
    assert alert.history.filter(history_user=client.user).exists()
    # Saving the page the old way changes nothing.
    assert client.post(page, {}).status_code == 403


def test_staff_who_may_not_acknowledge_are_not_offered_it_and_cannot_post_it(staff_client):
    client = staff_client(Role.INVENTORY)
    alert = AlertFactory()
    acknowledge = f"{CHANGELIST}{alert.pk}/acknowledge/"

    assert acknowledge not in client.get(f"{CHANGELIST}{alert.pk}/change/").content.decode()
    client.post(acknowledge)

    alert.refresh_from_db()
    assert alert.acknowledged_at is None
