"""Rate limits: per phone and per IP on every code-sending endpoint, daily cap, 429 + Retry-After."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from accounts.tests.conftest import sms_count
from accounts.tests.factories import DEFAULT_PASSWORD, CustomerFactory

SIGNUP = {"password": "Kuchli-parol-2026", "first_name": "A", "last_name": "B"}


def _assert_429(response, code):
    assert response.status_code == 429, response.json()
    assert response.json()["code"] == code and response.json()["message"]
    assert int(response["Retry-After"]) >= 1


def test_the_daily_cap_stops_codes_to_one_phone(api, settings):
    settings.OTP_DAILY_LIMIT = 3
    phone = "+998935550011"
    start = timezone.now()
    answers = []
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            answers.append(api.post("password/forgot/", {"phone": phone}, REMOTE_ADDR=f"10.0.0.{len(answers)}"))
            traveller.shift(timedelta(seconds=61))
            cache.clear()  # forget the throttles: only the daily cap may refuse
        last = answers[-1]
        traveller.move_to(start + timedelta(days=1, seconds=1))
        next_day = api.post("password/forgot/", {"phone": phone})

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    _assert_429(last, "code_daily_limit")
    assert int(last["Retry-After"]) > 23 * 3600
    assert next_day.status_code == 202


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("register/", lambda i: {"phone": "+998935550011", **SIGNUP}),
        ("resend/", lambda i: {"phone": "+998935550011"}),
        ("password/forgot/", lambda i: {"phone": "+998935550011"}),
    ],
)
def test_code_sending_endpoints_are_limited_per_phone_across_ips(api, path, body):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = []
        for i in range(6):
            answers.append(api.post(path, body(i), REMOTE_ADDR=f"10.0.1.{i}"))
            traveller.shift(timedelta(seconds=61))  # past the cooldown: only the throttle counts

    assert all(a.status_code == 202 for a in answers[:5]), [a.json() for a in answers]
    _assert_429(answers[5], "code_hourly_limit")


@pytest.mark.parametrize("path", ["register/", "resend/", "password/forgot/"])
def test_code_sending_endpoints_are_limited_per_ip_across_phones(api, path, settings):
    answers = []
    for i in range(31):
        body = {"phone": f"+9989355{i:05d}", **(SIGNUP if path == "register/" else {})}
        answers.append(api.post(path, body, REMOTE_ADDR="10.9.9.9"))

    assert all(a.status_code in {202} for a in answers[:30])
    _assert_429(answers[30], "rate_limited")
    # Another client is not affected.
    other = api.post(
        path, {"phone": "+998977777777", **(SIGNUP if path == "register/" else {})}, REMOTE_ADDR="10.1.1.1"
    )
    assert other.status_code in {202}


@pytest.mark.parametrize("path", ["register/", "resend/", "password/forgot/"])
def test_a_code_field_in_the_body_does_not_exempt_a_request_from_the_per_ip_limit(api, path):
    # These endpoints only send: a stray "code" (which their serializers drop) must still be counted,
    # or one client could text any number of phones.
    answers = []
    for i in range(31):
        body = {"phone": f"+9989356{i:05d}", "code": "123456", **(SIGNUP if path == "register/" else {})}
        answers.append(api.post(path, body, REMOTE_ADDR="10.9.9.8"))

    assert all(a.status_code == 202 for a in answers[:30]), [a.json() for a in answers[:30]]
    _assert_429(answers[30], "rate_limited")


def test_the_phone_change_endpoint_is_limited_per_new_phone(api):
    user = CustomerFactory()
    access = api.post("login/", {"phone": user.phone, "password": DEFAULT_PASSWORD}).json()["access"]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = []
        for _ in range(6):
            answers.append(api.post("me/phone/", {"phone": "+998977770011"}, token=access))
            traveller.shift(timedelta(seconds=61))

    assert [a.status_code for a in answers[:5]] == [202] * 5
    _assert_429(answers[5], "code_hourly_limit")
    assert sms_count("+998977770011") == 5


def test_code_checks_are_limited_per_ip(api):
    answers = [
        api.post("verify/", {"phone": f"+9989355{i:05d}", "code": "123456", "password": "Kuchli-parol-2026"})
        for i in range(31)
    ]

    assert {a.json()["code"] for a in answers[:30]} == {"code_invalid"}
    _assert_429(answers[30], "rate_limited")


def test_the_throttle_window_passes(api):
    phone = "+998935550011"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            api.post("password/forgot/", {"phone": phone})
            traveller.shift(timedelta(seconds=61))
        assert api.post("password/forgot/", {"phone": phone}).status_code == 429
        traveller.shift(timedelta(hours=1))
        assert api.post("password/forgot/", {"phone": phone}).status_code == 202


NEW_NUMBER = "+998935550099"


def _register(api, **extra):
    return api.post("register/", {"phone": NEW_NUMBER, **SIGNUP}, **extra)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("password/forgot/", {"phone": NEW_NUMBER}),
        ("resend/", {"phone": NEW_NUMBER}),
        ("resend/", {"phone": NEW_NUMBER, "purpose": "password_reset"}),
    ],
    ids=["forgot", "resend sign-up", "resend reset"],
)
def test_a_strangers_requests_for_a_number_hold_its_sign_up_back_no_longer_than_the_cooldown(api, settings, path, body):
    settings.OTP_DAILY_LIMIT = 4
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        strangers = []
        for i in range(4):
            if i:
                traveller.shift(timedelta(seconds=61))
            strangers.append(api.post(path, body, REMOTE_ADDR=f"10.0.2.{i}"))
        # A second after the stranger's last code, only the cooldown holds the owner back...
        traveller.shift(timedelta(seconds=1))
        too_soon = _register(api, REMOTE_ADDR="10.0.3.1")
        traveller.shift(timedelta(seconds=int(too_soon["Retry-After"])))
        # ...then the sign-up goes through, though the stranger used up the cap of their purpose.
        response = _register(api, REMOTE_ADDR="10.0.3.1")

    assert [r.status_code for r in strangers] == [202] * 4
    _assert_429(too_soon, "code_cooldown")
    assert int(too_soon["Retry-After"]) <= 60
    assert response.status_code == 202, response.json()
    assert sms_count(NEW_NUMBER) == 1


def test_requests_refused_by_the_cooldown_are_not_counted(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        refused = [_register(api, REMOTE_ADDR=f"10.0.4.{i}") for i in range(8)]
        traveller.shift(timedelta(seconds=61))
        later = _register(api, REMOTE_ADDR="10.0.4.99")

    assert refused[0].status_code == 202
    assert {r.json()["code"] for r in refused[1:]} == {"code_cooldown"}
    assert later.status_code == 202, later.json()
    assert sms_count(NEW_NUMBER) == 2
