"""The client address: X-Forwarded-For only as far as our own proxies wrote it, for every consumer."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import Client, RequestFactory

from accounts.roles import Role
from backoffice.client_ip import client_ip, client_network, network_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _request(remote="203.0.113.9", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request(forwarded="198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.7", "198.51.100.7"),
        # The client wrote the first entry itself; our one proxy appended the real address.
        (1, "10.6.6.6, 198.51.100.7", "198.51.100.7"),
        (2, "10.6.6.6, 198.51.100.7, 172.16.0.2", "198.51.100.7"),
        # Fewer entries than proxies: the request did not come through them all.
        (2, "198.51.100.7", "203.0.113.9"),
        (1, "", "203.0.113.9"),
        (1, "not-an-address", "203.0.113.9"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_trusted_proxies_the_client_is_the_address_the_outermost_one_saw(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_ip(_request(forwarded=forwarded)) == expected


def _signups_from_one_client_with_made_up_forwarded_headers(count):
    client = Client(REMOTE_ADDR="203.0.113.50")
    answers = []
    for i in range(count):
        answers.append(
            client.post(
                "/api/v1/auth/password/forgot/",
                {"phone": f"+9989355{i:05d}"},
                content_type="application/json",
                HTTP_X_FORWARDED_FOR=f"10.{i // 250}.{i % 250}.1",
            )
        )
    return answers


def test_a_made_up_forwarded_header_does_not_escape_the_api_ip_throttle(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    answers = _signups_from_one_client_with_made_up_forwarded_headers(31)

    assert [a.status_code for a in answers[:30]] == [202] * 30
    assert answers[30].status_code == 429


def test_behind_one_proxy_clients_are_told_apart_by_the_address_it_forwards(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="172.18.0.5")

    answers = [
        proxy.post(
            "/api/v1/auth/password/forgot/",
            {"phone": f"+9989355{i:05d}"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"10.6.6.6, 198.51.100.{i % 2 + 1}",
        )
        for i in range(62)
    ]

    statuses = [a.status_code for a in answers]
    # Two clients behind the proxy, 30 an hour each; the spoofed first entry counts for nothing.
    assert statuses[:60] == [202] * 60 and statuses[60:] == [429, 429]


def test_a_made_up_forwarded_header_does_not_escape_the_catalogue_throttle(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.CATALOG_API_THROTTLE_RATE = "3/min"
    client = Client(REMOTE_ADDR="203.0.113.51")

    answers = [client.get("/api/v1/catalog/categories/", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}") for i in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("proxies", "remote", "expected"),
    [(0, "203.0.113.52", "203.0.113.52"), (1, "172.18.0.5", "198.51.100.52")],
    ids=["no proxy", "one proxy"],
)
def test_staff_login_lockouts_are_keyed_on_the_trusted_client_address(settings, make_staff, proxies, remote, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    user = make_staff(Role.PHARMACIST)
    client = Client(REMOTE_ADDR=remote)

    for i in range(3):
        client.post(
            "/admin/login/",
            {"username": user.phone, "password": "wrong-password"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}, 198.51.100.52",
        )

    attempts = AccessAttempt.objects.filter(username=user.phone)
    assert list(attempts.values_list("ip_address", flat=True)) == [expected]
    assert attempts.get().failures_since_start == 3


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("", ""),
        ("not-an-address", "not-an-address"),
    ],
    ids=["ipv4", "ipv6", "ipv6 upper case", "ipv4-mapped ipv6", "empty", "garbage"],
)
def test_the_network_of_an_address_is_the_ipv4_address_or_the_ipv6_64(address, network):
    assert network_of(address) == network


def test_the_client_network_reduces_the_trusted_client_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = _request(remote="172.18.0.5", forwarded="2001:db8:aa:bb:1:2:3:4")

    assert client_network(request) == "2001:db8:aa:bb::/64"
