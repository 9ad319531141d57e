"""Site-wide error pages: JSON under /api/, Django's pages everywhere else.

Unknown API paths never reach Django REST framework, so its exception handler
cannot shape them; these handlers give them the API's ``{"code", "message"}``.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from backoffice.api_errors import error_body


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("server_error"), status=500)
    return defaults.server_error(request)
