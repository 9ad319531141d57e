import pytest

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium

# One widget of each kind per dashboard (backoffice/dashboard/ gives every widget an id).
ROLE_WIDGETS = {
    Role.ADMIN: ["owner-stock-cost", "owner-stock-retail", "owner-chart-category", "owner-latest-changes"],
    Role.PHARMACIST: [
        "pharmacist-expiring-30",
        "pharmacist-quarantined",
        "pharmacist-rx-out",
        "pharmacist-lots-to-act",
    ],
    Role.OPERATOR: ["operator-search", "operator-out-of-stock-list", "operator-open-alerts"],
    Role.INVENTORY: ["inventory-reorder", "inventory-recent-imports", "inventory-import-shortcuts"],
}

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PHARMACIST, Role.OPERATOR, Role.INVENTORY])
def test_each_staff_role_logs_in_with_the_second_factor_and_sees_its_dashboard(
    role, make_staff, password, live_server, page
):
    user = make_staff(role)
    admin_login(page, live_server, user, password)
    assert page.locator("#dashboard").get_attribute("data-role") == role
    # That role's widgets, and none of another role's.
    for widget_id in ROLE_WIDGETS[role]:
        assert page.locator(f"#{widget_id}").count() == 1, widget_id
    for other, widget_ids in ROLE_WIDGETS.items():
        if other != role:
            for widget_id in widget_ids:
                assert page.locator(f"#{widget_id}").count() == 0, f"{role} sees {widget_id}"


def test_a_wrong_code_in_the_browser_keeps_the_person_on_the_login_page(make_staff, password, live_server, page):
    user = make_staff(Role.OPERATOR)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.phone)
    page.fill("input[name=password]", password)
    page.fill("input[name=otp_token]", "000000")
    page.click("#login-form button[type=submit]")
    assert page.locator("text=That code is not valid").count() >= 1
    assert "/admin/login/" in page.url
