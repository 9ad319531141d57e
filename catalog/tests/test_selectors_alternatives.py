from decimal import Decimal

import pytest

from catalog.models import DosageForm
from catalog.selectors import alternatives_ranked, medicine_alternatives
from catalog.stock import lot_recall

from .factories import ActiveSubstanceFactory, LocationFactory, MedicineFactory, medicine_with, receive

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


def test_the_ranking_of_many_medicines_at_once_is_the_ranking_of_each(paracetamol, caffeine, django_assert_num_queries):
    panadol = stocked([(paracetamol, 500)], price="12000", name="Panadol 500")
    stocked([(paracetamol, 500)], price="3000", name="Paracetamol Uzb 500")
    stocked([(paracetamol, 200)], price="1000", name="Paracetamol 200")
    combo = stocked([(paracetamol, 500), (caffeine, 65)], price="7000", name="Combo")
    stocked([(paracetamol, 500), (caffeine, 65)], price="6000", name="Same combo")

    with django_assert_num_queries(1):
        ranked = alternatives_ranked(wanted=[(panadol.pk, None), (combo.pk, None)], limit=5)

    for medicine in (panadol, combo):
        one_by_one = medicine_alternatives(medicine=medicine, limit=5)
        assert [(a.medicine_id, a.kind) for a in ranked[(medicine.pk, None)]] == [
            (a.pk, a.alternative_kind) for a in one_by_one
        ]
    assert ranked[(combo.pk, None)][0].price == Decimal("6000.00")
    assert ranked[(combo.pk, None)][0].units == 10


def test_at_a_place_only_what_is_in_stock_there_is_offered(paracetamol):
    here, there = LocationFactory(), LocationFactory()
    asked = stocked([(paracetamol, 500)], price="12000", name="Panadol 500", stock=0)
    cheap_elsewhere = stocked([(paracetamol, 500)], price="1000", name="Cheap elsewhere", stock=0)
    receive(cheap_elsewhere, 5, location=there)
    dear_here = stocked([(paracetamol, 500)], price="9000", name="Dear here", stock=0)
    receive(dear_here, 4, location=here)

    ranked = alternatives_ranked(wanted=[(asked.pk, here.pk), (asked.pk, there.pk), (asked.pk, None)], limit=3)

    assert [(a.name, a.units) for a in ranked[(asked.pk, here.pk)]] == [("Dear here", 4)]
    assert [(a.name, a.units) for a in ranked[(asked.pk, there.pk)]] == [("Cheap elsewhere", 5)]
    assert [a.name for a in ranked[(asked.pk, None)]] == ["Cheap elsewhere", "Dear here"]


def test_the_exact_generic_comes_first_however_many_cheaper_other_strengths_there_are(paracetamol):
    asked = stocked([(paracetamol, 500)], price="12000", name="Panadol 500", stock=0)
    for n in range(13):
        stocked([(paracetamol, 200)], price=str(100 + n), name=f"Weaker {n:02d}")
    stocked([(paracetamol, 500)], price="20000", name="Dear exact")

    ranked = alternatives_ranked(wanted=[(asked.pk, None)], limit=3)[(asked.pk, None)]

    assert [(a.name, a.kind) for a in ranked] == [
        ("Dear exact", "exact"),
        ("Weaker 00", "same_substances"),
        ("Weaker 01", "same_substances"),
    ]


def test_medicines_without_alternatives_are_left_out_and_nothing_asked_runs_nothing(django_assert_num_queries):
    lonely = MedicineFactory()
    assert alternatives_ranked(wanted=[(lonely.pk, None)], limit=3) == {}
    with django_assert_num_queries(0):
        assert alternatives_ranked(wanted=[], limit=3) == {}
