"""The SMS queue carries a code's id, never the code, and a code's SMS dies with the code."""

from datetime import timedelta

import pytest
import time_machine
from celery.signals import before_task_publish
from django.utils import timezone

from accounts.models import CodePurpose, PhoneCode
from accounts.services.otp import otp_issue
from accounts.sms import console
from accounts.tasks import sms_send_code
from tasks.celery import app as celery_app

pytestmark = pytest.mark.django_db

PHONE = "+998901112233"


@pytest.fixture
def published():
    """What goes to the broker: published for real (not eagerly), then purged."""
    messages = []

    def capture(sender=None, headers=None, body=None, **kwargs):
        messages.append({"task": sender, "headers": headers, "body": body})

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    before_task_publish.connect(capture, weak=False)
    yield messages
    before_task_publish.disconnect(capture)
    celery_app.conf.task_always_eager = eager
    with celery_app.connection_for_write() as connection:
        celery_app.control.purge(connection=connection)


def _issue(capture, **kwargs):
    with capture(execute=True):
        return otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None, **kwargs)


def test_the_queued_message_carries_the_codes_id_and_expires_with_the_code(
    published, django_capture_on_commit_callbacks, settings
):
    settings.OTP_CODE_TTL = timedelta(seconds=120)
    with time_machine.travel(timezone.now(), tick=False):
        issued = _issue(django_capture_on_commit_callbacks)
        now = timezone.now()

    (message,) = published
    assert message["task"] == "accounts.tasks.sms_send_code"
    args, kwargs, _embed = message["body"]
    assert kwargs == {"code_id": issued.phone_code.pk} and not args
    assert issued.code not in repr(message)
    expires = timezone.datetime.fromisoformat(message["headers"]["expires"])
    assert expires == now + timedelta(seconds=120)


def test_the_sms_text_waits_in_the_database_only_encrypted(published, django_capture_on_commit_callbacks):
    issued = _issue(django_capture_on_commit_callbacks)

    stored = bytes(PhoneCode.objects.get(pk=issued.phone_code.pk).sms_text)
    assert stored and issued.code.encode() not in stored and b"Dorixona" not in stored


def test_the_task_sends_the_code_once_and_then_forgets_its_text(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        issued = otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None)

    sms_send_code.apply(kwargs={"code_id": issued.phone_code.pk})
    sms_send_code.apply(kwargs={"code_id": issued.phone_code.pk})  # redelivered

    (message,) = console.outbox
    assert issued.code in message["text"] and message["message_id"] == f"otp-{issued.phone_code.pk}"
    assert PhoneCode.objects.get(pk=issued.phone_code.pk).sms_text is None


def test_a_send_task_that_runs_after_the_code_expired_sends_nothing(django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=False):
            issued = otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None)
        traveller.shift(timedelta(seconds=121))
        sms_send_code.apply(kwargs={"code_id": issued.phone_code.pk})

    assert console.outbox == []
    assert PhoneCode.objects.get(pk=issued.phone_code.pk).sms_text is None


def test_a_code_that_was_replaced_before_its_sms_left_is_not_sent(django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=False):
            first = otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None)
        traveller.shift(timedelta(seconds=61))
        with django_capture_on_commit_callbacks(execute=False):
            otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None)
        sms_send_code.apply(kwargs={"code_id": first.phone_code.pk})

    assert console.outbox == []


def test_an_unsent_code_has_no_text_to_send(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        issued = otp_issue(phone=PHONE, purpose=CodePurpose.PASSWORD_RESET, deliver=False, client=None)

    assert callbacks == [] and PhoneCode.objects.get(pk=issued.phone_code.pk).sms_text is None


def test_the_clean_up_drops_the_text_of_a_code_whose_sms_never_left(django_capture_on_commit_callbacks):
    from accounts.tasks import auth_cleanup

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=False):  # the broker was away: no task ran
            expired = otp_issue(phone=PHONE, purpose=CodePurpose.REGISTER, client=None)
            traveller.shift(timedelta(seconds=121))
            waiting = otp_issue(phone="+998901112244", purpose=CodePurpose.REGISTER, client=None)
        auth_cleanup()

    assert PhoneCode.objects.get(pk=expired.phone_code.pk).sms_text is None
    assert PhoneCode.objects.get(pk=waiting.phone_code.pk).sms_text is not None
