import pytest
from django.db import connection

from catalog.models import Medicine
from catalog.selectors import medicine_search
from catalog.services import medicine_reindex_search
from catalog.transliteration import latin_to_cyrillic, spellings
from conftest import requires_postgres

from .factories import ActiveSubstanceFactory, ManufacturerFactory, MedicineFactory, medicine_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол", name_uz="Paratsetamol")
    ibuprofen = ActiveSubstanceFactory(inn_name="Ibuprofen", name_ru="Ибупрофен", name_uz="Ibuprofen")
    amoxicillin = ActiveSubstanceFactory(inn_name="Amoxicillin", name_ru="Амоксициллин")
    return {
        "panadol": medicine_with(
            [(paracetamol, 500)], name="Panadol", manufacturer=ManufacturerFactory(name="GlaxoSmithKline")
        ),
        "nurofen": medicine_with(
            [(ibuprofen, 200)], name="Nurofen", manufacturer=ManufacturerFactory(name="Reckitt Benckiser")
        ),
        "flemoxin": medicine_with(
            [(amoxicillin, 500)], name="Флемоксин Солютаб", manufacturer=ManufacturerFactory(name="Astellas")
        ),
        "citramon": medicine_with(
            [(paracetamol, 240)], name="Tsitramon", manufacturer=ManufacturerFactory(name="Dori-Darmon")
        ),
    }


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_search_text_holds_latin_and_cyrillic_spellings(catalogue):
    panadol = catalogue["panadol"]
    panadol.refresh_from_db()
    for spelling in ("panadol", "панадол", "paracetamol", "парацетамол", "paratsetamol", "glaxosmithkline"):
        assert spelling in panadol.search_text


def test_transliteration_spells_drug_names_as_people_type_them():
    assert latin_to_cyrillic("paracetamol") == "парацетамол"
    assert spellings("Paracetamol") == ["paracetamol", "парацетамол", "paratsetamol"]
    assert "nurofen" in spellings("Нурофен")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("paracetamol", {"Panadol", "Tsitramon"}),  # substance INN, Latin
        ("ПАРАЦЕТАМОЛ", {"Panadol", "Tsitramon"}),  # substance, Cyrillic, upper case
        ("paratsetamol", {"Panadol", "Tsitramon"}),  # Uzbek Latin spelling of the Russian name
        ("nurofen", {"Nurofen"}),  # trade name
        ("Нурофен", {"Nurofen"}),  # trade name typed in Cyrillic
        ("флемоксин", {"Флемоксин Солютаб"}),  # Cyrillic trade name, lower case
        ("flemoksin", {"Флемоксин Солютаб"}),  # ... found from Latin
        ("reckitt", {"Nurofen"}),  # manufacturer
        ("amoxicillin", {"Флемоксин Солютаб"}),
        ("parac", {"Panadol", "Tsitramon"}),  # the start of a word, while typing
        ("glaxo", {"Panadol"}),
    ],
)
def test_search_finds_medicines_by_name_manufacturer_and_substance_in_latin_and_cyrillic(catalogue, query, expected):
    assert expected <= names(medicine_search(query=query))
    assert "Panadol" not in names(medicine_search(query=query)) or "Panadol" in expected


def test_search_by_exact_sku_or_barcode_puts_that_medicine_first(catalogue):
    nurofen = catalogue["nurofen"]
    assert list(medicine_search(query=nurofen.sku))[0] == nurofen
    assert list(medicine_search(query=nurofen.barcode))[0] == nurofen


def test_search_with_an_empty_query_finds_nothing(catalogue):
    assert list(medicine_search(query="   ")) == []


def test_search_respects_the_given_queryset(catalogue):
    only_active = Medicine.objects.exclude(pk=catalogue["panadol"].pk)
    assert names(medicine_search(query="paracetamol", queryset=only_active)) == {"Tsitramon"}


def test_renaming_a_medicine_or_a_manufacturer_refreshes_the_search_text(catalogue):
    nurofen = catalogue["nurofen"]
    nurofen.name = "Nurofen Express"
    nurofen.save()
    maker = nurofen.manufacturer
    maker.name = "Reckitt Health"
    maker.save()

    assert nurofen in medicine_search(query="express")
    assert nurofen in medicine_search(query="health")
    assert nurofen not in medicine_search(query="benckiser")


def test_adding_a_substance_makes_the_medicine_findable_by_it(catalogue):
    from .factories import MedicineSubstanceFactory

    codeine = ActiveSubstanceFactory(inn_name="Codeine", name_ru="Кодеин")
    MedicineSubstanceFactory(medicine=catalogue["panadol"], substance=codeine, strength=8)

    assert catalogue["panadol"] in medicine_search(query="кодеин")


def test_reindex_rebuilds_a_stale_search_text(catalogue):
    Medicine.objects.update(search_text="")
    medicine_reindex_search(medicine_ids=Medicine.objects.values_list("pk", flat=True))
    assert catalogue["nurofen"] in medicine_search(query="ибупрофен")


@requires_postgres
@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("парацитамол", "Panadol"),  # Cyrillic typo: needs a UTF-8 LC_CTYPE for pg_trgm
        ("paracetamlo", "Panadol"),  # Latin transposition
        ("нурафен", "Nurofen"),
        ("amoxicilin", "Флемоксин Солютаб"),
        ("амоксицилин", "Флемоксин Солютаб"),
    ],
)
def test_search_tolerates_a_typo_on_postgresql(catalogue, typo, expected):
    assert expected in names(medicine_search(query=typo))


@requires_postgres
def test_search_ranks_the_closest_match_first_on_postgresql(catalogue):
    MedicineFactory(name="Nurofen Forte")  # contains the word, longer name
    ranked = list(medicine_search(query="nurofen").values_list("name", flat=True))
    assert set(ranked[:2]) == {"Nurofen", "Nurofen Forte"}
    assert "Panadol" not in ranked


@requires_postgres
def test_a_typo_is_still_found_when_the_vocabulary_does_not_know_the_word(catalogue):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM catalog_search_term")
    assert "Panadol" in names(medicine_search(query="парацитамол"))


@requires_postgres
def test_saving_a_medicine_adds_its_words_to_the_search_vocabulary(catalogue):
    MedicineFactory(name="Xarelto")
    with connection.cursor() as cursor:
        cursor.execute("SELECT term FROM catalog_search_term WHERE term IN ('xarelto', 'ксарелто')")
        assert sorted(row[0] for row in cursor.fetchall()) == ["xarelto", "ксарелто"]
    assert "Xarelto" in names(medicine_search(query="ксарелта"))


@requires_postgres
def test_the_search_filter_can_use_the_trigram_index_on_postgresql(catalogue):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'medicine_search_trgm_idx'")
        [(indexdef,)] = cursor.fetchall()
    assert "gin_trgm_ops" in indexdef
    with connection.cursor() as cursor:
        # A tiny table is cheapest to scan whole; forbid that to see whether the index can serve the filter.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = medicine_search(query="парацитамол").explain()
    assert "medicine_search_trgm_idx" in plan
