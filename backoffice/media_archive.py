"""Media backup as one tar archive, through the Django storages.

Walking the storages (not a folder or a bucket) makes the same archive from
local disk and from any S3-compatible store, and restores into either: a
backup taken from MinIO can be restored onto a laptop and back. Members are
``media/<name>`` for public media and ``private/<name>`` for import files and
exports.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from backoffice.storage import private_storage, public_storage


def walk(storage: Storage, folder: str = "") -> Iterator[str]:
    directories, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from walk(storage, f"{folder}/{directory}" if folder else directory)


def _open_tar(target, mode: str) -> tarfile.TarFile:
    if isinstance(target, str):
        return tarfile.open(target, mode)
    return tarfile.open(fileobj=target, mode=mode)


def _stores() -> dict[str, Storage]:
    return {"media": public_storage(), "private": private_storage()}


def media_backup(*, output) -> int:
    """Write every stored file into the tar.gz ``output`` (a path or a binary file); return the count."""
    count = 0
    with _open_tar(output, "w:gz") as archive:
        for prefix, storage in _stores().items():
            try:
                names = list(walk(storage))
            except FileNotFoundError:  # a local folder that was never created: nothing stored yet
                continue
            for name in names:
                if name.startswith("health/"):
                    continue  # probe files of /health/ that a crash left behind
                with storage.open(name, "rb") as handle:
                    data = handle.read()
                info = tarfile.TarInfo(f"{prefix}/{name}")
                info.size = len(data)
                archive.addfile(info, BytesIO(data))
                count += 1
    return count


def media_restore(*, source) -> int:
    """Put every file of the archive back under its own name; return the count.

    A file that already exists under that name is replaced, so restoring twice
    gives the same store (the storages never overwrite on save, hence the delete).
    """
    stores = _stores()
    count = 0
    with _open_tar(source, "r:gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            prefix, _sep, name = member.name.partition("/")
            storage = stores.get(prefix)
            if storage is None or not name or ".." in name.split("/"):
                raise ValueError(f"unexpected member in the media archive: {member.name!r}")
            data = archive.extractfile(member).read()
            if storage.exists(name):
                storage.delete(name)
            saved = storage.save(name, ContentFile(data))
            if saved != name:
                raise RuntimeError(f"{member.name} was restored as {saved}")
            count += 1
    return count
