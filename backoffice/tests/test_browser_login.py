import pytest

from accounts.roles import Role
from backoffice.tests.browser import SCREENSHOTS, admin_login, chromium_browser, page, requires_chromium  # noqa: F401

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PHARMACIST, Role.OPERATOR, Role.INVENTORY])
def test_each_staff_role_logs_in_with_the_second_factor_and_sees_its_dashboard(
    role, make_staff, password, live_server, page  # noqa: F811
):
    user = make_staff(role)
    admin_login(page, live_server, user, password)
    assert page.locator("#dashboard").get_attribute("data-role") == role
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{role}.png"), full_page=True)


def test_a_wrong_code_in_the_browser_keeps_the_person_on_the_login_page(
    make_staff, password, live_server, page  # noqa: F811
):
    user = make_staff(Role.OPERATOR)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.phone)
    page.fill("input[name=password]", password)
    page.fill("input[name=otp_token]", "000000")
    page.click("#login-form button[type=submit]")
    assert page.locator("text=That code is not valid").count() >= 1
    assert "/admin/login/" in page.url
