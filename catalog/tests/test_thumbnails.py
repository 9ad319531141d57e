"""WEBP thumbnails for the catalogue API, generated after the image is saved."""

from io import BytesIO

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from backoffice.storage_config import local_storages
from backoffice.tests.images import image_bytes
from catalog.tests.factories import MedicineFactory
from catalog.thumbnails import thumbnail_generate, thumbnail_name, thumbnail_url, thumbnail_urls

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = local_storages(media_root=settings.MEDIA_ROOT, private_root=tmp_path / "private")
    cache.clear()
    return settings.MEDIA_ROOT


def thumbnail_callbacks(callbacks) -> list:
    # The thumbnail is the one task a medicine's save sends (backoffice.queue.enqueue, on commit).
    return [c for c in callbacks if c.__qualname__.startswith("enqueue.")]


def read_image(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as handle:
        image = Image.open(BytesIO(handle.read()))
        image.load()
        return image


def test_saving_a_medicine_with_an_image_makes_a_320px_webp_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        medicine = MedicineFactory(image=ContentFile(image_bytes("PNG", size=(1000, 500)), name="aspirin.png"))

    assert len(thumbnail_callbacks(callbacks)) == 1
    medicine.refresh_from_db()
    thumbnail = read_image(thumbnail_name(medicine.image.name))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (320, 160))
    assert thumbnail_url(medicine) == default_storage.url(thumbnail_name(medicine.image.name))


def test_nothing_is_queued_before_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        medicine = MedicineFactory(image=ContentFile(image_bytes(), name="late.png"))

    assert len(thumbnail_callbacks(callbacks)) == 1
    assert not default_storage.exists(thumbnail_name(medicine.image.name))
    assert thumbnail_url(medicine) == medicine.image.url  # the original until the thumbnail exists


def test_a_small_image_is_not_enlarged():
    name = default_storage.save("medicines/tiny.jpg", ContentFile(image_bytes("JPEG", size=(100, 80))))

    thumbnail = read_image(thumbnail_generate(image_name=name))

    assert thumbnail.size == (100, 80)


def test_generating_twice_keeps_one_thumbnail(media):
    name = default_storage.save("medicines/twice.png", ContentFile(image_bytes()))

    first = thumbnail_generate(image_name=name)
    second = thumbnail_generate(image_name=name)

    assert first == second
    assert len(list((media / "thumbnails" / "320").iterdir())) == 1


def test_a_broken_image_is_skipped_without_failing_the_task():
    name = default_storage.save("medicines/broken.png", ContentFile(b"not an image"))

    assert thumbnail_generate(image_name=name) is None
    assert not default_storage.exists(thumbnail_name(name))


def test_a_medicine_without_an_image_has_no_thumbnail_and_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        medicine = MedicineFactory()

    assert thumbnail_callbacks(callbacks) == []
    assert thumbnail_url(medicine) is None


def test_a_page_of_medicines_gets_its_thumbnail_urls_without_queries(django_assert_num_queries):
    with_image = MedicineFactory(image=ContentFile(image_bytes(), name="page.png"))
    thumbnail_generate(image_name=with_image.image.name)
    waiting = MedicineFactory(image=ContentFile(image_bytes(), name="waiting.png"))
    cache.delete_many([f"thumbnail:{default_storage.location}:{thumbnail_name(waiting.image.name)}"])
    without = MedicineFactory()

    with django_assert_num_queries(0):
        urls = thumbnail_urls([with_image, waiting, without])

    assert urls == {
        with_image.pk: default_storage.url(thumbnail_name(with_image.image.name)),
        waiting.pk: waiting.image.url,
        without.pk: None,
    }
