"""The address of the client that sent a request, as far as it can be trusted.

``REMOTE_ADDR`` is the machine that opened the connection. Behind reverse
proxies it is the nearest proxy, and each proxy appends the address it got
the request from to ``X-Forwarded-For``. Only the entries written by our own
proxies can be believed: everything to their left came from the client, who
can write anything there. With ``TRUSTED_PROXY_COUNT = n`` the client is the
n-th address from the right of ``X-Forwarded-For``; with 0 (the default) the
header is ignored and ``REMOTE_ADDR`` is the client.

Every consumer of the client address uses this one function: the API
throttles (DRF), the catalogue API's throttle and django-axes' lockouts.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request) -> str:
    """The client's IP address for ``request`` (a Django or DRF request)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Fewer hops than proxies configured: the request did not come through
        # all of them (or they are set up differently), so nothing in the
        # header is known to be ours.
        return remote
    candidate = forwarded[-proxies]
    return candidate if _valid_ip(candidate) else remote
