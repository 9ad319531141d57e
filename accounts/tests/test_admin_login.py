import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, BackupCodeDevice
from accounts.roles import Role
from accounts.services.staff import backup_codes_issue
from accounts.tests.factories import StaffFactory, UserFactory
from conftest import totp_now

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_staff_with_an_authenticator_reaches_the_dashboard_with_a_valid_code(make_staff, login_staff, client):
    user = make_staff(Role.PHARMACIST)
    login_staff(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b'id="dashboard"' in response.content


def test_the_phone_may_be_typed_in_any_common_format(make_staff, client, password):
    user = make_staff(Role.OPERATOR, phone="+998901112233")
    code = totp_now(user.totpdevice_set.get())
    response = client.post(LOGIN, {"username": "90 111 22 33", "password": password, "otp_token": code})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_login_without_the_code_is_refused(make_staff, client, password):
    user = make_staff(Role.PHARMACIST)
    response = client.post(LOGIN, {"username": user.phone, "password": password})
    assert response.status_code == 200
    assert b"Enter the code from your authenticator app." in response.content
    assert client.get("/admin/").status_code == 302


def test_login_with_a_wrong_code_is_refused(make_staff, client, password):
    user = make_staff(Role.PHARMACIST)
    wrong = _wrong(totp_now(user.totpdevice_set.get()))
    response = client.post(LOGIN, {"username": user.phone, "password": password, "otp_token": wrong})
    assert response.status_code == 200
    assert b"That code is not valid" in response.content
    assert client.get("/admin/").status_code == 302


def test_a_session_logged_in_without_the_second_factor_is_refused_by_the_admin(make_staff, client):
    user = make_staff(Role.ADMIN)
    client.force_login(user)  # password only: not OTP-verified
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.COURIER])
def test_customers_and_couriers_can_never_enter_the_admin(role, client, password):
    user = UserFactory(role=role)
    response = client.post(LOGIN, {"username": user.phone, "password": password})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_staff_without_a_device_is_taken_through_enrolment_before_anything_else(client, password):
    user = StaffFactory(role=Role.INVENTORY)

    response = client.post(LOGIN, {"username": user.phone, "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:otp_setup")
    assert b'id="otp-qr"' in response.content
    # Nothing else is reachable until enrolment is finished.
    assert client.get("/admin/catalog/lot/").status_code == 302

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("admin:otp_setup"), {"token": _wrong(totp_now(device))})
    assert b"That code is not valid" in response.content
    device.refresh_from_db()
    assert not device.confirmed

    # A failed code throttles the device for a moment (brute-force protection).
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.post(reverse("admin:otp_setup"), {"token": totp_now(device)})
    assert response.status_code == 200
    assert b'id="backup-codes"' in response.content
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_backup_codes_are_stored_only_as_hashes_and_work_once(make_staff, client, password):
    user = make_staff(Role.PHARMACIST)
    codes = backup_codes_issue(user=user, count=3)

    stored = list(BackupCode.objects.filter(device__user=user).values_list("code_hash", flat=True))
    assert len(stored) == 3
    assert not any(code.replace("-", "") in digest or code in digest for code in codes for digest in stored)

    response = Client().post(LOGIN, {"username": user.phone, "password": password, "otp_token": codes[0]})
    assert response.status_code == 302
    second = Client()
    response = second.post(LOGIN, {"username": user.phone, "password": password, "otp_token": codes[0]})
    assert response.status_code == 200
    assert second.get("/admin/").status_code == 302
    assert BackupCodeDevice.objects.get(user=user).remaining == 2


def test_repeated_failures_lock_the_phone_out_on_that_ip_only(make_staff, password, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = make_staff(Role.PHARMACIST)
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for _ in range(3):
        attacker.post(LOGIN, {"username": user.phone, "password": "wrong-password"})

    code = totp_now(user.totpdevice_set.get())
    response = attacker.post(LOGIN, {"username": user.phone, "password": password, "otp_token": code})
    assert response.status_code == 429
    assert b'id="lockout-message"' in response.content

    # The pharmacist at the counter, on another address, is not locked out.
    counter = Client(REMOTE_ADDR="10.0.0.10")
    response = counter.post(LOGIN, {"username": user.phone, "password": password, "otp_token": code})
    assert response.status_code == 302


def test_an_administrator_sees_the_lockout_and_unlocks_it(make_staff, staff_client, password, settings):
    settings.AXES_FAILURE_LIMIT = 2
    user = make_staff(Role.OPERATOR)
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for _ in range(2):
        attacker.post(LOGIN, {"username": user.phone, "password": "wrong-password"})
    attempt = AccessAttempt.objects.get(username=user.phone)

    admin_client = staff_client(Role.ADMIN)
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert user.phone.encode() in listing.content

    response = admin_client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    code = totp_now(user.totpdevice_set.get())
    response = attacker.post(LOGIN, {"username": user.phone, "password": password, "otp_token": code})
    assert response.status_code == 302


def test_an_administrator_resets_a_member_s_devices_and_they_enrol_again(make_staff, staff_client, password):
    member = make_staff(Role.PHARMACIST)
    backup_codes_issue(user=member, count=2)
    admin_client = staff_client(Role.ADMIN)
    url = reverse("admin:accounts_user_reset_second_factor", args=[member.pk])

    assert admin_client.get(url).status_code == 200  # confirmation page, nothing removed yet
    assert TOTPDevice.objects.filter(user=member).exists()

    response = admin_client.post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not BackupCodeDevice.objects.filter(user=member).exists()

    response = Client().post(LOGIN, {"username": member.phone, "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:otp_setup")


def test_only_an_administrator_may_reset_devices(make_staff, staff_client):
    member = make_staff(Role.OPERATOR)
    pharmacist_client = staff_client(Role.PHARMACIST)
    response = pharmacist_client.post(reverse("admin:accounts_user_reset_second_factor", args=[member.pk]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=member).exists()


def _browser_input(page, name: str, typed: str) -> str:
    """What a browser submits for ``typed`` in the input ``name``: cut at its maxlength."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page.content.decode()).group(0)
    limit = re.search(r'maxlength="(\d+)"', tag)
    return typed[: int(limit.group(1))] if limit else typed


@pytest.mark.parametrize(
    "typed",
    ["+998 90 100 00 02", "+998 (90) 100-00-02", "00 998 90 100 00 02", "+998-90-100-00-02"],
)
def test_a_phone_written_like_the_placeholder_is_not_cut_short_by_the_login_field(make_staff, client, password, typed):
    user = make_staff(Role.OPERATOR, phone="+998901000002")
    code = totp_now(user.totpdevice_set.get())

    page = client.get(LOGIN)
    submitted = _browser_input(page, "username", typed)
    response = client.post(LOGIN, {"username": submitted, "password": password, "otp_token": code})

    assert submitted == typed
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.django_db
def test_no_administrator_can_read_a_colleagues_authenticator_secret(staff_client, make_staff):
    # A secret read off the device page would be a copy of that member's second factor.
    colleague = make_staff(Role.PHARMACIST)
    device = colleague.totpdevice_set.get()
    client = staff_client(Role.ADMIN)

    change = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    listing = client.get("/admin/otp_totp/totpdevice/")
    qrcode = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/")
    config = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/")

    assert change.status_code == 200 and listing.status_code == 200
    assert device.key not in change.content.decode() and device.key not in listing.content.decode()
    assert (qrcode.status_code, config.status_code) == (403, 403)


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_refused_login_says_why_once_and_offers_no_way_back_to_the_login(make_staff, client, password, wrong):
    user = make_staff(Role.PHARMACIST)
    device = user.totpdevice_set.get(confirmed=True)
    data = {"username": user.phone, "password": password, "otp_token": totp_now(device)}
    data["password" if wrong == "password" else "otp_token"] = (
        "wrong" if wrong == "password" else _wrong(data["otp_token"])
    )

    html = client.post(LOGIN, data).content.decode()

    notes = re.findall(r'class="errornote', html)
    assert len(notes) == 1, notes
    assert "Please correct the error below." not in html
    assert "Return to site" not in html
