"""WEBP thumbnails of product images for the catalogue API.

When a medicine is saved with an image, ``transaction.on_commit`` queues
``catalog.thumbnail_generate`` with the image's storage name; a Celery worker
(or the web process itself when tasks run eagerly) reads the image from the
default storage, writes ``thumbnails/<width>/<digest>-<stem>.webp`` next to it
and marks it done in the cache. The name depends only on the image's name, so
running the task twice, or after a worker died half-way, gives the same file.

The API asks ``thumbnail_names_ready(image names)`` for a page (one cache
round trip) and lists the thumbnail once it exists, the original image until
then; ``thumbnail_url(s)`` answer the same for model instances. Nothing here
touches the database, so a list page costs no extra queries.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
from collections.abc import Iterable
from io import BytesIO

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from backoffice.queue import enqueue
from catalog.versioning import catalog_cache_bump

logger = logging.getLogger(__name__)

THUMBNAIL_QUALITY = 80


def thumbnail_name(image_name: str, width: int | None = None) -> str:
    width = width or settings.THUMBNAIL_WIDTH
    digest = hashlib.sha256(image_name.encode()).hexdigest()[:16]
    stem = posixpath.splitext(posixpath.basename(image_name))[0][:60]
    return f"thumbnails/{width}/{digest}-{stem}.webp"


def _marker(name: str) -> str:
    # Keyed on the store too: a mark left by another bucket or folder (a move
    # from local disk to S3, a test's throw-away bucket) says nothing about this one.
    store = getattr(default_storage, "bucket_name", None) or getattr(default_storage, "location", "")
    return f"thumbnail:{store}:{name}"


def thumbnail_render(data: bytes, width: int) -> bytes:
    """A WEBP no wider than ``width``, aspect kept, never enlarged, EXIF rotation applied."""
    with Image.open(BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
        out = BytesIO()
        image.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
        return out.getvalue()


def thumbnail_generate(*, image_name: str, width: int | None = None) -> str | None:
    """Write the thumbnail of ``image_name`` unless it exists; return its name (None if unreadable)."""
    width = width or settings.THUMBNAIL_WIDTH
    name = thumbnail_name(image_name, width)
    storage = default_storage
    if not storage.exists(name):
        try:
            with storage.open(image_name, "rb") as handle:
                data = handle.read()
            rendered = thumbnail_render(data, width)
        except (FileNotFoundError, UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            # A deleted or broken image: nothing to make, and retrying will not help.
            logger.warning("thumbnail skipped", extra={"image": image_name, "error": str(exc)})
            return None
        saved = storage.save(name, ContentFile(rendered))
        if saved != name:
            # Another worker wrote the same thumbnail meanwhile; the storage
            # never overwrites, so it kept ours under a new name: drop it.
            storage.delete(saved)
    if cache.add(_marker(name), True, timeout=None):
        # The first to mark it: cached API responses still point at the full image, let them go.
        catalog_cache_bump()
    return name


@shared_task(name="catalog.thumbnail_generate", ignore_result=True)
def thumbnail_generate_task(image_name: str) -> str | None:
    return thumbnail_generate(image_name=image_name)


def thumbnail_names_ready(image_names: Iterable[str]) -> dict[str, str]:
    """``{image name: thumbnail name}`` for the images whose thumbnail exists (one cache read, none without images)."""
    names = {image: thumbnail_name(image) for image in set(image_names) if image}
    if not names:
        return {}
    done = cache.get_many([_marker(name) for name in names.values()])
    return {image: name for image, name in names.items() if done.get(_marker(name))}


def thumbnail_urls(medicines: Iterable) -> dict[int, str | None]:
    """``{medicine.pk: url}`` for a page of medicines, with one cache read (see ``thumbnail_names_ready``)."""
    medicines = list(medicines)
    ready = thumbnail_names_ready(m.image.name for m in medicines if m.image)
    urls: dict[int, str | None] = {}
    for medicine in medicines:
        if not medicine.image:
            urls[medicine.pk] = None
        elif medicine.image.name in ready:
            urls[medicine.pk] = default_storage.url(ready[medicine.image.name])
        else:
            urls[medicine.pk] = medicine.image.url
    return urls


def thumbnail_url(medicine) -> str | None:
    return thumbnail_urls([medicine])[medicine.pk]


def medicine_image_saved(sender, instance, raw=False, **kwargs) -> None:
    """post_save of Medicine: queue the thumbnail once the row is committed."""
    if raw or not instance.image:
        return
    image_name = instance.image.name
    if cache.get(_marker(thumbnail_name(image_name))):
        return
    # Once the row is committed, and with the broker down the save still succeeds.
    enqueue("catalog.thumbnail_generate", image_name)


def connect() -> None:
    from django.db.models.signals import post_save

    from .models import Medicine

    post_save.connect(medicine_image_saved, sender=Medicine, dispatch_uid="catalog.medicine_thumbnail")
