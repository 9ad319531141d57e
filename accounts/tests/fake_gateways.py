"""Small local HTTP servers that answer as the SMS providers document.

Each runs in a thread on 127.0.0.1 with a free port and records what it was
sent. ``fail_next`` queues failures for the next sends: an HTTP status
(e.g. 500) or ``"hang"`` (no answer until the server stops: a client timeout).
"""

import base64
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeGateway:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next: list = []
        self._release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                record = {"path": self.path, "headers": dict(self.headers), "body": body}
                gateway.requests.append(record)
                status, payload = gateway.handle(record)
                if status == "hang":
                    gateway._release.wait(10)
                    return
                raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def _queued_failure(self):
        return self.fail_next.pop(0) if self.fail_next else None

    def handle(self, record):
        raise NotImplementedError


class FakeEskiz(FakeGateway):
    """notify.eskiz.uz: form-encoded login for a bearer token, then form-encoded sends."""

    def __init__(self, *, email="shop@example.uz", password="eskiz-secret"):
        super().__init__()
        self.email, self.password = email, password
        self.valid_tokens: set[str] = set()
        self.logins = 0

    def expire_tokens(self):
        """Eskiz tokens expire after about a month; the next send gets 401."""
        self.valid_tokens.clear()

    def handle(self, record):
        form = {k: v[0] for k, v in parse_qs(record["body"]).items()}
        record["form"] = form
        if record["path"] == "/api/auth/login":
            if form.get("email") != self.email or form.get("password") != self.password:
                return 401, {"message": "Incorrect email or password"}
            self.logins += 1
            token = uuid.uuid4().hex
            self.valid_tokens.add(token)
            return 200, {"message": "token_generated", "data": {"token": token}, "token_type": "bearer"}
        if record["path"] == "/api/message/sms/send":
            auth = record["headers"].get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
                return 401, {"status": "token-invalid", "message": "Expired"}
            failure = self._queued_failure()
            if failure is not None:
                return failure, {"status": "error", "message": "Server error"}
            if not re.fullmatch(r"998\d{9}", form.get("mobile_phone", "")) or not form.get("message"):
                return 400, {"status": "error", "message": {"mobile_phone": ["Invalid"]}}
            return 200, {"id": str(uuid.uuid4()), "message": "Waiting for SMS provider", "status": "waiting"}
        return 404, {"message": "Not found"}


class FakePlayMobile(FakeGateway):
    """Play Mobile broker API: Basic auth, JSON messages[]."""

    def __init__(self, *, login="dorixona", password="pm-secret"):
        super().__init__()
        self.expected_auth = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()

    def handle(self, record):
        if record["path"] != "/broker-api/send":
            return 404, {"error-code": "404", "error-description": "Not found"}
        if record["headers"].get("Authorization") != self.expected_auth:
            return 401, {"error-code": "401", "error-description": "Unauthorized"}
        failure = self._queued_failure()
        if failure is not None:
            return failure, {"error-code": str(failure), "error-description": "Internal error"}
        try:
            message = json.loads(record["body"])["messages"][0]
            record["json"] = message
            assert re.fullmatch(r"998\d{9}", message["recipient"])
            assert message["message-id"] and message["sms"]["originator"] and message["sms"]["content"]["text"]
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):
            return 400, {"error-code": "102", "error-description": "Invalid request"}
        return 200, "Request is received"
