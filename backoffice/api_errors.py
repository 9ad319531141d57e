"""One shape for every API failure: ``{"code": "...", "message": "..."}``.

``code`` is stable and machine-readable; ``message`` is translated into the
request's language (uz, ru, en). Validation failures add ``fields``
(``{"phone": ["..."]}``). Nothing else ever leaves: no stack trace, no
framework detail, and an unexpected error is logged and answered in the same
shape.

This module is the one place where an error becomes HTTP, for every API of
every app:

- ``api_exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``) answers a
  domain error (``backoffice.exceptions.DomainError``: ``CatalogError``,
  ``AccountsError``, ``OrdersError``, the import's refusals) with the status
  ``error_status`` gives it, a ``retry_after`` param as the ``Retry-After``
  header; and DRF's and Django's own exceptions in the same shape;
- ``domain_error_response`` answers a domain error the same way from a plain
  Django JSON view (the till's endpoints): ``error_status(exc)`` is its status,
  ``domain_error_body(exc)`` its body;
- ``ErrorSerializer`` and ``error_responses`` document the shape in the OpenAPI schema.
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.exceptions import AccountDisabled, StaffNotAllowed, TokenInvalid
from backoffice.exceptions import DomainError
from backoffice.parsers import JSONTooDeep, RequestTooLarge
from catalog.exceptions import InsufficientStock
from orders import exceptions as orders

logger = logging.getLogger(__name__)

# What a domain error's code means over HTTP. A code not named here is a 400:
# the request asked for something a rule refuses. The domain never sees these.
STATUS_BY_CODE: dict[str, int] = {
    # accounts.exceptions
    "code_cooldown": 429,
    "code_hourly_limit": 429,
    "code_daily_limit": 429,
    "login_locked": 429,
    "service_unavailable": 503,
    "phone_taken": 409,
    "invalid_credentials": 401,
    "token_invalid": 401,
    "account_not_verified": 403,
    "account_disabled": 403,
    "staff_use_admin": 403,
    # catalog.exceptions: the state of the stock (not the request) refuses it
    "insufficient_stock": 409,
    "lot_status": 409,
    "transfer_state": 409,
    "parts_per_pack_locked": 409,
    "count_superseded": 409,
    "count_overtaken": 409,
    "location_forbidden": 403,
    # catalog.imports
    "import_forbidden": 403,
    "import_not_allowed": 409,
    # orders.exceptions: who may (403), the state of the till, the stock or the sale (409), what the
    # request says (400). Every refusal of the counter is named here (a test holds it to that).
    orders.OrdersError.code: 400,
    orders.NotAllowed.code: 403,
    orders.NotYourShift.code: 403,
    orders.ShiftRequired.code: 409,
    orders.ShiftClosed.code: 409,
    orders.ShiftAlreadyOpen.code: 409,
    orders.EmptySale.code: 400,
    orders.InvalidAmount.code: 400,
    orders.PricesChanged.code: 409,
    orders.MedicineUnavailable.code: 409,
    orders.DiscountTooLarge.code: 400,
    orders.PrescriptionRequired.code: 400,
    orders.PrescriptionInvalid.code: 400,
    # Only a pharmacist completes it; never online: not this member's (or this channel's) to do.
    orders.ControlledConfirmationRequired.code: 403,
    orders.ControlledOnline.code: 403,
    orders.PaymentShort.code: 400,
    orders.PaymentInvalid.code: 400,
    orders.ReturnRefused.code: 409,
    orders.ReturnPeriodOver.code: 409,
    orders.ReturnPrescriptionRefused.code: 409,
    orders.ReturnNotCompleted.code: 409,
    orders.ReturnOtherPlace.code: 409,
    orders.ReturnOverPaid.code: 409,
    orders.ReturnTooMany.code: 409,
    orders.ReturnReasonRequired.code: 400,
    orders.ReturnEmpty.code: 400,
    orders.ReturnQuantityInvalid.code: 400,
    orders.ReturnLineTwice.code: 400,
    orders.ReturnUnknownLine.code: 400,
    # orders.fiscal: raised and handled inside the fiscal task today; were it to reach a request, the
    # receipt's state (the module will not take it as it is) refuses it, not the request.
    "fiscal_refused": 409,
    # Never under an API: backoffice.history's restore_refused (the history page) and accounts'
    # unknown_permission (migrate, sync_roles) take the default.
}

MESSAGES = {
    "validation_error": _("Some fields are not valid."),
    "malformed_request": _("The request body is not valid JSON."),
    "json_too_deep": JSONTooDeep.default_detail,
    "request_too_large": RequestTooLarge.default_detail,
    "unsupported_media_type": _("Send the request body as JSON."),
    "not_authenticated": _("Log in to continue."),
    # simplejwt's failures, in the words of the domain errors they stand for.
    "token_invalid": TokenInvalid.default_message,
    "account_disabled": AccountDisabled.default_message,
    "staff_use_admin": StaffNotAllowed.default_message,
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


def error_status(exc: DomainError) -> int:
    """The HTTP status of a domain error: its code's, else the nearest error class's it inherits, else 400.

    So a refusal raised with a code of its own (``DomainError(..., code="...")``) answers as its class does.
    """
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return status.HTTP_400_BAD_REQUEST


def domain_error_body(exc: DomainError) -> dict:
    """The error shape of a domain error: its code and message, and the data a client acts on.

    A changed price carries the new prices (``changes``: medicine id, name, expected and current amount), a
    shortage its short lines (``lines``: medicine id, requested, available), so a till can show them without
    parsing the message.
    """
    extra = {}
    if isinstance(exc, orders.PricesChanged):
        extra["changes"] = [
            {"medicine_id": c.medicine_id, "medicine": c.medicine, "expected": c.expected, "current": c.current}
            for c in exc.changes
        ]
    elif isinstance(exc, InsufficientStock):
        extra["lines"] = [
            {"medicine_id": line.medicine_id, "requested": line.requested, "available": line.available}
            for line in exc.lines
        ]
    return error_body(exc.code, exc.message, **extra)


def _domain_error_headers(exc: DomainError) -> dict:
    retry_after = exc.params.get("retry_after")
    return {"Retry-After": str(retry_after)} if retry_after is not None else {}


def domain_error_response(exc: DomainError) -> JsonResponse:
    """A plain Django view's answer to a domain error: the API's shape, status and headers."""
    response = JsonResponse(domain_error_body(exc), status=error_status(exc))
    for name, value in _domain_error_headers(exc).items():
        response[name] = value
    return response


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


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(domain_error_body(exc), status=error_status(exc), headers=_domain_error_headers(exc))
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


# --- The schema ----------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """The API's one error shape, for the OpenAPI schema of every app's API."""

    code = serializers.CharField(help_text=_("Stable, machine-readable."))
    message = serializers.CharField(help_text=_("Human-readable, in the request's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Validation errors by field (validation_error only)."),
    )

    class Meta:
        ref_name = "Error"


def error_responses(*codes_by_status: tuple[int, str]) -> dict[int, OpenApiResponse]:
    """Error responses for ``extend_schema``: ``(status, "what the codes mean")``; entries of one status are merged."""
    merged: dict[int, list[str]] = {}
    for status_code, description in codes_by_status:
        merged.setdefault(status_code, []).append(description)
    return {
        status_code: OpenApiResponse(ErrorSerializer, description="; ".join(descriptions))
        for status_code, descriptions in merged.items()
    }
