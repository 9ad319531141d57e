"""The real SMS backends against local servers that behave as the providers document."""

import pytest

from accounts.sms import SmsError, SmsTemporaryError, get_backend
from accounts.sms.eskiz import EskizBackend
from accounts.sms.playmobile import PlayMobileBackend
from accounts.tasks import sms_send
from accounts.tests.conftest import AUTH
from accounts.tests.fake_gateways import FakeEskiz, FakePlayMobile

PHONE = "+998901234567"


@pytest.fixture
def eskiz(settings):
    with FakeEskiz() as server:
        settings.SMS_BACKEND = "eskiz"
        settings.ESKIZ_BASE_URL = server.url
        settings.ESKIZ_EMAIL = server.email
        settings.ESKIZ_PASSWORD = server.password
        settings.ESKIZ_FROM = "4546"
        settings.SMS_TIMEOUT_SECONDS = 0.5
        yield server


@pytest.fixture
def playmobile(settings):
    with FakePlayMobile() as server:
        settings.SMS_BACKEND = "playmobile"
        settings.PLAYMOBILE_BASE_URL = server.url
        settings.PLAYMOBILE_LOGIN = "dorixona"
        settings.PLAYMOBILE_PASSWORD = "pm-secret"
        settings.PLAYMOBILE_ORIGINATOR = "3700"
        settings.SMS_TIMEOUT_SECONDS = 0.5
        yield server


def sends(server):
    return [r for r in server.requests if r["path"] != "/api/auth/login"]


# --- Eskiz -----------------------------------------------------------------------


def test_eskiz_logs_in_then_sends_with_the_bearer_token(eskiz):
    message_id = get_backend().send(phone=PHONE, text="Kod 123456", message_id="otp-1")

    assert eskiz.logins == 1
    (sent,) = sends(eskiz)
    assert sent["form"] == {"mobile_phone": "998901234567", "message": "Kod 123456", "from": "4546"}
    assert message_id  # the provider's id


def test_eskiz_reuses_its_token_between_messages(eskiz):
    backend = get_backend()
    backend.send(phone=PHONE, text="a", message_id="1")
    get_backend().send(phone=PHONE, text="b", message_id="2")

    assert eskiz.logins == 1 and len(sends(eskiz)) == 2


def test_eskiz_logs_in_again_when_the_token_is_refused_with_401(eskiz):
    get_backend().send(phone=PHONE, text="a", message_id="1")
    eskiz.expire_tokens()

    get_backend().send(phone=PHONE, text="b", message_id="2")

    assert eskiz.logins == 2
    assert [r["path"] for r in eskiz.requests] == [
        "/api/auth/login",
        "/api/message/sms/send",
        "/api/message/sms/send",  # 401
        "/api/auth/login",
        "/api/message/sms/send",
    ]


def test_eskiz_wrong_credentials_are_a_permanent_error(eskiz):
    backend = EskizBackend(base_url=eskiz.url, email=eskiz.email, password="wrong", timeout=0.5)

    with pytest.raises(SmsError) as caught:
        backend.send(phone=PHONE, text="a", message_id="1")

    assert not isinstance(caught.value, SmsTemporaryError)


def test_eskiz_5xx_is_a_temporary_error(eskiz):
    eskiz.fail_next = [502]

    with pytest.raises(SmsTemporaryError):
        get_backend().send(phone=PHONE, text="a", message_id="1")


def test_eskiz_timeout_is_a_temporary_error(eskiz):
    get_backend().send(phone=PHONE, text="warm-up", message_id="0")
    eskiz.fail_next = ["hang"]

    with pytest.raises(SmsTemporaryError):
        get_backend().send(phone=PHONE, text="a", message_id="1")


def test_sign_up_over_eskiz_delivers_the_code_that_verifies(api, eskiz):
    response = api.post(
        "register/", {"phone": "90 123 45 67", "password": "Kuchli-parol-2026", "first_name": "A", "last_name": "B"}
    )
    assert response.status_code == 202

    (sent,) = sends(eskiz)
    assert sent["form"]["mobile_phone"] == "998901234567"
    code = sent["form"]["message"].split("kodi ")[1][:6]
    assert (
        api.post(AUTH + "verify/", {"phone": PHONE, "code": code, "password": "Kuchli-parol-2026"}).status_code == 200
    )


# --- Play Mobile -------------------------------------------------------------------


def test_playmobile_sends_the_documented_json_with_basic_auth(playmobile):
    result = get_backend().send(phone=PHONE, text="Kod 654321", message_id="otp-42")

    (sent,) = playmobile.requests
    assert sent["json"] == {
        "recipient": "998901234567",
        "message-id": "otp-42",
        "sms": {"originator": "3700", "content": {"text": "Kod 654321"}},
    }
    assert result == "otp-42"


def test_playmobile_wrong_credentials_are_a_permanent_error(playmobile):
    backend = PlayMobileBackend(base_url=playmobile.url, login="dorixona", password="wrong", timeout=0.5)

    with pytest.raises(SmsError) as caught:
        backend.send(phone=PHONE, text="a", message_id="1")

    assert not isinstance(caught.value, SmsTemporaryError)


@pytest.mark.parametrize("failure", [500, 503, "hang"])
def test_playmobile_5xx_and_timeouts_are_temporary_errors(playmobile, failure):
    playmobile.fail_next = [failure]

    with pytest.raises(SmsTemporaryError):
        get_backend().send(phone=PHONE, text="a", message_id="1")


@pytest.fixture
def eager_retries():
    """Let an eagerly run task retry in-process (a worker would re-queue it with back-off)."""
    from tasks.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_the_send_task_retries_temporary_failures_until_the_gateway_answers(playmobile, eager_retries):
    playmobile.fail_next = [500, "hang"]

    result = sms_send.delay(phone=PHONE, text="Kod 111222", message_id="otp-7").get()

    assert result == "otp-7"
    assert len(playmobile.requests) == 3
    # The same message-id every time: the broker can tell a retry from a new message.
    assert {r["json"]["message-id"] for r in playmobile.requests if "json" in r} == {"otp-7"}


def test_the_send_task_stops_after_its_retries_when_the_gateway_stays_down(playmobile, eager_retries):
    playmobile.fail_next = [500] * 10

    with pytest.raises(SmsTemporaryError):
        sms_send.delay(phone=PHONE, text="a", message_id="otp-9").get()

    assert len(playmobile.requests) == 1 + sms_send.max_retries


def test_the_send_task_backs_off_between_retries():
    assert sms_send.autoretry_for == (SmsTemporaryError,)
    assert sms_send.retry_backoff and sms_send.max_retries == 5


def test_the_send_task_gives_up_on_a_permanent_refusal_without_retrying(playmobile, settings, eager_retries):
    settings.PLAYMOBILE_PASSWORD = "wrong"

    with pytest.raises(SmsError):
        sms_send.delay(phone=PHONE, text="a", message_id="otp-8").get()

    assert len(playmobile.requests) == 1


def test_a_gateway_failure_does_not_break_the_api_answer(api, playmobile, settings):
    settings.PLAYMOBILE_PASSWORD = "wrong"

    response = api.post("password/forgot/", {"phone": PHONE})

    assert response.status_code == 202


def test_the_console_backend_is_the_default(settings):
    from accounts.sms.console import ConsoleBackend

    assert isinstance(get_backend(), ConsoleBackend)
