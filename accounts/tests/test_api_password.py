"""Forgot / reset password by SMS: no account enumeration, every session ends."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CodePurpose
from accounts.roles import Role
from accounts.services.otp import otp_issue
from accounts.tests.conftest import last_code, sms_count
from accounts.tests.factories import DEFAULT_PASSWORD, CustomerFactory, StaffFactory, UserFactory

NEW_PASSWORD = "Yangi-parol-2026!"


def forgot(api, phone, **extra):
    return api.post("password/forgot/", {"phone": phone}, **extra)


def test_forgot_password_texts_a_reset_code_to_a_customer(api):
    user = CustomerFactory()

    response = forgot(api, user.phone)

    assert response.status_code == 202
    assert sms_count(user.phone) == 1


@pytest.mark.parametrize(
    "make_other",
    [
        pytest.param(lambda: None, id="unknown number"),
        pytest.param(lambda: UserFactory(phone="+998935550011", is_active=False), id="unfinished sign-up"),
        pytest.param(lambda: StaffFactory(phone="+998935550011", role=Role.PHARMACIST), id="staff"),
    ],
)
def test_forgot_password_answers_identically_for_known_and_other_numbers(api, make_other):
    known = CustomerFactory(phone="+998935550022")
    make_other()

    known_answer = forgot(api, "+998 93 555 00 22")
    other_answer = forgot(api, "+998 93 555 00 11")

    assert known_answer.status_code == other_answer.status_code == 202
    assert known_answer.json().keys() == other_answer.json().keys()
    assert {**known_answer.json(), "phone": None} == {**other_answer.json(), "phone": None}
    assert known_answer.headers.get("Content-Type") == other_answer.headers.get("Content-Type")
    # Only the real customer gets an SMS.
    assert sms_count(known.phone) == 1 and sms_count("+998935550011") == 0


def test_forgot_password_cooldown_is_the_same_for_known_and_unknown_numbers(api):
    known = CustomerFactory(phone="+998935550022")
    forgot(api, known.phone)
    forgot(api, "+998935550011")

    known_again = forgot(api, known.phone)
    unknown_again = forgot(api, "+998935550011")

    assert known_again.status_code == unknown_again.status_code == 429
    assert known_again.json() == unknown_again.json()
    assert known_again["Retry-After"] == unknown_again["Retry-After"]


def test_reset_sets_the_new_password(api):
    user = CustomerFactory()
    forgot(api, user.phone)

    response = api.post(
        "password/reset/", {"phone": user.phone, "code": last_code(user.phone), "password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api.post("login/", {"phone": user.phone, "password": NEW_PASSWORD}).status_code == 200
    assert api.post("login/", {"phone": user.phone, "password": DEFAULT_PASSWORD}).status_code == 401


def test_reset_ends_every_session_refresh_and_access_tokens_refused(api):
    user = CustomerFactory()
    phone_a = api.post("login/", {"phone": user.phone, "password": DEFAULT_PASSWORD}).json()
    phone_b = api.post("login/", {"phone": user.phone, "password": DEFAULT_PASSWORD}).json()
    forgot(api, user.phone)

    api.post("password/reset/", {"phone": user.phone, "code": last_code(user.phone), "password": NEW_PASSWORD})

    for tokens in (phone_a, phone_b):
        refresh = api.post("refresh/", {"refresh": tokens["refresh"]})
        assert refresh.status_code == 401 and refresh.json()["code"] == "token_invalid"
        assert api.get("me/", token=tokens["access"]).status_code == 401


def test_reset_refuses_a_weak_password_without_spending_the_code(api):
    user = CustomerFactory()
    forgot(api, user.phone)
    code = last_code(user.phone)

    weak = api.post("password/reset/", {"phone": user.phone, "code": code, "password": "12345678"})
    strong = api.post("password/reset/", {"phone": user.phone, "code": code, "password": NEW_PASSWORD})

    assert weak.status_code == 400 and weak.json()["code"] == "validation_error"
    assert "password" in weak.json()["fields"]
    assert strong.status_code == 204


def _code_for(phone, purpose, *, after_seconds):
    # Issued directly, some time later than the request before it (the cooldown).
    return otp_issue(
        phone=phone, purpose=purpose, deliver=False, client=None, now=timezone.now() + timedelta(seconds=after_seconds)
    ).code


def test_a_sign_up_code_cannot_reset_a_password(api):
    user = CustomerFactory()
    forgot(api, user.phone)
    reset_code = last_code(user.phone)
    signup_code = _code_for(user.phone, CodePurpose.REGISTER, after_seconds=61)
    if signup_code == reset_code:
        pytest.skip("the two random codes happen to be equal")

    refused = api.post("password/reset/", {"phone": user.phone, "code": signup_code, "password": NEW_PASSWORD})
    accepted = api.post("password/reset/", {"phone": user.phone, "code": reset_code, "password": NEW_PASSWORD})

    assert refused.status_code == 400 and refused.json()["code"] == "code_invalid"
    assert accepted.status_code == 204


def test_a_reset_code_cannot_confirm_a_sign_up(api):
    phone = "+998935550055"
    api.post("register/", {"phone": phone, "password": "Kuchli-parol-2026", "first_name": "A", "last_name": "B"})
    signup_code = last_code(phone)
    reset_code = _code_for(phone, CodePurpose.PASSWORD_RESET, after_seconds=61)
    if signup_code == reset_code:
        pytest.skip("the two random codes happen to be equal")

    refused = api.post("verify/", {"phone": phone, "code": reset_code, "password": "Kuchli-parol-2026"})
    accepted = api.post("verify/", {"phone": phone, "code": signup_code, "password": "Kuchli-parol-2026"})

    assert refused.status_code == 400 and refused.json()["code"] == "code_invalid"
    assert accepted.status_code == 200


def test_reset_for_an_unknown_number_is_refused_like_a_wrong_code(api):
    forgot(api, "+998935550011")

    response = api.post("password/reset/", {"phone": "+998935550011", "code": "123456", "password": NEW_PASSWORD})

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"


def test_five_wrong_reset_codes_lock_the_code(api):
    user = CustomerFactory()
    forgot(api, user.phone)
    code = last_code(user.phone)
    wrong = f"{(int(code) + 7) % 10**6:06d}"

    for _ in range(5):
        api.post("password/reset/", {"phone": user.phone, "code": wrong, "password": NEW_PASSWORD})
    response = api.post("password/reset/", {"phone": user.phone, "code": code, "password": NEW_PASSWORD})

    assert response.status_code == 400 and response.json()["code"] == "code_locked"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_password_like_the_owners_name_tells_a_stranger_nothing_without_the_code(api):
    # Without the code, the answer must not depend on who owns the number: checked against the
    # owner's own name, the password rules would tell a stranger the number is taken, and by whom.
    owner = CustomerFactory(first_name="Shahnoza", last_name="Rahimova")
    unknown = "+998935550012"
    body = {"code": "123456", "password": "Shahnoza1"}

    known_answer = api.post("password/reset/", {"phone": owner.phone, **body})
    unknown_answer = api.post("password/reset/", {"phone": unknown, **body})

    assert known_answer.status_code == unknown_answer.status_code == 400
    assert known_answer.json() == unknown_answer.json()
    assert known_answer.json()["code"] == "code_invalid"


def test_the_owners_own_name_is_still_refused_as_a_password_once_the_code_proves_the_phone(api):
    owner = CustomerFactory(first_name="Shahnoza", last_name="Rahimova")
    forgot(api, owner.phone)

    response = api.post(
        "password/reset/", {"phone": owner.phone, "code": last_code(owner.phone), "password": "Shahnoza1"}
    )

    assert response.status_code == 400 and "password" in response.json()["fields"]
    owner.refresh_from_db()
    assert not owner.check_password("Shahnoza1")
