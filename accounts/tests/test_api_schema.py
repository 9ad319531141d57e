"""The auth endpoints are documented in the OpenAPI schema, errors included; unexpected errors stay JSON."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.api.errors import api_exception_handler

ENDPOINTS = [
    "register/",
    "verify/",
    "resend/",
    "login/",
    "refresh/",
    "logout/",
    "password/forgot/",
    "password/reset/",
    "me/",
    "me/phone/",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_auth_endpoint_is_in_the_schema_with_its_error_shape(schema, endpoint):
    path = schema["paths"][f"/api/v1/auth/{endpoint}"]
    for operation in path.values():
        statuses = set(operation["responses"])
        assert any(s.startswith("4") for s in statuses), (endpoint, statuses)
        error = next(r for s, r in operation["responses"].items() if s.startswith("4"))
        assert error["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_the_schema_url_answers(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 200 and b"/api/v1/auth/login/" in response.content


def test_an_unexpected_error_answers_json_without_a_stack_trace(caplog):
    request = APIRequestFactory().get("/api/v1/auth/me/")

    response = api_exception_handler(RuntimeError("secret internals"), {"view": APIView(), "request": request})

    assert response.status_code == 500
    assert response.data == {"code": "server_error", "message": "Something went wrong on our side. Try again later."}
    assert "secret internals" not in str(response.data)
    assert "Unhandled error" in caplog.text  # logged for us, not shown to them


def test_a_wrong_method_answers_in_the_error_shape(client, db):
    response = client.get("/api/v1/auth/login/")

    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_a_form_encoded_body_answers_in_the_error_shape(client, db):
    response = client.post("/api/v1/auth/login/", {"phone": "+998901234567", "password": "x"})

    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
