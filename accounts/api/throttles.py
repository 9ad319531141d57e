"""Per-IP rate limits of the auth API, counted in the default cache (Redis in production).

Rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]). A refused
request answers 429 with ``Retry-After``.
"""

from rest_framework.throttling import SimpleRateThrottle

from backoffice.client_ip import client_ip


class IPThrottle(SimpleRateThrottle):
    scope = "otp_send_ip"

    def get_ident(self, request) -> str:
        # X-Forwarded-For only as far as our own proxies wrote it (TRUSTED_PROXY_COUNT).
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SendIPThrottle(IPThrottle):
    """Per client IP on every endpoint that sends a code: every request counts, whatever its body."""


class PhoneChangeSendIPThrottle(SendIPThrottle):
    """me/phone/ both sends (no ``code``) and confirms (``code``): only the sending calls count here.

    The confirming ones are counted by ``CheckIPThrottle``. Only this endpoint may look at the body:
    the others drop an unknown ``code`` field, so skipping on it there would switch the limit off.
    """

    def get_cache_key(self, request, view):
        if isinstance(request.data, dict) and request.data.get("code"):
            return None
        return super().get_cache_key(request, view)


class CheckIPThrottle(IPThrottle):
    """Per client IP on every endpoint that checks a code (guessing across many phones)."""

    scope = "otp_check_ip"


class LoginIPThrottle(IPThrottle):
    scope = "login_ip"


# Per destination phone, the limits count codes actually issued, per purpose
# (accounts.services.otp): a throttle here would count refused requests too.
SEND_THROTTLES = [SendIPThrottle]
