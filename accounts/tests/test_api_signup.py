"""Sign-up by phone: register -> SMS code -> verify -> tokens; resend with a cooldown."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import PhoneCode, User
from accounts.roles import Role
from accounts.sms import console
from accounts.tests.conftest import last_code, sms_count
from accounts.tests.factories import DEFAULT_PASSWORD, CustomerFactory, StaffFactory, UserFactory

PHONE = "+998901112233"
SIGNUP = {"phone": "90 111 22 33", "password": "Kuchli-parol-2026", "first_name": "Aziza", "last_name": "Karimova"}


def test_sign_up_texts_a_code_and_creates_no_account_until_it_is_confirmed(api):
    response = api.post("register/", SIGNUP)

    assert response.status_code == 202, response.json()
    assert response.json() == {"phone": PHONE, "expires_in": 120, "resend_in": 60}
    assert not User.objects.filter(phone=PHONE).exists()
    assert sms_count(PHONE) == 1


def test_the_code_is_stored_only_as_a_hash(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)

    stored = PhoneCode.objects.get(phone=PHONE)
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def verify(api, code, password=SIGNUP["password"], phone=PHONE):
    return api.post("verify/", {"phone": phone, "code": code, "password": password})


def test_verifying_the_code_with_the_password_activates_the_account_and_returns_tokens(api):
    api.post("register/", SIGNUP)

    response = verify(api, last_code(PHONE))

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"access", "refresh"}
    user = User.objects.get(phone=PHONE)
    assert user.is_active and user.phone_verified_at is not None and user.role == Role.CUSTOMER
    assert user.first_name == "Aziza" and user.last_name == "Karimova" and user.check_password(SIGNUP["password"])
    me = api.get("me/", token=response.json()["access"])
    assert me.status_code == 200 and me.json()["phone"] == PHONE


def test_full_walk_through_sign_up_verify_login_refresh_logout(api):
    api.post("register/", SIGNUP)
    verify(api, last_code(PHONE))

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

    response = verify(api, wrong)

    assert response.status_code == 400
    assert response.json()["code"] == "code_invalid"
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_code_expires_after_two_minutes(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", SIGNUP)
        traveller.shift(timedelta(seconds=121))
        response = verify(api, last_code(PHONE))

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"


def test_five_wrong_tries_kill_the_code_even_the_right_one_after(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    answers = [verify(api, wrong).json()["code"] for _ in range(5)]
    right = verify(api, code)

    assert answers == ["code_invalid"] * 4 + ["code_locked"]
    assert right.status_code == 400 and right.json()["code"] == "code_locked"
    assert PhoneCode.objects.get(phone=PHONE).attempts == 5
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_code_works_only_once(api):
    api.post("register/", SIGNUP)
    code = last_code(PHONE)
    assert verify(api, code).status_code == 200

    response = verify(api, code)

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
            old = verify(api, first)
            assert old.json()["code"] == "code_invalid"
        assert verify(api, second).status_code == 200


OWNER = {**SIGNUP, "first_name": "Aziza", "password": "Egasining-paroli-2026", "address": "Chilonzor 5"}
STRANGER = {**SIGNUP, "first_name": "Begona", "password": "Begona-paroli-2026", "address": "Boshqa joy"}


def test_an_unfinished_sign_up_may_be_started_again_and_the_password_given_with_the_code_counts(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", SIGNUP)
        traveller.shift(timedelta(minutes=5))
        response = api.post("register/", {**SIGNUP, "first_name": "Nodira", "password": "Boshqa-parol-2026"})
        confirmed = verify(api, last_code(PHONE), password="Boshqa-parol-2026")

    assert response.status_code == 202 and confirmed.status_code == 200
    user = User.objects.get(phone=PHONE)
    assert user.first_name == "Nodira" and user.check_password("Boshqa-parol-2026")


@pytest.mark.parametrize("owner_first", [True, False], ids=["stranger signs up after the owner", "before"])
def test_a_strangers_sign_up_of_the_same_number_does_not_replace_the_owners_password_or_profile(api, owner_first):
    first, second = (OWNER, STRANGER) if owner_first else (STRANGER, OWNER)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", first)
        traveller.shift(timedelta(seconds=61))
        api.post("register/", second)
        # The owner types the newest code their phone received, with their own password.
        response = verify(api, last_code(PHONE), password=OWNER["password"])

    assert response.status_code == 200, response.json()
    user = User.objects.get(phone=PHONE)
    assert user.check_password(OWNER["password"]) and not user.check_password(STRANGER["password"])
    assert (user.first_name, user.address) == ("Aziza", "Chilonzor 5")
    stranger_login = api.post("login/", {"phone": PHONE, "password": STRANGER["password"]})
    assert stranger_login.status_code == 401


def test_a_strangers_sign_up_does_not_lock_the_owner_out_of_confirming(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("register/", OWNER)
        owners_code = last_code(PHONE)
        traveller.shift(timedelta(seconds=30))
        # Refused by the cooldown: the owner's code stays the live one.
        api.post("register/", STRANGER)
        response = verify(api, owners_code, password=OWNER["password"])

    assert response.status_code == 200, response.json()
    assert User.objects.get(phone=PHONE).check_password(OWNER["password"])


def test_wrong_guesses_without_a_sign_ups_password_do_not_use_up_the_owners_code(api):
    # Without the password of a sign-up of the number, a guess is refused before the code is
    # looked at: a stranger cannot lock the code the owner is about to type.
    api.post("register/", OWNER)
    owners_code = last_code(PHONE)
    wrong = f"{(int(owners_code) + 1) % 10**6:06d}"

    guesses = [verify(api, wrong, password="Begona-parol-2026") for _ in range(6)]
    response = verify(api, owners_code, password=OWNER["password"])

    assert {g.json()["code"] for g in guesses} == {"code_invalid"}
    assert response.status_code == 200, response.json()


def test_a_code_with_a_password_no_sign_up_of_that_number_was_given_is_refused(api):
    api.post("register/", OWNER)

    response = verify(api, last_code(PHONE), password=STRANGER["password"])

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_pending_sign_up_left_from_before_is_confirmed_with_the_profile_sent_with_the_code(api):
    UserFactory(phone=PHONE, is_active=False, first_name="Eski")

    api.post("register/", OWNER)
    response = verify(api, last_code(PHONE), password=OWNER["password"])

    assert response.status_code == 200, response.json()
    user = User.objects.get(phone=PHONE)
    assert user.is_active and user.first_name == "Aziza" and user.check_password(OWNER["password"])


def _existing_customer():
    return CustomerFactory(phone=PHONE, first_name="Egasi")


def _existing_staff():
    return StaffFactory(phone=PHONE, first_name="Egasi")


def _deactivated_customer():
    return CustomerFactory(phone=PHONE, first_name="Egasi", is_active=False, phone_verified_at=timezone.now())


@pytest.mark.parametrize(
    "make_existing",
    [_existing_customer, _existing_staff, _deactivated_customer],
    ids=["customer", "staff", "deactivated customer"],
)
def test_signing_up_with_a_registered_phone_answers_exactly_like_a_new_number(api, make_existing):
    existing = make_existing()
    new_phone = "+998901112244"

    taken = api.post("register/", SIGNUP)
    free = api.post("register/", {**SIGNUP, "phone": new_phone})

    assert taken.status_code == free.status_code == 202
    assert {**taken.json(), "phone": None} == {**free.json(), "phone": None}
    assert sorted(taken.headers) == sorted(free.headers)
    # The owner is told by SMS that they already have an account; nothing about it changes.
    (message,) = [m for m in console.outbox if m["phone"] == PHONE]
    assert "already" in message["text"] or "allaqachon" in message["text"]
    assert not re.search(r"\b\d{6}\b", message["text"])
    existing.refresh_from_db()
    assert existing.first_name == "Egasi" and existing.check_password(DEFAULT_PASSWORD)
    assert existing.is_active == (make_existing is not _deactivated_customer)


def test_a_registered_phone_cannot_be_confirmed_by_signing_up_again(api):
    existing = _existing_customer()

    api.post("register/", SIGNUP)
    guesses = [verify(api, f"{n:06d}").json()["code"] for n in (0, 1)]

    assert set(guesses) == {"code_invalid"}
    existing.refresh_from_db()
    assert existing.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("phone", "+7 912 345 67 89"), ("password", "12345678"), ("first_name", "")],
)
def test_invalid_sign_up_fields_are_refused_with_the_field_named(api, field, value):
    response = api.post("register/", {**SIGNUP, field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and field in body["fields"] and body["message"]
    assert not User.objects.exists() and not PhoneCode.objects.exists()


def test_a_missing_body_and_malformed_json_answer_in_the_error_shape(api):
    empty = api.post("register/", {})
    malformed = api.client.post("/api/v1/auth/register/", "{not json", content_type="application/json")

    assert empty.status_code == 400 and empty.json()["code"] == "validation_error"
    assert malformed.status_code == 400 and malformed.json() == {
        "code": "malformed_request",
        "message": "The request body is not valid JSON.",
    }


def test_verify_with_a_malformed_code_is_a_validation_error(api):
    response = verify(api, "12ab")

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
    response = api.post("verify/", {"phone": PHONE, "code": "123456", "password": "x"}, HTTP_ACCEPT_LANGUAGE=language)

    assert response.json() == {"code": "code_invalid", "message": message}


def test_the_sms_text_comes_from_the_one_configured_template(api, settings):
    settings.SMS_CODE_TEMPLATE = "Kod: {code} ({minutes} min)"
    settings.OTP_CODE_TTL = timedelta(minutes=3)

    api.post("register/", SIGNUP)

    (message,) = console.outbox
    assert message["text"] == f"Kod: {last_code(PHONE)} (3 min)"
    assert message["phone"] == PHONE
