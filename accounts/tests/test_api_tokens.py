"""Login, refresh with rotation, logout with the blacklist, and who may hold tokens."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.roles import Role
from accounts.tasks import auth_cleanup
from accounts.tests.factories import DEFAULT_PASSWORD, CourierFactory, CustomerFactory, StaffFactory, UserFactory


def login(api, user, password=DEFAULT_PASSWORD):
    return api.post("login/", {"phone": user.phone, "password": password})


def test_login_returns_tokens_that_carry_the_role(api):
    user = CustomerFactory()

    response = login(api, user)

    assert response.status_code == 200
    access = AccessToken(response.json()["access"])
    refresh = RefreshToken(response.json()["refresh"])
    assert access["role"] == refresh["role"] == Role.CUSTOMER
    assert str(access["user_id"]) == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


def test_a_courier_gets_tokens_too(api):
    courier = CourierFactory()

    response = login(api, courier)

    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["role"] == Role.COURIER


def test_login_accepts_the_phone_written_any_way(api):
    CustomerFactory(phone="+998901234567")

    response = api.post("login/", {"phone": "90 123-45-67", "password": DEFAULT_PASSWORD})

    assert response.status_code == 200


def test_access_lifetime_is_minutes_and_refresh_lifetime_days(api):
    tokens = login(api, CustomerFactory()).json()
    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])

    assert access["exp"] - access["iat"] == 10 * 60
    assert refresh["exp"] - refresh["iat"] == 14 * 24 * 3600


@pytest.mark.parametrize("password", ["wrong-password-1", ""])
def test_a_wrong_password_is_refused(api, password):
    response = login(api, CustomerFactory(), password=password)

    assert response.status_code in {400, 401}
    assert response.json()["code"] in {"invalid_credentials", "validation_error"}


def test_an_unknown_phone_answers_like_a_wrong_password(api):
    user = CustomerFactory()
    wrong_password = login(api, user, password="not-the-password")
    unknown = api.post("login/", {"phone": "+998935550011", "password": "not-the-password"})

    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json() == unknown.json()


def test_staff_are_refused_exactly_like_a_wrong_password_even_with_the_right_one(api):
    staff = StaffFactory(role=Role.OPERATOR)

    right_password = login(api, staff)
    wrong_password = api.post("login/", {"phone": staff.phone, "password": "not-the-password"})

    assert right_password.status_code == wrong_password.status_code == 401
    assert right_password.json() == wrong_password.json()
    assert right_password.json()["code"] == "invalid_credentials"
    assert sorted(right_password.headers) == sorted(wrong_password.headers)


def test_a_staff_password_tried_on_the_customer_login_counts_towards_the_lockout(api, settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff = StaffFactory(role=Role.OPERATOR)

    answers = [login(api, staff).json()["code"] for _ in range(4)]

    assert answers == ["invalid_credentials"] * 3 + ["login_locked"]


def test_an_unverified_sign_up_cannot_log_in(api):
    user = UserFactory(is_active=False)

    response = login(api, user)

    assert response.status_code == 403 and response.json()["code"] == "account_not_verified"


def test_a_deactivated_customer_cannot_log_in(api):
    user = CustomerFactory(is_active=False)

    response = login(api, user)

    assert response.status_code == 403 and response.json()["code"] == "account_disabled"


def test_repeated_wrong_passwords_lock_the_login_with_retry_after(api):
    user = CustomerFactory()
    for _ in range(5):
        login(api, user, password="not-the-password")

    response = login(api, user)  # even the right password, during the lockout

    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert int(response["Retry-After"]) == 15 * 60


def test_refresh_rotates_and_the_old_refresh_token_is_refused(api):
    first = login(api, CustomerFactory()).json()

    rotated = api.post("refresh/", {"refresh": first["refresh"]})
    replay = api.post("refresh/", {"refresh": first["refresh"]})

    assert rotated.status_code == 200 and rotated.json()["refresh"] != first["refresh"]
    assert replay.status_code == 401 and replay.json()["code"] == "token_invalid"
    assert api.post("refresh/", {"refresh": rotated.json()["refresh"]}).status_code == 200
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(first["refresh"], verify=False)["jti"]).exists()


def test_logout_then_refresh_is_401(api):
    tokens = login(api, CustomerFactory()).json()

    logout = api.post("logout/", {"refresh": tokens["refresh"]})
    refresh = api.post("refresh/", {"refresh": tokens["refresh"]})
    logout_again = api.post("logout/", {"refresh": tokens["refresh"]})

    assert logout.status_code == 204
    assert refresh.status_code == 401 and refresh.json()["code"] == "token_invalid"
    assert logout_again.status_code == 401


def test_an_access_token_is_not_accepted_as_a_refresh_token(api):
    tokens = login(api, CustomerFactory()).json()

    response = api.post("refresh/", {"refresh": tokens["access"]})

    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


def test_garbage_and_expired_tokens_are_refused_in_the_error_shape(api):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        tokens = login(api, CustomerFactory()).json()
        traveller.shift(timedelta(minutes=11))
        expired_access = api.get("me/", token=tokens["access"])
        traveller.shift(timedelta(days=15))
        expired_refresh = api.post("refresh/", {"refresh": tokens["refresh"]})
    garbage = api.get("me/", token="not.a.token")

    for response in (expired_access, expired_refresh, garbage):
        assert response.status_code == 401
        assert response.json() == {"code": "token_invalid", "message": response.json()["message"]}


def test_a_deactivated_users_access_and_refresh_tokens_stop_working(api):
    user = CustomerFactory()
    tokens = login(api, user).json()
    assert api.get("me/", token=tokens["access"]).status_code == 200

    user.is_active = False
    user.save()

    me = api.get("me/", token=tokens["access"])
    refresh = api.post("refresh/", {"refresh": tokens["refresh"]})
    assert me.status_code == 401 and me.json()["code"] == "account_disabled"
    assert refresh.status_code == 403 and refresh.json()["code"] == "account_disabled"


def test_a_customer_moved_to_a_staff_role_loses_api_access(api):
    user = CustomerFactory()
    tokens = login(api, user).json()

    user.role = Role.OPERATOR
    user.save()

    assert api.get("me/", token=tokens["access"]).json()["code"] == "staff_use_admin"
    assert api.post("refresh/", {"refresh": tokens["refresh"]}).json()["code"] == "staff_use_admin"


def test_me_without_a_token_asks_to_log_in(api):
    response = api.get("me/")

    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_auth_cleanup_flushes_expired_tokens_and_old_codes(api):
    from accounts.models import PhoneCode

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        tokens = login(api, CustomerFactory()).json()
        api.post("logout/", {"refresh": tokens["refresh"]})
        api.post("password/forgot/", {"phone": "+998935550011"})
        login(api, CustomerFactory())
        traveller.shift(timedelta(days=15))
        api.post("password/forgot/", {"phone": "+998935550022"})
        fresh = login(api, CustomerFactory()).json()

        result = auth_cleanup.delay().get()

        # The live token of the day survives the sweep.
        assert api.post("refresh/", {"refresh": fresh["refresh"]}).status_code == 200
    # Two expired refresh tokens (one of them blacklisted) and the code of 15 days ago.
    assert result == {"codes": 1, "tokens": 2}
    # Left: the fresh token (blacklisted by its rotation above) and its successor.
    assert BlacklistedToken.objects.count() == 1 and OutstandingToken.objects.count() == 2
    assert list(PhoneCode.objects.values_list("phone", flat=True)) == ["+998935550022"]


def test_logout_also_ends_the_access_tokens_of_that_session_only(api):
    user = CustomerFactory()
    phone_a = login(api, user).json()
    phone_b = login(api, user).json()
    rotated_a = api.post("refresh/", {"refresh": phone_a["refresh"]}).json()

    api.post("logout/", {"refresh": rotated_a["refresh"]})

    for access in (phone_a["access"], rotated_a["access"]):
        refused = api.get("me/", token=access)
        assert refused.status_code == 401 and refused.json()["code"] == "token_invalid"
    assert api.get("me/", token=phone_b["access"]).status_code == 200


def test_rotation_keeps_the_session_and_the_previous_access_token_working(api):
    first = login(api, CustomerFactory()).json()

    rotated = api.post("refresh/", {"refresh": first["refresh"]}).json()

    assert AccessToken(rotated["access"])["sid"] == AccessToken(first["access"])["sid"]
    # A request already in flight with the previous access token is not cut off by the rotation.
    assert api.get("me/", token=first["access"]).status_code == 200
