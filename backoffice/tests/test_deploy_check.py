"""Production settings: `check --deploy` is clean, secrets are required, logs are JSON, Sentry only by DSN.

Each runs Django in a subprocess with production settings and dummy secrets,
the way the server starts, so nothing from the test settings leaks in.
"""

import gzip
import json
import os
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SENTRY_", "AWS_")) and key != "PYTEST_CURRENT_TEST"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="backoffice.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="admin.dorixona.example",
        SMS_BACKEND="eskiz",
        ESKIZ_EMAIL="sms@dorixona.example",
        ESKIZ_PASSWORD=secrets.token_urlsafe(16),
    )
    env.update(extra)
    return env


def test_check_deploy_warns_when_one_time_codes_would_only_be_logged():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(SMS_BACKEND="console"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "accounts.W001" in result.stderr + result.stdout


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_reports_no_warnings_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(DJANGO_ALLOWED_HOSTS=""),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_logs_are_one_json_object_per_line():
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('dorixona.test').warning('stock low', extra={'medicine_id': 7})"
    )

    result = run_python(code, production_env())

    assert result.returncode == 0, result.stderr
    line = [line for line in result.stderr.splitlines() if "stock low" in line][-1]
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "dorixona.test"
    assert entry["message"] == "stock low"
    assert entry["medicine_id"] == 7


class _SentryIngest(BaseHTTPRequestHandler):
    """Answers as Sentry's envelope endpoint does: 200 and the event id."""

    received: list[tuple[str, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": "0"}')

    def log_message(self, *args):
        pass


def test_errors_go_to_sentry_only_when_a_dsn_is_set():
    server = HTTPServer(("127.0.0.1", 0), _SentryIngest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SentryIngest.received = []
    code = (
        "import django; django.setup(); import sentry_sdk;"
        "sentry_sdk.capture_message('sentry-probe-message'); sentry_sdk.flush(timeout=10);"
        "print('client', sentry_sdk.get_client().is_active())"
    )
    try:
        without = run_python(code, production_env())
        with_dsn = run_python(code, production_env(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/42"))
    finally:
        server.shutdown()

    assert "client False" in without.stdout, without.stderr
    assert "client True" in with_dsn.stdout, with_dsn.stderr
    assert [path for path, _ in _SentryIngest.received] == ["/api/42/envelope/"]
    assert b"sentry-probe-message" in _SentryIngest.received[0][1]
