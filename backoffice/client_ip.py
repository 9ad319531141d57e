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

``client_network`` reduces that address to what one client controls: an IPv4
address stays itself, an IPv6 address becomes its /64 network (one line or
one host usually gets a whole /64, and can pick any address in it). The
per-client caps on SMS codes (``accounts.services.otp``) count by it.
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


def network_of(address: str) -> str:
    """The network one client is taken to control around ``address``.

    An IPv4 address is itself; an IPv6 address is its /64 (``"2001:db8:1:2::/64"``);
    an IPv4-mapped IPv6 address is the IPv4 address. Anything that is not an
    address is returned unchanged.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_network(request) -> str:
    """``network_of(client_ip(request))``: the client's address, IPv6 reduced to its /64."""
    return network_of(client_ip(request))
