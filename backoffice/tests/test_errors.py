import pytest


@pytest.mark.django_db
def test_an_unknown_api_path_answers_json_in_the_api_error_shape(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert response.json()["message"]


@pytest.mark.django_db
def test_an_unknown_admin_path_still_gets_an_html_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
