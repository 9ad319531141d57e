"""Container health check of the web service: GET /health/ on the local gunicorn.

Sends the Host header of the first allowed host and X-Forwarded-Proto: https,
as the reverse proxy does, so production settings (ALLOWED_HOSTS, HTTPS
redirect) answer it like a real request. Only the checks the web process needs
to serve pages are asked for; the worker and beat have their own checks.
Exit 0 when healthy, 1 otherwise. With HEALTH_TOKEN set, the answer carries
each check's detail, printed on failure (``docker inspect`` shows it).
"""

import os
import sys
import urllib.error
import urllib.request

host = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".") or "localhost"
port = os.environ.get("PORT", "8000")
headers = {"Host": host, "X-Forwarded-Proto": "https"}
if os.environ.get("HEALTH_TOKEN"):
    headers["Authorization"] = f"Bearer {os.environ['HEALTH_TOKEN']}"
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/health/?check=database&check=cache&check=storage", headers=headers
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except urllib.error.HTTPError as exc:  # 503: the body says which check failed
    print(f"unhealthy: {exc.code} {exc.read()[:2000].decode(errors='replace')}", file=sys.stderr)
    sys.exit(1)
except (urllib.error.URLError, OSError) as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
