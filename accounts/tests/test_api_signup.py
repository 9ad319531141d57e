"""Sign-up by phone: register -> SMS code -> verify -> tokens; resend with a cooldown."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import PhoneCode, User
from accounts.roles import Role
from accounts.sms import console
from accounts.tests.conftest import last_code, sms_count
from accounts.tests.factories import CustomerFactory, StaffFactory

PHONE = "+998901112233"
SIGNUP = {"phone": "90 111 22 33", "password": "Kuchli-parol-2026", "first_name": "Aziza", "last_name": "Karimova"}


def test_sign_up_creates_an_inactive_customer_and_texts_a_code(api):
    response = api.post("register/", SIGNUP)

    assert response.status_code == 201, response.json()
    assert response.json() == {"phone": PHONE, "expires_in": 120, "resend_in": 60}
    user = User.objects.get(phone=PHONE)
    assert not user.is_active and user.role == Role.CUSTOMER and user.phone_verified_at is None
    assert user.first_name == "Aziza" and user.check_password(SIGNUP["password"])
    assert sms_count(PHONE) == 1


def test_the_code_is_stored_only_as_a_hash(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)

    stored = PhoneCode.objects.get(phone=PHONE)
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_verifying_the_code_activates_the_account_and_returns_tokens(api):
    api.post("register/", SIGNUP)

    response = api.post("verify/", {"phone": PHONE, "code": last_code(PHONE)})

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"access", "refresh"}
    user = User.objects.get(phone=PHONE)
    assert user.is_active and user.phone_verified_at is not None
    me = api.get("me/", token=response.json()["access"])
    assert me.status_code == 200 and me.json()["phone"] == PHONE


def test_full_walk_through_sign_up_verify_login_refresh_logout(api):
    api.post("register/", SIGNUP)
    api.post("verify/", {"phone": PHONE, "code": last_code(PHONE)})

    login = api.post("login/", {"phone": PHONE, "password": SIGNUP["password"]})
    assert login.status_code == 200
    refreshed = api.post("refresh/", {"refresh": login.json()["refresh"]})
    assert refreshed.status_code == 200
    logout = api.post("logout/", {"refresh": refreshed.json()["refresh"]})
    assert logout.status_code == 204
    again = api.post("refresh/", {"refresh": refreshed.json()["refresh"]})
    assert again.status_code == 401 and again.json()["code"] == "token_invalid"


def test_a_wrong_code_is_refused_and_leaves_the_account_inactive(api):
    api.post("register/", SIGNUP)
    wrong = "000000" if last_code(PHONE) != "000000" else "111111"

    response = api.post("verify/", {"phone": PHONE, "code": wrong})

    assert response.status_code == 400
    assert response.json()["code"] == "code_invalid"
    assert not User.objects.get(phone=PHONE).is_active


def test_a_code_expires_after_two_minutes(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", SIGNUP)
        traveller.shift(timedelta(seconds=121))
        response = api.post("verify/", {"phone": PHONE, "code": last_code(PHONE)})

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"


def test_five_wrong_tries_kill_the_code_even_the_right_one_after(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    answers = [api.post("verify/", {"phone": PHONE, "code": wrong}).json()["code"] for _ in range(5)]
    right = api.post("verify/", {"phone": PHONE, "code": code})

    assert answers == ["code_invalid"] * 4 + ["code_locked"]
    assert right.status_code == 400 and right.json()["code"] == "code_locked"
    assert PhoneCode.objects.get(phone=PHONE).attempts == 5
    assert not User.objects.get(phone=PHONE).is_active


def test_a_code_works_only_once(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)
    assert api.post("verify/", {"phone": PHONE, "code": code}).status_code == 200

    response = api.post("verify/", {"phone": PHONE, "code": code})

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"


def test_resend_waits_for_the_cooldown_then_sends_a_new_code_that_replaces_the_old(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", SIGNUP)
        first = last_code(PHONE)

        too_soon = api.post("resend/", {"phone": PHONE})
        assert too_soon.status_code == 429
        assert too_soon.json()["code"] == "code_cooldown"
        assert too_soon["Retry-After"] == "60"

        traveller.shift(timedelta(seconds=61))
        later = api.post("resend/", {"phone": PHONE})
        assert later.status_code == 202
        second = last_code(PHONE)
        assert sms_count(PHONE) == 2

        if first != second:
            old = api.post("verify/", {"phone": PHONE, "code": first})
            assert old.json()["code"] == "code_invalid"
        assert api.post("verify/", {"phone": PHONE, "code": second}).status_code == 200


def test_an_unfinished_sign_up_may_be_started_again(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", SIGNUP)
        traveller.shift(timedelta(minutes=5))
        response = api.post("register/", {**SIGNUP, "first_name": "Nodira", "password": "Boshqa-parol-2026"})

    assert response.status_code == 201
    user = User.objects.get(phone=PHONE)
    assert user.first_name == "Nodira" and user.check_password("Boshqa-parol-2026")


def test_signing_up_with_a_registered_phone_is_refused(api):
    CustomerFactory(phone=PHONE)

    response = api.post("register/", SIGNUP)

    assert response.status_code == 409
    assert response.json()["code"] == "phone_taken"
    assert sms_count(PHONE) == 0 and not PhoneCode.objects.exists()


def test_a_staff_phone_cannot_be_taken_over_by_signing_up(api):
    StaffFactory(phone=PHONE)

    response = api.post("register/", SIGNUP)

    assert response.status_code == 409 and response.json()["code"] == "phone_taken"


def test_a_deactivated_customer_cannot_reactivate_by_signing_up_again(api):
    CustomerFactory(phone=PHONE, is_active=False)

    response = api.post("register/", SIGNUP)

    assert response.status_code == 409
    assert not User.objects.get(phone=PHONE).is_active


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("phone", "+7 912 345 67 89"), ("password", "12345678"), ("first_name", "")],
)
def test_invalid_sign_up_fields_are_refused_with_the_field_named(api, field, value):
    response = api.post("register/", {**SIGNUP, field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and field in body["fields"] and body["message"]
    assert not User.objects.exists()


def test_a_missing_body_and_malformed_json_answer_in_the_error_shape(api):
    empty = api.post("register/", {})
    malformed = api.client.post("/api/v1/auth/register/", "{not json", content_type="application/json")

    assert empty.status_code == 400 and empty.json()["code"] == "validation_error"
    assert malformed.status_code == 400 and malformed.json() == {
        "code": "malformed_request",
        "message": "The request body is not valid JSON.",
    }


def test_verify_with_a_malformed_code_is_a_validation_error(api):
    response = api.post("verify/", {"phone": PHONE, "code": "12ab"})

    assert response.status_code == 400
    assert response.json()["fields"]["code"] == ["Enter the 6-digit code from the SMS."]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("ru", "Код неверный или истёк. Запросите новый."),
        ("uz", "Kod notoʻgʻri yoki muddati oʻtgan. Yangisini soʻrang."),
        ("en", "The code is wrong or has expired. Request a new one."),
    ],
)
def test_messages_are_translated_into_the_requested_language_and_the_code_is_not(api, language, message):
    response = api.post("verify/", {"phone": PHONE, "code": "123456"}, HTTP_ACCEPT_LANGUAGE=language)

    assert response.json() == {"code": "code_invalid", "message": message}


def test_the_sms_text_comes_from_the_one_configured_template(api, settings):
    settings.SMS_CODE_TEMPLATE = "Kod: {code} ({minutes} min)"
    settings.OTP_CODE_TTL = timedelta(minutes=3)

    api.post("register/", SIGNUP)

    (message,) = console.outbox
    assert message["text"] == f"Kod: {last_code(PHONE)} (3 min)"
    assert message["phone"] == PHONE
