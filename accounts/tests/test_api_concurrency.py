"""Races that only a real database shows: two refreshes of one token, parallel guesses of one code."""

import threading

import pytest
from django.db import connection

from accounts.exceptions import CodeInvalid, CodeLocked, TokenInvalid
from accounts.models import CodePurpose, PhoneCode
from accounts.services.customers import token_refresh, tokens_issue
from accounts.services.otp import otp_issue, otp_verify
from accounts.tests.factories import CustomerFactory
from conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _run_in_parallel(target, count):
    barrier = threading.Barrier(count)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - the outcome is what is being tested
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_simultaneous_refreshes_of_one_token_give_one_new_pair():
    refresh = tokens_issue(user=CustomerFactory())["refresh"]

    results = _run_in_parallel(lambda: token_refresh(refresh=refresh), 4)

    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1, results
    assert all(isinstance(r, TokenInvalid) for r in results if r not in winners)


def test_parallel_wrong_guesses_are_all_counted():
    issued = otp_issue(phone="+998901234567", purpose=CodePurpose.REGISTER, deliver=False, client=None)
    wrong = f"{(int(issued.code) + 1) % 10**6:06d}"

    results = _run_in_parallel(lambda: otp_verify(phone="+998901234567", purpose=CodePurpose.REGISTER, code=wrong), 8)

    assert all(isinstance(r, CodeInvalid | CodeLocked) for r in results)
    assert PhoneCode.objects.get(pk=issued.phone_code.pk).attempts == 5
    with pytest.raises(CodeLocked):
        otp_verify(phone="+998901234567", purpose=CodePurpose.REGISTER, code=issued.code)
