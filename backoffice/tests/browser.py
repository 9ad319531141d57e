"""Playwright (sync API) driving the system Chromium against pytest-django's live server.

Playwright's own browser download cannot run here, so the Debian package
`chromium` is used (`.ci/run` installs it). Tests using these fixtures are
skipped with a reason when it is missing.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The README's screenshots; the tests write there only when asked (`make screenshots`),
# so that `make test` leaves the working tree as it found it.
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS", "") == "1"

requires_chromium = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() or shutil.which("chromium")),
    reason="needs Chromium: apt-get install chromium (CI installs it)",
)

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium_browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # made by the test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def admin_login(page, live_server, user, password: str) -> None:
    """Log in through the real form, typing the current authenticator code."""
    from conftest import totp_now

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", user.phone)
    page.fill("input[name=password]", password)
    page.fill("input[name=otp_token]", totp_now(user.totpdevice_set.get(confirmed=True)))
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#dashboard")
