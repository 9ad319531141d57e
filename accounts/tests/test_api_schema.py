"""The auth endpoints are documented in the OpenAPI schema, errors included; unexpected errors stay JSON."""

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from backoffice.api_errors import api_exception_handler

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


REQUEST_COMPONENTS = ["Register", "Verify", "Resend", "Login", "Refresh", "Phone", "PasswordReset", "PhoneChange"]


@pytest.mark.parametrize("component", REQUEST_COMPONENTS)
def test_no_request_field_the_api_refuses_blank_is_documented_as_allowing_blank(schema, component):
    body = schema["components"]["schemas"][component]
    for name, field in body["properties"].items():
        if field.get("type") != "string" or "enum" in field or name == "address":
            continue
        assert field.get("minLength", 0) >= 1, (component, name, field)


@pytest.mark.parametrize("component", ["Register", "Verify", "Login", "Phone", "PasswordReset", "PhoneChange"])
def test_phone_fields_document_the_characters_and_length_the_api_accepts(schema, component):
    phone = schema["components"]["schemas"][component]["properties"]["phone"]

    assert phone["pattern"] and phone["maxLength"] == 32 and phone["minLength"] >= 1


def test_a_phone_with_characters_outside_the_documented_pattern_is_refused(api):
    import re

    from accounts.phone import PHONE_INPUT_PATTERN

    typed = "90 123 45 67x"
    assert not re.fullmatch(PHONE_INPUT_PATTERN, typed)

    response = api.post("password/forgot/", {"phone": typed})

    assert response.status_code == 400 and "phone" in response.json()["fields"]


def test_code_fields_document_six_digits(schema):
    for component in ["Verify", "PasswordReset", "PhoneChange"]:
        code = schema["components"]["schemas"][component]["properties"]["code"]
        assert code["pattern"] == r"^\d{6}$" and code["minLength"] == code["maxLength"] == 6


SENDS_A_CODE = {"413", "429", "503"}
EXPECTED_STATUSES = {
    ("register/", "post"): {"202", "400", *SENDS_A_CODE},
    ("verify/", "post"): {"200", "400", "413", "429"},
    ("resend/", "post"): {"202", "400", *SENDS_A_CODE},
    ("login/", "post"): {"200", "400", "401", "403", "413", "429"},
    ("refresh/", "post"): {"200", "400", "401", "403", "413", "429"},
    ("logout/", "post"): {"204", "400", "401", "413"},
    ("password/forgot/", "post"): {"202", "400", *SENDS_A_CODE},
    ("password/reset/", "post"): {"204", "400", "413", "429"},
    ("me/", "get"): {"200", "401"},
    ("me/", "patch"): {"200", "400", "401", "413"},
    ("me/phone/", "post"): {"200", "202", "400", "401", "409", *SENDS_A_CODE},
}


@pytest.mark.parametrize(("endpoint", "method"), sorted(EXPECTED_STATUSES))
def test_each_auth_operation_documents_every_status_it_answers(schema, endpoint, method):
    operation = schema["paths"][f"/api/v1/auth/{endpoint}"][method]

    assert set(operation["responses"]) == EXPECTED_STATUSES[(endpoint, method)]


def test_errors_sharing_a_status_are_all_listed_in_its_description(schema):
    verify_400 = schema["paths"]["/api/v1/auth/verify/"]["post"]["responses"]["400"]["description"]

    assert "validation_error" in verify_400 and "code_invalid" in verify_400


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("password/forgot/", {"phone": 901234567}),
        ("login/", {"phone": "+998901234567", "password": 12345678}),
        ("refresh/", {"refresh": 1}),
        ("verify/", {"phone": "+998901234567", "code": 123456, "password": "x"}),
    ],
)
def test_a_string_field_given_a_number_is_refused(api, endpoint, body):
    response = api.post(endpoint, body)

    assert response.status_code == 400 and response.json()["code"] == "validation_error"
