"""The profile: read, change names and address, change the phone with a code sent to the new number."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.conftest import last_code, sms_count
from accounts.tests.factories import DEFAULT_PASSWORD, CustomerFactory

NEW_PHONE = "+998977770011"


@pytest.fixture
def customer_tokens(api):
    user = CustomerFactory(first_name="Aziza", last_name="Karimova", address="Toshkent")
    tokens = api.post("login/", {"phone": user.phone, "password": DEFAULT_PASSWORD}).json()
    return user, tokens["access"]


def test_me_shows_the_profile(api, customer_tokens, django_assert_max_num_queries):
    user, access = customer_tokens

    with django_assert_max_num_queries(2):
        response = api.get("me/", token=access)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "phone": user.phone,
        "first_name": "Aziza",
        "last_name": "Karimova",
        "address": "Toshkent",
        "role": "customer",
        "date_joined": response.json()["date_joined"],
    }


def test_patch_changes_names_and_address_only(api, customer_tokens):
    user, access = customer_tokens

    response = api.patch(
        "me/",
        {"first_name": "Nodira", "address": "Samarqand, Registon 1", "phone": "+998900000000", "role": "admin"},
        token=access,
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.address) == ("Nodira", "Karimova", "Samarqand, Registon 1")
    assert user.phone != "+998900000000" and user.role == "customer"


@pytest.mark.parametrize("value", [0, 1.5, True, ["Toshkent"], {"city": "Toshkent"}])
def test_patch_refuses_a_text_field_that_is_not_a_string_and_changes_nothing(api, customer_tokens, value):
    # The schema says these are strings: a number must not be stored as its text.
    user, access = customer_tokens

    response = api.patch("me/", {"first_name": "Nodira", "address": value}, token=access)

    assert response.status_code == 400 and "address" in response.json()["fields"]
    user.refresh_from_db()
    assert user.first_name == "Aziza" and user.address != str(value)


def test_patch_refuses_a_too_long_name(api, customer_tokens):
    _user, access = customer_tokens

    response = api.patch("me/", {"last_name": "x" * 151}, token=access)

    assert response.status_code == 400 and "last_name" in response.json()["fields"]


def test_changing_the_phone_needs_the_code_sent_to_the_new_number(api, customer_tokens):
    user, access = customer_tokens

    started = api.post("me/phone/", {"phone": "97 777 00 11"}, token=access)
    assert started.status_code == 202 and sms_count(NEW_PHONE) == 1 and sms_count(user.phone) == 0
    user.refresh_from_db()
    assert user.phone != NEW_PHONE

    confirmed = api.post("me/phone/", {"phone": NEW_PHONE, "code": last_code(NEW_PHONE)}, token=access)

    assert confirmed.status_code == 200 and confirmed.json()["phone"] == NEW_PHONE
    user.refresh_from_db()
    assert user.phone == NEW_PHONE
    assert api.post("login/", {"phone": NEW_PHONE, "password": DEFAULT_PASSWORD}).status_code == 200


def test_a_phone_change_code_is_bound_to_the_user_who_asked(api, customer_tokens):
    _user, access = customer_tokens
    other = CustomerFactory()
    other_access = api.post("login/", {"phone": other.phone, "password": DEFAULT_PASSWORD}).json()["access"]
    api.post("me/phone/", {"phone": NEW_PHONE}, token=access)

    response = api.post("me/phone/", {"phone": NEW_PHONE, "code": last_code(NEW_PHONE)}, token=other_access)

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"
    other.refresh_from_db()
    assert other.phone != NEW_PHONE


def test_a_wrong_phone_change_code_is_refused(api, customer_tokens):
    user, access = customer_tokens
    api.post("me/phone/", {"phone": NEW_PHONE}, token=access)
    wrong = f"{(int(last_code(NEW_PHONE)) + 1) % 10**6:06d}"

    response = api.post("me/phone/", {"phone": NEW_PHONE, "code": wrong}, token=access)

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"


def test_asking_for_a_taken_number_answers_like_a_free_one_and_sends_nothing(api, customer_tokens):
    user, access = customer_tokens
    taken = CustomerFactory()

    taken_answer = api.post("me/phone/", {"phone": taken.phone}, token=access)
    free_answer = api.post("me/phone/", {"phone": NEW_PHONE}, token=access)

    assert taken_answer.status_code == free_answer.status_code == 202
    assert {**taken_answer.json(), "phone": None} == {**free_answer.json(), "phone": None}
    assert sorted(taken_answer.headers) == sorted(free_answer.headers)
    assert sms_count(taken.phone) == 0 and sms_count(NEW_PHONE) == 1
    user.refresh_from_db()
    assert user.phone != taken.phone


def test_changing_to_the_same_number_is_a_validation_error(api, customer_tokens):
    user, access = customer_tokens

    response = api.post("me/phone/", {"phone": user.phone}, token=access)

    assert response.status_code == 400 and response.json()["fields"]["phone"]


def test_the_phone_change_endpoint_needs_a_token(api):
    response = api.post("me/phone/", {"phone": NEW_PHONE})

    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_phone_change_code_expires(api, customer_tokens):
    _user, access = customer_tokens
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        api.post("me/phone/", {"phone": NEW_PHONE}, token=access)
        traveller.shift(timedelta(seconds=125))
        # The access token (10 minutes) is still valid; the code (2 minutes) is not.
        response = api.post("me/phone/", {"phone": NEW_PHONE, "code": last_code(NEW_PHONE)}, token=access)

    assert response.status_code == 400 and response.json()["code"] == "code_invalid"
