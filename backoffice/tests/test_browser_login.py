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


def test_enrolment_shows_the_key_in_fours_and_the_backup_codes_can_be_copied_and_printed(password, live_server, page):
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.tests.factories import StaffFactory
    from conftest import totp_now

    user = StaffFactory(role=Role.INVENTORY)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.add_init_script("window.print = () => { window.printed = true; };")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.phone)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")

    key = page.text_content("#otp-secret").strip()
    assert re.fullmatch(r"([A-Z2-7]{4} )+[A-Z2-7]{1,4}", key), key
    page.fill("input[name=token]", totp_now(TOTPDevice.objects.get(user=user, confirmed=False)))
    page.click("#otp-setup-form button[type=submit]")
    codes = [code.strip() for code in page.locator("#backup-codes li").all_text_contents()]

    page.click("#backup-codes-copy")
    page.wait_for_function("() => document.getElementById('backup-codes-copy').textContent.trim() !== 'Copy'")
    assert page.evaluate("() => navigator.clipboard.readText()") == "\n".join(codes)
    page.click("#backup-codes-print")
    assert page.evaluate("() => window.printed") is True
    assert len(codes) >= 8
