"""Every domain error raised under an API view answers in the one error shape, with a 4xx for its code."""

import importlib

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.exceptions import CodeCooldown
from backoffice.api_errors import STATUS_BY_CODE
from backoffice.exceptions import DomainError
from catalog.exceptions import InsufficientStock, LocationRequired, ShortageLine
from catalog.imports.parsing import FileRejected

SHORTAGE = InsufficientStock([ShortageLine(medicine_id=1, medicine_name="Paracetamol", requested=5, available=2)])


class Raises(APIView):
    """An API view whose service refuses: the error it raises is the one it was given."""

    permission_classes = [AllowAny]
    error: Exception = RuntimeError("no error given")

    def get(self, request):
        raise self.error


urlpatterns = [
    path("api/v1/shortage/", Raises.as_view(error=SHORTAGE)),
    path("api/v1/where/", Raises.as_view(error=LocationRequired())),
    path("api/v1/cooldown/", Raises.as_view(error=CodeCooldown(retry_after=42))),
    path("api/v1/file/", Raises.as_view(error=FileRejected("The file is empty."))),
]


@pytest.mark.urls(__name__)
def test_a_shortage_under_an_api_view_is_a_409_with_its_code_not_a_500(client):
    response = client.get("/api/v1/shortage/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert response.json() == {
        "code": "insufficient_stock",
        "message": "Not enough sellable stock: Paracetamol: 5 / 2.",
        # The short lines as data, so a till or a client shows them without parsing the message.
        "lines": [{"medicine_id": 1, "requested": 5, "available": 2}],
    }


@pytest.mark.urls(__name__)
def test_a_catalogue_error_the_status_map_does_not_name_is_a_400_in_the_readers_language(client):
    response = client.get("/api/v1/where/", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 400
    assert response.json() == {
        "code": "location_required",
        "message": "Укажите место: остаток хранится в нескольких местах.",
    }


@pytest.mark.urls(__name__)
def test_a_retry_after_param_becomes_the_retry_after_header(client):
    response = client.get("/api/v1/cooldown/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.json()["code"] == "code_cooldown"


@pytest.mark.urls(__name__)
def test_an_import_refusal_is_a_domain_error_too(client):
    response = client.get("/api/v1/file/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"code": "file_rejected", "message": "The file is empty."}


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_code_of_the_status_map_is_the_code_of_a_domain_error():
    for module in (
        "accounts.exceptions",
        "catalog.exceptions",
        "catalog.imports.engine",
        "catalog.imports.permissions",
    ):
        importlib.import_module(module)
    codes = {error.code for error in _subclasses(DomainError)}

    assert set(STATUS_BY_CODE) <= codes
    assert all(400 <= status < 600 for status in STATUS_BY_CODE.values())
