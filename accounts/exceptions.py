"""Domain errors of customer accounts.

Each is a ``backoffice.exceptions.DomainError``: a stable machine-readable
``code``, a translated ``message`` and its ``params``. A refusal that passes
with time carries ``retry_after`` (seconds) as a param. Which HTTP status a
code answers with, and the ``Retry-After`` header, are the API's:
``backoffice/api_errors.py``.
"""

from django.utils.translation import gettext_lazy as _

from backoffice.exceptions import DomainError


class AccountsError(DomainError):
    code = "error"
    default_message = _("The request could not be completed.")


class CodeInvalid(AccountsError):
    # One answer for a wrong, expired, used or unknown code: which one it was
    # would tell an attacker which phones have a live code.
    code = "code_invalid"
    default_message = _("The code is wrong or has expired. Request a new one.")


class CodeLocked(AccountsError):
    code = "code_locked"
    default_message = _("Too many wrong codes. Request a new code.")


class CodeCooldown(AccountsError):
    code = "code_cooldown"
    default_message = _("A code was sent a moment ago. Wait before asking for another one.")


class CodeHourlyLimit(AccountsError):
    code = "code_hourly_limit"
    default_message = _("Too many codes were sent to this number in the last hour. Try again later.")


class CodeDailyLimit(AccountsError):
    code = "code_daily_limit"
    default_message = _("Too many codes were sent to this number today. Try again tomorrow.")


class ServiceUnavailable(AccountsError):
    # Redis (the codes' mutex, the throttles and the SMS queue) is unreachable:
    # nothing can be sent, and saying "wait for the cooldown" would be untrue.
    code = "service_unavailable"
    default_message = _("The service is temporarily unavailable. Try again in a few minutes.")


class PhoneTaken(AccountsError):
    code = "phone_taken"
    default_message = _("A user with this phone number already exists.")


class InvalidCredentials(AccountsError):
    code = "invalid_credentials"
    default_message = _("The phone number or password is wrong.")


class AccountNotVerified(AccountsError):
    code = "account_not_verified"
    default_message = _("Confirm your phone number with the SMS code first.")


class AccountDisabled(AccountsError):
    code = "account_disabled"
    default_message = _("This account is disabled.")


class StaffNotAllowed(AccountsError):
    code = "staff_use_admin"
    default_message = _("Staff accounts sign in to the back-office, not to the app.")


class LoginLocked(AccountsError):
    code = "login_locked"
    default_message = _("Too many failed logins. Try again later.")


class TokenInvalid(AccountsError):
    code = "token_invalid"
    default_message = _("The token is invalid, expired or revoked. Log in again.")


class UnknownPermission(AccountsError):
    """``accounts.roles`` grants a permission no installed app defines (a typo, or an app removed): a deploy
    refuses it rather than give a role less than the table says. ``missing``: the permissions, as a list."""

    code = "unknown_permission"
    default_message = _("Permissions named in accounts.roles do not exist: %(missing)s")

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(missing=", ".join(missing))
