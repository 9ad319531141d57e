"""Public media and private files (imports, exports) on one storage API.

``default`` storage holds public media; ``private`` storage (see
backoffice/storage_config.py) holds files that only staff with the right
permission may download. Code that writes an import upload or an export uses
``private_storage()``; code that links to one uses ``private_file_url(name)``,
which points at ``private_file_view``: the view checks the permission and then
either redirects to a pre-signed S3 link that expires in
``PRIVATE_URL_EXPIRE_SECONDS`` or streams the file from local disk.
"""

from __future__ import annotations

import logging
import os
import posixpath
import stat

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Top-level folder of the private storage -> the permission needed to download
# from it. A folder that is not listed here cannot be downloaded through the
# generic view at all. Exports carry stock and prices, so they need the right to
# change lots (inventory staff and pharmacists, not operators). Import uploads
# need the import log's permission and, on top, that of their kind's subfolder
# (``imports/<kind>/...``): whoever may run that kind of import, the same rule as
# the import log's own download (catalog/imports/permissions.py).
PRIVATE_FOLDER_PERMISSIONS: dict[str, str] = {
    "imports": "catalog.view_importjob",
    "exports": "catalog.change_lot",
}


def _permissions_for(name: str) -> tuple[str, ...] | None:
    """The permissions needed to download ``name``; ``None`` where nothing may be downloaded."""
    folder, _, rest = name.partition("/")
    permission = PRIVATE_FOLDER_PERMISSIONS.get(folder)
    if permission is None:
        return None
    if folder != "imports":
        return (permission,)
    # Imported here: this module is a storage backend, loaded while the catalogue's models
    # are (the import log's file field), so a module-level import would be circular.
    from catalog.imports.permissions import IMPORT_PERMISSIONS

    kind_permissions = IMPORT_PERMISSIONS.get(rest.split("/", 1)[0])
    return None if kind_permissions is None else (permission, *kind_permissions)


class PrivateFileSystemStorage(FileSystemStorage):
    """Local private folder: its URLs are the permission-checking view, never MEDIA_URL."""

    def url(self, name: str | None) -> str:
        return private_file_url(name or "")


def _is_clean(name: str) -> bool:
    # The folder decides the permission, so "imports/../exports/x" must not
    # pass as an import: refuse any dot segment, empty segment or absolute path.
    parts = name.split("/")
    return bool(name) and all(part not in ("", ".", "..") for part in parts) and "\\" not in name


def _is_servable_file(storage: Storage, name: str) -> bool:
    """Whether ``name`` is a file this view may hand out: an object on S3, a regular file on disk.

    On disk ``exists()`` is true of folders too, and opening a folder, a named
    pipe or a device fails or blocks the worker; a symbolic link may lead out
    of the private folder. Only a regular file whose real path lies inside the
    storage's real root is served (S3 has neither folders nor links).
    """
    if not isinstance(storage, FileSystemStorage):
        return storage.exists(name)
    root = os.path.realpath(storage.location)
    target = os.path.realpath(storage.path(name))
    if os.path.commonpath([root, target]) != root:
        return False
    try:
        return stat.S_ISREG(os.stat(target).st_mode)
    except OSError:  # missing, or not readable by this process
        return False


def private_storage() -> Storage:
    return storages["private"]


def public_storage() -> Storage:
    return storages["default"]


def is_s3_storage(storage: Storage) -> bool:
    from storages.backends.s3 import S3Storage

    # isinstance() sees through default_storage's lazy proxy.
    return isinstance(storage, S3Storage)


def private_file_url(name: str) -> str:
    """The link to show staff for a private file: the permission-checking view."""
    return reverse("private-file", kwargs={"name": name})


def _may_download(user, permissions: tuple[str, ...]) -> bool:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    # Same bar as the admin itself: a password alone is not enough.
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or not is_verified():
        return False
    return user.has_perms(permissions)


def private_file_response(request: HttpRequest, name: str, permissions: tuple[str, ...]) -> HttpResponse:
    """Hand out the private file ``name`` to a staff member holding every one of ``permissions``.

    Anonymous visitors are sent to the admin login; staff without the
    permission (or without the second factor) get 403; a missing file or a
    path that tries to leave the storage gets 404. On S3 the answer is a
    redirect to a pre-signed link valid for ``PRIVATE_URL_EXPIRE_SECONDS``; on
    disk the file itself, as an attachment.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not _may_download(user, permissions):
        logger.warning("private file refused", extra={"user_id": user.pk, "file": name})
        raise PermissionDenied
    if not _is_clean(name):
        raise Http404
    storage = private_storage()
    try:
        servable = _is_servable_file(storage, name)
    except SuspiciousFileOperation as exc:
        raise Http404 from exc
    if not servable:
        raise Http404
    filename = posixpath.basename(name)
    logger.info("private file served", extra={"user_id": user.pk, "file": name})
    if is_s3_storage(storage):
        url = storage.url(
            name,
            parameters={"ResponseContentDisposition": f'attachment; filename="{filename}"'},
            expire=settings.PRIVATE_URL_EXPIRE_SECONDS,
        )
        response: HttpResponse = HttpResponseRedirect(url)
    else:
        response = FileResponse(storage.open(name, "rb"), as_attachment=True, filename=filename)
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_GET
def private_file_view(request: HttpRequest, name: str) -> HttpResponse:
    if not _is_clean(name):
        raise Http404
    permissions = _permissions_for(name)
    if permissions is None:
        raise Http404
    return private_file_response(request, name, permissions)
