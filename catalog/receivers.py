"""Keep ``Medicine.search_text`` current whatever saves a name (admin, import, API).

Connected in ``CatalogConfig.ready``. Raw saves (``loaddata``) are skipped:
fixture loaders call ``medicine_reindex_search`` once at the end, as do bulk
writers (bulk_create/update send no signals).
"""

from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save

from .models import ActiveSubstance, Manufacturer, Medicine, MedicineSubstance

SEARCHED_MEDICINE_FIELDS = {"name", "manufacturer", "manufacturer_id", "dosage_form"}


def _reindex(medicine_ids) -> None:
    from .services import medicine_reindex_search

    medicine_ids = list(medicine_ids)
    if medicine_ids:
        medicine_reindex_search(medicine_ids=medicine_ids)


def medicine_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields is not None and not (set(update_fields) & SEARCHED_MEDICINE_FIELDS):
        return
    _reindex([instance.pk])


def manufacturer_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    _reindex(Medicine.objects.filter(manufacturer_id=instance.pk).values_list("pk", flat=True))


def substance_saved(sender, instance, created, raw=False, **kwargs):
    if raw or created:
        return
    _reindex(MedicineSubstance.objects.filter(substance_id=instance.pk).values_list("medicine_id", flat=True))


def medicine_substance_changed(sender, instance, raw=False, **kwargs):
    if raw:
        return
    _reindex([instance.medicine_id])


# pg_trgm's default word-similarity threshold (0.6) misses the commonest
# misspellings of short names: "нурафен" scores 0.45 against "нурофен" (one
# unstressed vowel). 0.45 finds them; results are ordered by similarity, so
# the looser matches sort last.
WORD_SIMILARITY_THRESHOLD = 0.45


def set_trigram_threshold(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET pg_trgm.word_similarity_threshold = {WORD_SIMILARITY_THRESHOLD}")


def connect() -> None:
    connection_created.connect(set_trigram_threshold, dispatch_uid="catalog.trigram_threshold")
    post_save.connect(medicine_saved, sender=Medicine, dispatch_uid="catalog.medicine_search")
    post_save.connect(manufacturer_saved, sender=Manufacturer, dispatch_uid="catalog.manufacturer_search")
    post_save.connect(substance_saved, sender=ActiveSubstance, dispatch_uid="catalog.substance_search")
    post_save.connect(medicine_substance_changed, sender=MedicineSubstance, dispatch_uid="catalog.link_search")
    post_delete.connect(medicine_substance_changed, sender=MedicineSubstance, dispatch_uid="catalog.unlink_search")
