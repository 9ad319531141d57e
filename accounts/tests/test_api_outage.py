"""With Redis away, code-sending endpoints say the service is unavailable, not "wait for the cooldown"."""

import pytest

from accounts.models import PhoneCode, User
from accounts.tests.conftest import sms_count
from accounts.tests.factories import CustomerFactory

PHONE = "+998901112233"
SIGNUP = {"phone": PHONE, "password": "Kuchli-parol-2026", "first_name": "Aziza", "last_name": "Karimova"}

DEAD_REDIS = {
    "default": {
        # A closed local port: every operation fails at once, as in an outage.
        "BACKEND": "backoffice.cache.FailSoftRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS


def _assert_unavailable(response):
    assert response.status_code == 503, response.json()
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The service is temporarily unavailable. Try again in a few minutes.",
    }
    assert int(response["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("path", "body"),
    [("register/", SIGNUP), ("password/forgot/", {"phone": PHONE}), ("resend/", {"phone": PHONE})],
)
def test_code_sending_endpoints_answer_503_while_redis_is_down(api, redis_down, path, body):
    CustomerFactory(phone="+998935550022")

    response = api.post(path, body)

    _assert_unavailable(response)
    assert sms_count(PHONE) == 0 and not PhoneCode.objects.exists()


def test_a_sign_up_refused_for_the_outage_leaves_no_account_behind(api, redis_down):
    api.post("register/", SIGNUP)

    assert not User.objects.filter(phone=PHONE).exists()


def test_forgot_password_answers_the_same_outage_for_known_and_unknown_numbers(api, redis_down):
    known = CustomerFactory(phone="+998935550022")

    known_answer = api.post("password/forgot/", {"phone": known.phone})
    unknown_answer = api.post("password/forgot/", {"phone": "+998935550011"})

    _assert_unavailable(known_answer)
    assert known_answer.json() == unknown_answer.json() and known_answer.status_code == unknown_answer.status_code
