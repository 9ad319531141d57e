"""Rate limits on every code-sending endpoint, 429 + Retry-After.

A phone-wide cooldown; hourly and daily caps per phone, purpose and client
(an IPv4 address or an IPv6 /64); a throttle per IP across phones.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from accounts.models import PhoneCode
from accounts.tests.conftest import sms_count
from accounts.tests.factories import DEFAULT_PASSWORD, CustomerFactory

SIGNUP = {"password": "Kuchli-parol-2026", "first_name": "A", "last_name": "B"}


def _assert_429(response, code):
    assert response.status_code == 429, response.json()
    assert response.json()["code"] == code and response.json()["message"]
    assert int(response["Retry-After"]) >= 1


def test_the_daily_cap_stops_codes_to_one_phone_from_one_client(api, settings):
    settings.OTP_DAILY_LIMIT = 3
    phone = "+998935550011"
    start = timezone.now()
    answers = []
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(4):
            answers.append(api.post("password/forgot/", {"phone": phone}, REMOTE_ADDR="10.0.0.1"))
            traveller.shift(timedelta(seconds=61))
            cache.clear()  # forget the throttles: only the daily cap may refuse
        last = answers[-1]
        traveller.move_to(start + timedelta(days=1, seconds=1))
        next_day = api.post("password/forgot/", {"phone": phone}, REMOTE_ADDR="10.0.0.1")

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
def test_code_sending_endpoints_are_limited_per_phone_for_one_client(api, path, body):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = []
        for i in range(6):
            answers.append(api.post(path, body(i), REMOTE_ADDR="10.0.1.1"))
            traveller.shift(timedelta(seconds=61))  # past the cooldown: only the hourly cap counts

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


def test_a_strangers_five_sign_ups_of_a_number_from_another_address_leave_the_owner_a_code_after_the_cooldown(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        strangers = []
        for i in range(5):
            if i:
                traveller.shift(timedelta(seconds=61))
            strangers.append(_register(api, REMOTE_ADDR="198.51.100.7"))
            cache.clear()  # forget the per-IP throttles: only the code limits may refuse
        traveller.shift(timedelta(seconds=61))
        owner = _register(api, REMOTE_ADDR="203.0.113.20")

    assert [r.status_code for r in strangers] == [202] * 5
    assert owner.status_code == 202, owner.json()
    assert sms_count(NEW_NUMBER) == 6


def test_one_client_still_meets_the_hourly_cap_after_five_codes_and_the_daily_cap_after_ten(api):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        hour = []
        for _ in range(6):
            hour.append(_register(api, REMOTE_ADDR="198.51.100.7"))
            traveller.shift(timedelta(seconds=61))
            cache.clear()
        # Two more hours of five codes each: the daily cap comes at the eleventh.
        day = []
        for _ in range(2):
            traveller.move_to(start + timedelta(hours=1 + len(day) // 5, minutes=1))
            for _ in range(5):
                day.append(_register(api, REMOTE_ADDR="198.51.100.7"))
                traveller.shift(timedelta(seconds=61))
                cache.clear()
        eleventh = _register(api, REMOTE_ADDR="198.51.100.7")
        # Another client still gets a code.
        other = _register(api, REMOTE_ADDR="198.51.100.8")

    assert [r.status_code for r in hour[:5]] == [202] * 5
    _assert_429(hour[5], "code_hourly_limit")
    assert [r.status_code for r in day] == [202] * 5 + [429] * 5
    assert {r.json()["code"] for r in day[5:]} == {"code_daily_limit"}
    _assert_429(eleventh, "code_daily_limit")
    assert other.status_code == 202, other.json()


def test_ipv6_addresses_of_one_64_network_share_one_budget(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = []
        for i in range(6):
            answers.append(_register(api, REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}"))
            traveller.shift(timedelta(seconds=61))
            cache.clear()
        neighbour = _register(api, REMOTE_ADDR="2001:db8:1:3::1")

    assert [a.status_code for a in answers[:5]] == [202] * 5
    _assert_429(answers[5], "code_hourly_limit")
    assert neighbour.status_code == 202, neighbour.json()
    assert set(PhoneCode.objects.values_list("requested_from", flat=True)) == {"2001:db8:1:2::/64", "2001:db8:1:3::/64"}


def test_the_cooldown_is_still_phone_wide_across_clients(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        first = _register(api, REMOTE_ADDR="198.51.100.7")
        traveller.shift(timedelta(seconds=30))
        others = [
            _register(api, REMOTE_ADDR="203.0.113.20"),
            _register(api, REMOTE_ADDR="2001:db8:9::1"),
            api.post("password/forgot/", {"phone": NEW_NUMBER}, REMOTE_ADDR="192.0.2.1"),
        ]

    assert first.status_code == 202
    for response in others:
        _assert_429(response, "code_cooldown")
        assert int(response["Retry-After"]) <= 30
    assert sms_count(NEW_NUMBER) == 1


def test_a_known_and_an_unknown_number_meet_the_reset_caps_of_one_client_alike(api):
    known = CustomerFactory().phone
    unknown = "+998935550077"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        answers = {known: [], unknown: []}
        for _ in range(6):
            for phone in (known, unknown):
                answers[phone].append(api.post("password/forgot/", {"phone": phone}, REMOTE_ADDR="198.51.100.7"))
            traveller.shift(timedelta(seconds=61))
            cache.clear()
        other = {phone: api.post("password/forgot/", {"phone": phone}, REMOTE_ADDR="203.0.113.20") for phone in answers}

    for phone in (known, unknown):
        assert [a.status_code for a in answers[phone]] == [202] * 5 + [429]
        assert answers[phone][5].json()["code"] == "code_hourly_limit"
        assert other[phone].status_code == 202
    assert answers[known][0].json() == {**answers[unknown][0].json(), "phone": known}
    assert answers[known][5].json() == answers[unknown][5].json()
    assert answers[known][5]["Retry-After"] == answers[unknown][5]["Retry-After"]
    assert sms_count(known) == 6 and sms_count(unknown) == 0


def _sign_up_then_resend_until_refused(api, phone: str) -> list[tuple[int, str]]:
    answers = []
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for path in ["register/"] + ["resend/"] * 10:
            response = api.post(path, {"phone": phone, **SIGNUP}, REMOTE_ADDR="10.4.4.4")
            answers.append((response.status_code, response.json().get("code", "")))
            traveller.shift(timedelta(seconds=61))
    return answers


def test_signing_up_and_asking_again_runs_into_the_cap_at_the_same_step_for_a_taken_number(api):
    # Counted apart, codes sent and codes not sent would let a stranger tell a customer's number
    # from a free one by how many resends it takes to meet the cap.
    taken = _sign_up_then_resend_until_refused(api, CustomerFactory().phone)
    free = _sign_up_then_resend_until_refused(api, "+998935551234")

    assert taken == free
    assert (429, "code_hourly_limit") in free
