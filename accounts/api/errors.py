"""One shape for every API failure: ``{"code": "...", "message": "..."}``.

``code`` is stable and machine-readable; ``message`` is translated into the
request's language (uz, ru, en). Validation failures add ``fields``
(``{"phone": ["..."]}``). Nothing else ever leaves: no stack trace, no
framework detail, and an unexpected error is logged and answered in the same
shape.
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.exceptions import AccountDisabled, AccountsError, StaffNotAllowed, TokenInvalid
from backoffice.parsers import JSONTooDeep, RequestTooLarge

logger = logging.getLogger(__name__)

MESSAGES = {
    "validation_error": _("Some fields are not valid."),
    "malformed_request": _("The request body is not valid JSON."),
    "json_too_deep": JSONTooDeep.default_detail,
    "request_too_large": RequestTooLarge.default_detail,
    "unsupported_media_type": _("Send the request body as JSON."),
    "not_authenticated": _("Log in to continue."),
    "token_invalid": TokenInvalid.message,
    "account_disabled": AccountDisabled.message,
    "staff_use_admin": StaffNotAllowed.message,
    "permission_denied": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("This method is not allowed here."),
    "not_acceptable": _("This response format is not available."),
    "rate_limited": _("Too many requests. Try again later."),
    "server_error": _("Something went wrong on our side. Try again later."),
}

# simplejwt / DRF authentication failure codes -> ours.
AUTH_CODES = {
    "user_inactive": "account_disabled",
    "staff_use_admin": "staff_use_admin",
}


def error_body(code: str, message=None, **extra) -> dict:
    return {"code": code, "message": str(message if message is not None else MESSAGES[code]), **extra}


def _fields(detail) -> dict:
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def _first_message(fields: dict) -> str:
    for messages in fields.values():
        for message in messages:
            return message
    return str(MESSAGES["validation_error"])


def _api_exception_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        return error_body("validation_error", _first_message(fields), fields=fields)
    if isinstance(exc, exceptions.Throttled):
        return error_body("rate_limited")
    if isinstance(exc, JSONTooDeep):
        return error_body("json_too_deep")
    if isinstance(exc, RequestTooLarge):
        return error_body("request_too_large")
    if isinstance(exc, exceptions.ParseError):
        return error_body("malformed_request")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_body("unsupported_media_type")
    if isinstance(exc, exceptions.NotAuthenticated):
        return error_body("not_authenticated")
    if isinstance(exc, InvalidToken | exceptions.AuthenticationFailed):
        # simplejwt puts its code inside the detail dict: {"detail": ..., "code": ...}.
        if isinstance(exc.detail, dict):
            code = str(exc.detail.get("code", ""))
        else:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else ""
        return error_body(AUTH_CODES.get(code, "token_invalid"))
    if isinstance(exc, exceptions.PermissionDenied):
        return error_body("permission_denied")
    if isinstance(exc, exceptions.NotFound):
        return error_body("not_found")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_body("method_not_allowed")
    if isinstance(exc, exceptions.NotAcceptable):
        return error_body("not_acceptable")
    code = exc.default_code if isinstance(exc.default_code, str) else "error"
    return error_body(code, exc.detail if isinstance(exc.detail, str) else exc.default_detail)


def api_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, AccountsError):
        set_rollback()
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return Response(error_body(exc.code, exc.message), status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.APIException):
        # DRF's own handler sets WWW-Authenticate, Retry-After and the rollback.
        response = drf_exception_handler(exc, context)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        response.data = _api_exception_body(exc)
        return response

    view = context.get("view")
    logger.exception("Unhandled error in %s", view.__class__.__name__ if view else "API view")
    set_rollback()
    return Response(error_body("server_error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
