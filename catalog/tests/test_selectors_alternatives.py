from decimal import Decimal

import pytest

from catalog.models import DosageForm
from catalog.selectors import medicine_alternatives
from catalog.stock import lot_recall

from .factories import ActiveSubstanceFactory, MedicineFactory, medicine_with, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def paracetamol():
    return ActiveSubstanceFactory(inn_name="Paracetamol")


@pytest.fixture
def caffeine():
    return ActiveSubstanceFactory(inn_name="Caffeine")


def stocked(substances, *, price, stock=10, **kwargs):
    medicine = medicine_with(substances, price=Decimal(price), **kwargs)
    if stock:
        receive(medicine, stock)
    return medicine


def kinds(alternatives):
    return [(a.name, a.alternative_kind) for a in alternatives]


def test_exact_generics_come_first_then_other_strengths_and_forms_each_cheapest_first(paracetamol):
    asked = stocked([(paracetamol, 500)], price="12000", name="Panadol 500")
    stocked([(paracetamol, 500)], price="9000", name="Paracetamol-Farm 500")
    stocked([(paracetamol, 500)], price="3000", name="Paracetamol Uzb 500")
    stocked([(paracetamol, 200)], price="1000", name="Paracetamol 200")
    stocked([(paracetamol, 500)], price="2000", name="Paracetamol caps", dosage_form=DosageForm.CAPSULE)
    stocked([(paracetamol, 120, "mg", Decimal("5"))], price="15000", name="Syrup", dosage_form=DosageForm.SYRUP)

    result = medicine_alternatives(medicine=asked)

    assert kinds(result) == [
        ("Paracetamol Uzb 500", "exact"),
        ("Paracetamol-Farm 500", "exact"),
        ("Paracetamol 200", "same_substances"),
        ("Paracetamol caps", "same_substances"),
        ("Syrup", "same_substances"),
    ]


def test_alternatives_have_exactly_the_same_set_of_substances(paracetamol, caffeine):
    asked = stocked([(paracetamol, 500)], price="5000", name="Panadol")
    stocked([(paracetamol, 500), (caffeine, 65)], price="100", name="Panadol Extra")  # one substance more
    stocked([(caffeine, 500)], price="100", name="Caffeine")  # other substance
    combo = stocked([(paracetamol, 500), (caffeine, 65)], price="7000", name="Combo")
    stocked([(paracetamol, 500), (caffeine, 65)], price="6000", name="Same combo")
    stocked([(paracetamol, 250), (caffeine, 65)], price="500", name="Weaker combo")
    stocked([(paracetamol, 250)], price="50", name="Paracetamol alone")  # one substance fewer

    assert kinds(medicine_alternatives(medicine=asked)) == [("Paracetamol alone", "same_substances")]
    assert kinds(medicine_alternatives(medicine=combo)) == [
        ("Panadol Extra", "exact"),
        ("Same combo", "exact"),
        ("Weaker combo", "same_substances"),
    ]


def test_a_liquid_matches_exactly_only_at_the_same_strength_per_volume(paracetamol):
    asked = stocked(
        [(paracetamol, 120, "mg", Decimal("5"))], price="9000", name="Syrup A", dosage_form=DosageForm.SYRUP
    )
    stocked([(paracetamol, 120, "mg", Decimal("5"))], price="9500", name="Syrup B", dosage_form=DosageForm.SYRUP)
    stocked([(paracetamol, 120, "mg", Decimal("10"))], price="100", name="Syrup C", dosage_form=DosageForm.SYRUP)

    assert kinds(medicine_alternatives(medicine=asked)) == [("Syrup B", "exact"), ("Syrup C", "same_substances")]


def test_alternatives_skip_itself_inactive_and_unsellable_medicines(paracetamol):
    asked = stocked([(paracetamol, 500)], price="5000", name="Panadol")
    stocked([(paracetamol, 500)], price="100", name="Inactive", is_active=False)
    stocked([(paracetamol, 500)], price="100", name="Out of stock", stock=0)
    recalled = stocked([(paracetamol, 500)], price="100", name="Recalled")
    lot_recall(lot=recalled.lots.get(), reason="Recall")
    stocked([(paracetamol, 500)], price="6000", name="Good")

    assert kinds(medicine_alternatives(medicine=asked)) == [("Good", "exact")]


def test_the_limit_keeps_the_best_alternatives(paracetamol):
    asked = stocked([(paracetamol, 500)], price="5000")
    for price in (400, 300, 200, 100):
        stocked([(paracetamol, 500)], price=str(price))
    assert [a.price for a in medicine_alternatives(medicine=asked, limit=2)] == [Decimal("100"), Decimal("200")]


def test_a_medicine_without_substances_has_no_alternatives():
    assert medicine_alternatives(medicine=MedicineFactory()) == []


@pytest.mark.parametrize("count", [1, 15])
def test_alternatives_run_a_fixed_number_of_queries_however_many_there_are(
    paracetamol, caffeine, count, django_assert_num_queries
):
    asked = stocked([(paracetamol, 500), (caffeine, 50)], price="5000")
    for i in range(count):
        stocked([(paracetamol, 500), (caffeine, 50 + i % 2)], price=str(1000 + i))

    with django_assert_num_queries(3):
        result = medicine_alternatives(medicine=asked)
        # Everything a caller shows is already loaded.
        rows = [(a.manufacturer.name, [str(link) for link in a.medicine_substances.all()]) for a in result]

    assert len(rows) == count


def test_editing_a_strength_moves_a_medicine_between_exact_and_same_substances(paracetamol):
    asked = stocked([(paracetamol, 500)], price="5000", name="Panadol")
    other = stocked([(paracetamol, 500)], price="4000", name="Other")
    assert kinds(medicine_alternatives(medicine=asked)) == [("Other", "exact")]

    link = other.medicine_substances.get()
    link.strength = Decimal("250")
    link.save()  # as the admin inline does: the receivers refresh the keys

    assert kinds(medicine_alternatives(medicine=asked)) == [("Other", "same_substances")]


def test_the_alternatives_of_several_medicines_at_once_are_each_one_s_own_in_two_statements(
    paracetamol, caffeine, django_assert_num_queries
):
    from catalog.selectors import alternatives_by_medicine

    panadol = stocked([(paracetamol, 500)], price="12000", name="Panadol 500")
    stocked([(paracetamol, 500)], price="3000", name="Paracetamol Uzb 500")
    stocked([(paracetamol, 200)], price="1000", name="Paracetamol 200")
    coffee = stocked([(caffeine, 100)], price="5000", name="Caffeine 100")
    stocked([(caffeine, 100)], price="4000", name="Caffeine-Farm 100")
    alone = stocked([(ActiveSubstanceFactory(inn_name="Rare"), 1)], price="100", name="Rare 1")
    asked = [panadol, coffee, alone]

    with django_assert_num_queries(2):
        found = alternatives_by_medicine(medicine_ids=[m.pk for m in asked], limit=2)

    for medicine in asked:
        assert kinds(found[medicine.pk]) == kinds(medicine_alternatives(medicine=medicine, limit=2))
    assert kinds(found[coffee.pk]) == [("Caffeine-Farm 100", "exact")]
    assert found[alone.pk] == []
