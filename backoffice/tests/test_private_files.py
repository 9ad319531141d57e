"""Private files on local disk (the `make run` setup): never under MEDIA_ROOT, only through the view."""

import os
import threading

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from accounts.roles import Role
from backoffice.storage import private_file_url, private_storage


@pytest.fixture
def private_root(settings, tmp_path):
    from backoffice.storage_config import local_storages

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = local_storages(media_root=settings.MEDIA_ROOT, private_root=settings.PRIVATE_MEDIA_ROOT)
    return settings.PRIVATE_MEDIA_ROOT


def test_private_files_are_kept_outside_media_root_and_link_to_the_checking_view(private_root):
    name = private_storage().save("exports/stock.csv", ContentFile(b"sku;qty\n"))

    assert (private_root / name).read_bytes() == b"sku;qty\n"
    assert not (private_root / name).is_relative_to(settings.MEDIA_ROOT)
    assert private_storage().url(name) == "/private-files/exports/stock.csv"


@pytest.mark.django_db
def test_inventory_staff_download_an_import_file_as_an_attachment(private_root, staff_client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\nA1;5\n"))
    client = staff_client(Role.INVENTORY)

    response = client.get(private_file_url(name))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"sku;qty\nA1;5\n"
    assert response["Content-Disposition"] == 'attachment; filename="receipt.csv"'
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_an_operator_may_not_download_an_export(private_root, staff_client):
    name = private_storage().save("exports/stock.csv", ContentFile(b"sku;qty\n"))

    response = staff_client(Role.OPERATOR).get(private_file_url(name))

    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        (Role.PHARMACIST, "pricelist", 200),
        (Role.PHARMACIST, "receipt", 403),  # reads the import log, may not receive stock
        (Role.PHARMACIST, "stocktake", 403),
        (Role.INVENTORY, "receipt", 200),
        (Role.INVENTORY, "stocktake", 200),
        (Role.INVENTORY, "pricelist", 403),  # may not change prices
    ],
)
def test_an_uploaded_import_file_needs_the_permission_of_its_kind(private_root, staff_client, role, kind, status):
    # The same rule as the import log's own download: whoever may run that kind of import.
    name = private_storage().save(f"imports/{kind}/2026/12/01/file.csv", ContentFile(b"sku;price\nA1;5\n"))

    response = staff_client(role).get(private_file_url(name))

    assert response.status_code == status


@pytest.mark.django_db
def test_a_file_outside_the_import_kinds_folders_is_not_found(private_root, staff_client):
    name = private_storage().save("imports/receipt.csv", ContentFile(b"sku;qty\n"))

    assert staff_client(Role.INVENTORY).get(private_file_url(name)).status_code == 404


@pytest.mark.django_db
def test_a_password_without_the_second_factor_is_not_enough(private_root, make_staff, client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\n"))
    client.force_login(make_staff(Role.INVENTORY))  # logged in, but not OTP-verified

    response = client.get(private_file_url(name))

    assert response.status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_admin_login(private_root, client):
    name = private_storage().save("imports/receipt/2026/12/01/receipt.csv", ContentFile(b"sku;qty\n"))

    response = client.get(private_file_url(name))

    assert response.status_code == 302
    assert response["Location"].startswith(f"/{settings.ADMIN_URL}login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["imports/../exports/stock.csv", "imports/receipt/missing.csv", "secrets/key.pem", "%2Fetc/passwd", "/etc/passwd"],
)
def test_paths_outside_the_allowed_folders_or_missing_files_are_not_found(private_root, staff_client, path):
    private_storage().save("exports/stock.csv", ContentFile(b"sku;qty\n"))
    client = staff_client(Role.INVENTORY)

    response = client.get(f"/private-files/{path}")

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["imports/receipt/2026", "imports/receipt", "imports"])
def test_a_folder_is_not_found_rather_than_an_error(private_root, staff_client, path):
    private_storage().save("imports/receipt/2026/receipt.csv", ContentFile(b"sku;qty\n"))

    response = staff_client(Role.INVENTORY).get(f"/private-files/{path}")

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_named_pipe_is_not_found_and_never_opened(private_root, staff_client):
    (private_root / "imports" / "receipt").mkdir(parents=True)
    pipe = private_root / "imports" / "receipt" / "pipe.csv"
    os.mkfifo(pipe)
    # Opening a pipe for reading waits for a writer: give it one, so that a view
    # that does open it answers (and this test fails) instead of hanging.
    writer = threading.Thread(target=pipe.write_bytes, args=(b"sku;qty\n",), daemon=True)
    writer.start()

    response = staff_client(Role.INVENTORY).get("/private-files/imports/receipt/pipe.csv")

    os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer finish
    writer.join(timeout=5)
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_link_that_leads_out_of_the_private_folder_is_not_followed(private_root, staff_client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for download")
    (private_root / "imports" / "receipt").mkdir(parents=True)
    (private_root / "imports" / "receipt" / "receipt.csv").symlink_to(secret)

    response = staff_client(Role.INVENTORY).get("/private-files/imports/receipt/receipt.csv")

    assert response.status_code == 404


def test_media_urls_never_reach_the_private_folder(private_root, client):
    private_storage().save("imports/receipt.csv", ContentFile(b"secret"))

    response = client.get(f"{settings.MEDIA_URL}../private/imports/receipt.csv")

    # Not found (no media route) or refused as a path outside media (Django's static serve, where the route
    # was loaded under DEBUG by an earlier test): either way the file is never sent.
    assert response.status_code in (400, 404)
    assert b"secret" not in b"".join(getattr(response, "streaming_content", [response.content]))
