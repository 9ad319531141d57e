"""Domain errors of customer accounts.

Each carries a stable machine-readable ``code``, a translated ``message`` and
the HTTP status the API answers with; ``accounts.api.errors`` turns them into
``{"code": ..., "message": ...}`` in one place.
"""

from django.utils.translation import gettext_lazy as _


class AccountsError(Exception):
    code = "error"
    message = _("The request could not be completed.")
    status_code = 400

    def __init__(self, message=None, *, retry_after: int | None = None):
        if message is not None:
            self.message = message
        self.retry_after = retry_after
        super().__init__(str(self.message))


class CodeInvalid(AccountsError):
    # One answer for a wrong, expired, used or unknown code: which one it was
    # would tell an attacker which phones have a live code.
    code = "code_invalid"
    message = _("The code is wrong or has expired. Request a new one.")


class CodeLocked(AccountsError):
    code = "code_locked"
    message = _("Too many wrong codes. Request a new code.")


class CodeCooldown(AccountsError):
    code = "code_cooldown"
    message = _("A code was sent a moment ago. Wait before asking for another one.")
    status_code = 429


class CodeHourlyLimit(AccountsError):
    code = "code_hourly_limit"
    message = _("Too many codes were sent to this number in the last hour. Try again later.")
    status_code = 429


class CodeDailyLimit(AccountsError):
    code = "code_daily_limit"
    message = _("Too many codes were sent to this number today. Try again tomorrow.")
    status_code = 429


class ServiceUnavailable(AccountsError):
    # Redis (the codes' mutex, the throttles and the SMS queue) is unreachable:
    # nothing can be sent, and saying "wait for the cooldown" would be untrue.
    code = "service_unavailable"
    message = _("The service is temporarily unavailable. Try again in a few minutes.")
    status_code = 503


class PhoneTaken(AccountsError):
    code = "phone_taken"
    message = _("A user with this phone number already exists.")
    status_code = 409


class InvalidCredentials(AccountsError):
    code = "invalid_credentials"
    message = _("The phone number or password is wrong.")
    status_code = 401


class AccountNotVerified(AccountsError):
    code = "account_not_verified"
    message = _("Confirm your phone number with the SMS code first.")
    status_code = 403


class AccountDisabled(AccountsError):
    code = "account_disabled"
    message = _("This account is disabled.")
    status_code = 403


class StaffNotAllowed(AccountsError):
    code = "staff_use_admin"
    message = _("Staff accounts sign in to the back-office, not to the app.")
    status_code = 403


class LoginLocked(AccountsError):
    code = "login_locked"
    message = _("Too many failed logins. Try again later.")
    status_code = 429


class TokenInvalid(AccountsError):
    code = "token_invalid"
    message = _("The token is invalid, expired or revoked. Log in again.")
    status_code = 401
