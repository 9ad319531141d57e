"""A small local HTTP server that answers as the Telegram Bot API does, for tests.

``FakeBotAPI.replies`` is a queue of (status, payload) to answer with, in
order; when empty, every sendMessage succeeds. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeBotAPI:
    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[dict] = []
        self.replies: list[tuple[int, dict]] = []
        self._message_id = 0
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                status, payload = api._answer(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeBotAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sent(self) -> list[dict]:
        """The messages the API accepted."""
        return [r["body"] for r in self.requests if r["status"] == 200]

    def _answer(self, path: str, body: dict) -> tuple[int, dict]:
        with self._lock:
            if path != f"/bot{self.token}/sendMessage":
                status, payload = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            elif self.replies:
                status, payload = self.replies.pop(0)
            else:
                self._message_id += 1
                status, payload = (
                    200,
                    {
                        "ok": True,
                        "result": {
                            "message_id": self._message_id,
                            "date": 1790000000,
                            "chat": {"id": int(body["chat_id"]), "type": "group"},
                            "text": body["text"],
                        },
                    },
                )
            self.requests.append({"path": path, "body": body, "status": status})
            return status, payload


def flood_control(retry_after: int) -> tuple[int, dict]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }


def server_error() -> tuple[int, dict]:
    return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}


def chat_not_found() -> tuple[int, dict]:
    return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
