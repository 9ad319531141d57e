"""Media and private files against a real S3-compatible server (moto's, started locally)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.roles import Role
from backoffice.storage import is_s3_storage, private_storage, public_storage

from .images import image_bytes

pytestmark = pytest.mark.django_db


def test_an_uploaded_image_lands_in_the_bucket_under_media_and_reads_back(s3_server, s3_bucket):
    png = image_bytes()

    name = default_storage.save("medicines/paracetamol.png", ContentFile(png))

    assert is_s3_storage(default_storage)
    stored = s3_server.client().get_object(Bucket=s3_bucket, Key=f"media/{name}")
    assert stored["Body"].read() == png
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == png


def test_public_media_urls_are_plain_and_readable_without_credentials(s3_bucket):
    png = image_bytes()
    name = public_storage().save("medicines/aspirin.png", ContentFile(png))

    url = public_storage().url(name)

    assert "X-Amz-Signature" not in url
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.content == png


def test_a_second_upload_with_the_same_name_never_replaces_the_first(s3_bucket):
    first = public_storage().save("medicines/same.png", ContentFile(image_bytes(color=(1, 2, 3))))
    second = public_storage().save("medicines/same.png", ContentFile(image_bytes(color=(4, 5, 6))))

    assert first != second
    assert public_storage().exists(first) and public_storage().exists(second)


def test_a_private_file_is_refused_to_anonymous_readers_of_the_bucket(s3_server, s3_bucket):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\nA1;5\n"))
    unsigned = f"{s3_server.endpoint_url}/{s3_bucket}/private/{name}"

    response = requests.get(unsigned, timeout=5)

    assert response.status_code == 403
    acl = s3_server.client().get_object_acl(Bucket=s3_bucket, Key=f"private/{name}")
    assert all(grant["Grantee"].get("URI", "").endswith("AllUsers") is False for grant in acl["Grants"])


def test_a_private_file_url_is_signed_and_expires_within_minutes(s3_bucket, settings):
    name = private_storage().save("exports/stock.csv", ContentFile(b"sku;qty\n"))

    url = private_storage().url(name)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0]
    assert int(query["X-Amz-Expires"][0]) == settings.PRIVATE_URL_EXPIRE_SECONDS <= 600
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.content == b"sku;qty\n"


def test_staff_with_the_permission_are_redirected_to_a_signed_link(s3_bucket, staff_client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\nA1;5\n"))
    client = staff_client(Role.INVENTORY)

    response = client.get(f"/private-files/{name}")

    assert response.status_code == 302
    assert response["Cache-Control"].startswith("private")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"] == ['attachment; filename="receipt.csv"']
    download = requests.get(response["Location"], timeout=5)
    assert download.status_code == 200
    assert download.content == b"sku;qty\nA1;5\n"


def test_staff_without_the_permission_are_refused_a_private_file(s3_bucket, staff_client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\n"))
    client = staff_client(Role.OPERATOR)

    response = client.get(f"/private-files/{name}")

    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_instead_of_a_private_file(s3_bucket, client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\n"))

    response = client.get(f"/private-files/{name}")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "X-Amz" not in response["Location"]


def test_health_probes_both_storages_on_s3(s3_bucket, monitor_client):
    response = monitor_client.get("/health/?check=storage")

    assert response.status_code == 200
    check = response.json()["checks"]["storage"]
    assert (check["status"], check["detail"]) == ("ok", "S3Storage")


def test_a_media_backup_taken_from_s3_restores_into_another_bucket(s3_server, settings):
    from io import BytesIO

    from backoffice.media_archive import media_backup, media_restore
    from backoffice.storage_config import s3_storages

    from .s3server import ACCESS_KEY, REGION, SECRET_KEY

    def use_bucket(bucket):
        settings.STORAGES = s3_storages(
            bucket=bucket,
            endpoint_url=s3_server.endpoint_url,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
        )

    use_bucket(s3_server.new_bucket())
    png = image_bytes()
    image = public_storage().save("medicines/deep/folder/a.png", ContentFile(png))
    export = private_storage().save("exports/2026/stock.csv", ContentFile(b"sku;qty\n"))
    archive = BytesIO()
    assert media_backup(output=archive) == 2

    use_bucket(s3_server.new_bucket())
    archive.seek(0)
    assert media_restore(source=archive) == 2

    with public_storage().open(image, "rb") as handle:
        assert handle.read() == png
    with private_storage().open(export, "rb") as handle:
        assert handle.read() == b"sku;qty\n"
