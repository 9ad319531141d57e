"""The Unfold admin works in a real browser under the content security policy: no violation is reported."""

import pytest

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from catalog.tests.factories import MedicineFactory

pytestmark = [pytest.mark.browser, requires_chromium, pytest.mark.django_db(transaction=True)]


def test_admin_pages_raise_no_csp_violation_and_alpine_still_runs(make_staff, password, live_server, page):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    MedicineFactory()
    admin_login(page, live_server, make_staff(Role.ADMIN), password)

    for path in ("/admin/", "/admin/catalog/medicine/", "/admin/catalog/medicine/add/", "/admin/catalog/lot/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
        # Alpine has started: it is what needs 'unsafe-eval' (a stricter policy breaks the login form).
        assert page.evaluate("() => typeof window.Alpine === 'object' && !!window.Alpine.version"), path

    assert violations == []


def test_chart_tooltips_group_thousands_as_the_rest_of_the_admin(make_staff, password, live_server, page):
    admin_login(page, live_server, make_staff(Role.ADMIN), password)

    # The browser's own locale is en-US (which would write 6,025,100); the charts follow the admin.
    written = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas.chart')).scales.y.getLabelForValue(6025100.5)"
    )

    assert written == "6\u00a0025\u00a0100,5"


def test_the_periodic_task_page_shows_a_crontabs_reading_under_the_policy(make_staff, password, live_server, page):
    from django_celery_beat.models import CrontabSchedule

    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    crontab = CrontabSchedule.objects.create(minute="5", hour="0")
    admin_login(page, live_server, make_staff(Role.ADMIN), password)

    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    page.select_option("#id_crontab", str(crontab.pk))

    assert crontab.human_readable in page.text_content("#crontab-reading")
    registered = page.eval_on_selector_all("#id_regtask option", "options => options.map(o => o.value)")
    assert any(name.startswith("tasks.") for name in registered), registered
    assert violations == []
