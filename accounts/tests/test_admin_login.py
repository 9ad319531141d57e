import pytest

from accounts.roles import Role
from conftest import totp_now

pytestmark = pytest.mark.django_db


def test_staff_with_an_authenticator_reaches_the_dashboard_with_a_valid_code(make_staff, login_staff, client):
    user = make_staff(Role.PHARMACIST)
    login_staff(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b'id="dashboard"' in response.content


def test_login_without_the_code_is_refused(make_staff, client, password):
    user = make_staff(Role.PHARMACIST)
    response = client.post("/admin/login/", {"username": user.phone, "password": password})
    assert response.status_code == 200
    assert b"Enter the code from your authenticator app." in response.content
    assert client.get("/admin/").status_code == 302


def test_login_with_a_wrong_code_is_refused(make_staff, client, password):
    user = make_staff(Role.PHARMACIST)
    good = totp_now(user.totpdevice_set.get())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post("/admin/login/", {"username": user.phone, "password": password, "otp_token": wrong})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
