"""The user pages: a new user's role is chosen, and a member's second factor is visible."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, User
from accounts.roles import Role
from accounts.services.staff import backup_codes_issue
from accounts.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

NEW_USER = {
    "phone": "+998901234567",
    "first_name": "Dilnoza",
    "last_name": "Karimova",
    "password1": "Long-enough-pass-77",
    "password2": "Long-enough-pass-77",
}


def test_the_add_user_page_preselects_no_role(staff_client):
    html = staff_client(Role.ADMIN).get(reverse("admin:accounts_user_add")).content.decode()

    select = re.search(r'<select[^>]*name="role".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"[^>]*selected', select) == [""]


def test_a_user_added_without_a_role_is_refused(staff_client):
    client = staff_client(Role.ADMIN)

    response = client.post(reverse("admin:accounts_user_add"), {**NEW_USER, "role": ""})

    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(phone=NEW_USER["phone"]).exists()


def test_a_user_is_added_with_the_role_chosen(staff_client):
    client = staff_client(Role.ADMIN)

    response = client.post(reverse("admin:accounts_user_add"), {**NEW_USER, "role": Role.OPERATOR})

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(phone=NEW_USER["phone"]).role == Role.OPERATOR


def status_block(client, user) -> str:
    html = client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    return html.split('id="second-factor-status"', 1)[1].split("</fieldset>", 1)[0]


def test_the_user_page_shows_a_members_second_factor(staff_client):
    client = staff_client(Role.ADMIN)
    member = StaffFactory(role=Role.PHARMACIST)
    TOTPDevice.objects.create(user=member, name="Pixel 8", confirmed=True)
    TOTPDevice.objects.create(user=member, name="abandoned", confirmed=False)
    backup_codes_issue(user=member, count=5)
    used = timezone.make_aware(datetime.datetime(2026, 11, 30, 9, 15))
    BackupCode.objects.filter(pk=BackupCode.objects.filter(device__user=member).first().pk).update(used_at=used)

    block = status_block(client, member)

    assert "Enrolled" in block and "Not enrolled" not in block
    assert "Pixel 8" in block and "abandoned" not in block
    assert "1 enrolment not confirmed" in block
    assert re.search(r"Backup codes left: <strong>4</strong>", block)
    assert "30.11.2026 09:15" in block


def test_the_user_page_says_when_a_member_has_no_second_factor(staff_client):
    client = staff_client(Role.ADMIN)
    member = StaffFactory(role=Role.INVENTORY)

    block = status_block(client, member)

    assert "Not enrolled" in block and "Backup codes left: <strong>0</strong>" in block and "never" in block


def test_the_second_factor_status_reads_in_russian(staff_client):
    client = staff_client(Role.ADMIN)
    member = StaffFactory(role=Role.PHARMACIST)
    TOTPDevice.objects.create(user=member, name="Pixel 8", confirmed=False)
    TOTPDevice.objects.create(user=member, name="Galaxy", confirmed=False)
    client.cookies["django_language"] = "ru"

    block = status_block(client, member)

    assert "Не подключён" in block and "2 подключения не подтверждены" in block and "никогда" in block
