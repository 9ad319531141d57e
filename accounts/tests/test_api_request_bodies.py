"""Request bodies: an oversized body is refused unread (413), a too-deep one without a crash (400)."""

import json

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
SIGNUP = {"phone": "+998901112233", "password": "Kuchli-parol-2026", "first_name": "Aziza", "last_name": "Karimova"}


def _post_raw(client, body: bytes | str, path: str = REGISTER):
    return client.post(path, body, content_type="application/json")


def test_a_body_larger_than_the_upload_limit_is_refused_with_413(client, settings):
    body = json.dumps({**SIGNUP, "address": "x" * (20 * 1024 * 1024)})

    response = _post_raw(client, body)

    assert response.status_code == 413, response.content[:300]
    assert response.json() == {"code": "request_too_large", "message": "The request body is too large."}
    assert not User.objects.exists()


def test_the_size_limit_is_the_django_upload_setting(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    small = json.dumps(SIGNUP)
    padded = json.dumps({**SIGNUP, "address": "x" * 200})

    assert _post_raw(client, padded).status_code == 413
    assert _post_raw(client, small).status_code == 202


def test_a_lying_content_length_does_not_let_more_than_the_limit_be_read(rf, settings):
    from io import BytesIO

    from backoffice.parsers import BoundedJSONParser, RequestTooLarge

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    request = rf.post(REGISTER, b"", content_type="application/json", CONTENT_LENGTH="10")

    with pytest.raises(RequestTooLarge):
        BoundedJSONParser().parse(BytesIO(b'{"a": "' + b"x" * 500 + b'"}'), parser_context={"request": request})


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 40 + "]" * 40, '{"a":' * 100 + "1" + "}" * 100])
def test_a_too_deeply_nested_body_is_refused_with_400_not_a_crash(client, body):
    response = _post_raw(client, body)

    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"code": "json_too_deep", "message": "The request body is nested too deeply."}


def test_ordinary_nesting_still_reaches_the_serializer(client):
    response = _post_raw(client, json.dumps({**SIGNUP, "first_name": [[["Aziza"]]]}))

    assert response.status_code == 400 and response.json()["code"] == "validation_error"
