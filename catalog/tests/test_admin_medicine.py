"""The medicine pages, the alternatives view and the read-only ledger in the admin."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from catalog import services, stock
from catalog.models import DosageForm, Medicine, StockMovement
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import ActiveSubstanceFactory, MedicineFactory, main_location, medicine_with, receive


@pytest.fixture
def paracetamol_family(db):
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол")
    asked = medicine_with([(paracetamol, 500)], name="Panadol 500", price="18000")
    receive(asked, 10)
    exact = medicine_with([(paracetamol, 500)], name="Paracetamol Nika 500", price="4500")
    receive(exact, 30)
    other_strength = medicine_with(
        [(paracetamol, 250)], name="Efferalgan 250", price="3000", dosage_form=DosageForm.SYRUP
    )
    receive(other_strength, 5)
    no_stock = medicine_with([(paracetamol, 500)], name="Paracetamol Empty", price="1000")
    unrelated = medicine_with([(ActiveSubstanceFactory(inn_name="Ibuprofen"), 200)], name="Nurofen")
    receive(unrelated, 8)
    return {"asked": asked, "exact": exact, "other_strength": other_strength, "no_stock": no_stock}


def alternatives_url(medicine: Medicine) -> str:
    return reverse("admin:catalog_medicine_alternatives", args=[medicine.pk])


@pytest.mark.django_db
def test_operator_opens_alternatives_with_stock_and_price_exact_equivalents_first(staff_client, paracetamol_family):
    client = staff_client(Role.OPERATOR)

    response = client.get(alternatives_url(paracetamol_family["asked"]))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["medicine"].name for row in rows] == ["Paracetamol Nika 500", "Efferalgan 250"]
    assert [row["kind"] for row in rows] == ["exact", "same_substances"]
    html = response.content.decode()
    assert "4\u00a0500\u00a0so" in html
    assert "Exact equivalent" in html
    assert "Paracetamol Empty" not in html
    assert "Nurofen" not in html


@pytest.mark.django_db
def test_alternatives_are_reachable_from_the_medicine_list_and_page(staff_client, paracetamol_family):
    client = staff_client(Role.OPERATOR)
    url = alternatives_url(paracetamol_family["asked"])

    listing = client.get(reverse("admin:catalog_medicine_changelist")).content.decode()
    page = client.get(reverse("admin:catalog_medicine_change", args=[paracetamol_family["asked"].pk])).content.decode()

    assert url in listing
    assert url in page


@pytest.mark.django_db
def test_alternatives_page_runs_a_fixed_number_of_queries(staff_client, paracetamol_family):
    client = staff_client(Role.OPERATOR)
    few, _ = queries_for(client, alternatives_url(paracetamol_family["asked"]))
    paracetamol = paracetamol_family["asked"].substances.get()
    for i in range(10):
        receive(medicine_with([(paracetamol, 500)], name=f"Generic {i}"), 3)

    many, response = queries_for(client, alternatives_url(paracetamol_family["asked"]))

    assert many == few
    assert len(response.context["rows"]) == 12


@pytest.mark.django_db
def test_alternatives_need_the_right_to_view_medicines(client, make_staff, login_staff, paracetamol_family):
    login_staff(make_staff(Role.OPERATOR))
    assert client.get(alternatives_url(paracetamol_family["asked"])).status_code == 200
    client.logout()
    assert client.get(alternatives_url(paracetamol_family["asked"])).status_code == 302


def medicine_form_data(medicine: Medicine, **changes) -> dict:
    data = {
        "name": medicine.name,
        "slug": medicine.slug,
        "sku": medicine.sku,
        "barcode": medicine.barcode,
        "manufacturer": medicine.manufacturer_id,
        "category": medicine.category_id,
        "dosage_form": medicine.dosage_form,
        "pack_size": medicine.pack_size,
        "price": str(medicine.price),
        "reorder_level": medicine.reorder_level,
        "parts_per_pack": medicine.parts_per_pack,
        "part_name": medicine.part_name,
        "part_price": "" if medicine.part_price is None else str(medicine.part_price),
        "is_active": "on",
        "description": "",
        "usage": "",
        "medicine_substances-TOTAL_FORMS": 0,
        "medicine_substances-INITIAL_FORMS": 0,
        "lots-TOTAL_FORMS": 0,
        "lots-INITIAL_FORMS": 0,
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_saving_a_medicine_with_a_new_substance_makes_it_findable_by_that_substance(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(name="Citramon")
    caffeine = ActiveSubstanceFactory(inn_name="Caffeine", name_ru="Кофеин")

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        medicine_form_data(
            medicine,
            **{
                "price": "12500",
                "change_reason": "Supplier price list 14/2026",
                "medicine_substances-TOTAL_FORMS": 1,
                "medicine_substances-0-substance": caffeine.pk,
                "medicine_substances-0-strength": "30",
                "medicine_substances-0-unit": "mg",
            },
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    medicine.refresh_from_db()
    assert "кофеин" in medicine.search_text
    found = client.get(reverse("admin:catalog_medicine_changelist"), {"q": "кофеин"})
    assert [m.name for m in found.context["cl"].result_list] == ["Citramon"]
    history = medicine.history.first()
    assert history.price == 12500
    assert history.history_user == client.user


@pytest.mark.django_db
def test_medicine_page_lists_its_lots_read_only(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory()
    lot = receive(medicine, 12, lot_number="LOT-A")
    receive(medicine, 3, lot_number="LOT-B", expires_in_days=20)
    emptied = receive(medicine, 1, lot_number="LOT-EMPTY")
    stock.lot_quarantine(lot=lot, reason="Damaged boxes")
    stock.stock_write_off(lot=emptied, quantity=1, reason="Broken")

    html = client.get(reverse("admin:catalog_medicine_change", args=[medicine.pk])).content.decode()

    # Above the form, soonest expiry first, each lot a link, its state a badge (not a (value, text) tuple).
    block = html.split('id="medicine-lots"', 1)[1].split("</table>", 1)[0]
    assert html.index('id="medicine-lots"') < html.index('name="name"')
    rows = re.findall(r'<tr class="lot-row">(.*?)</tr>', block, re.S)
    assert [re.search(r">(LOT-[A-Z]+)</a>", row).group(1) for row in rows] == ["LOT-B", "LOT-A"]
    assert reverse("admin:catalog_lot_change", args=[lot.pk]) in rows[1]
    assert "Quarantined" in rows[1] and "bg-orange-100" in rows[1]
    assert main_location().name in rows[1] and "12" in rows[1]
    assert "LOT-EMPTY" not in block and "(&#x27;" not in html
    assert 'name="lots-0-quantity"' not in html


@pytest.mark.django_db
def test_operator_cannot_change_a_medicine(staff_client):
    client = staff_client(Role.OPERATOR)
    medicine = MedicineFactory(price="5000")

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]), medicine_form_data(medicine, price="1")
    )

    assert response.status_code == 403
    medicine.refresh_from_db()
    assert medicine.price == 5000


@pytest.mark.django_db
def test_history_page_shows_who_changed_the_price_and_from_what(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price="5000")
    client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        medicine_form_data(medicine, price="7250", change_reason="New supplier price"),
    )

    response = client.get(reverse("admin:catalog_medicine_history", args=[medicine.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    # Amounts as lists write them, thousands grouped.
    assert "5\u00a0000" in html
    assert "7\u00a0250" in html
    assert "New supplier price" in html
    assert client.user.phone in html or client.user.get_full_name() in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", [{"price": "7777"}, {"is_prescription": "on"}, {"is_controlled": "on"}], ids=["price", "rx", "controlled"]
)
def test_a_new_price_or_dispensing_rule_without_a_reason_is_refused_and_changes_nothing(staff_client, change):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price="5000")
    versions = medicine.history.count()

    response = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]), medicine_form_data(medicine, **change)
    )

    assert response.status_code == 200
    assert "Say why the price or the dispensing rules change." in response.content.decode()
    medicine.refresh_from_db()
    assert (medicine.price, medicine.is_prescription, medicine.is_controlled) == (5000, False, False)
    assert medicine.history.count() == versions


@pytest.mark.django_db
def test_a_price_change_is_recorded_with_its_reason_and_leaves_sales_alone(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price="5000")
    form = medicine_form_data(medicine, price="5500", change_reason="Manufacturer raised prices")
    Medicine.objects.filter(pk=medicine.pk).update(number_sold=59)  # a sale while the form was open

    response = client.post(reverse("admin:catalog_medicine_change", args=[medicine.pk]), form)

    assert response.status_code == 302
    medicine.refresh_from_db()
    assert (medicine.price, medicine.number_sold) == (5500, 59)
    latest = medicine.history.first()
    assert (latest.history_change_reason, latest.history_user) == ("Manufacturer raised prices", client.user)


@pytest.mark.django_db
def test_saving_a_medicine_unchanged_keeps_its_description_and_records_no_change(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(description="Take one tablet.\nNot for children.")
    versions = medicine.history.count()
    # A browser sends a textarea's lines ending in CR LF.
    form = medicine_form_data(medicine, description="Take one tablet.\r\nNot for children.")

    response = client.post(reverse("admin:catalog_medicine_change", args=[medicine.pk]), form)

    assert response.status_code == 302
    medicine.refresh_from_db()
    assert medicine.description == "Take one tablet.\nNot for children."
    assert medicine.history.count() == versions


@pytest.mark.django_db
def test_a_price_change_records_only_the_price_not_the_description(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(description="Line one\nLine two")
    form = medicine_form_data(
        medicine, description="Line one\r\nLine two", price="9000", change_reason="Price list 2026-12"
    )

    client.post(reverse("admin:catalog_medicine_change", args=[medicine.pk]), form)

    new, old = medicine.history.all()[:2]
    assert [change.field for change in new.diff_against(old).changes] == ["price"]


@pytest.mark.django_db
def test_history_page_of_a_lot_shows_its_status_change_and_reason(staff_client):
    client = staff_client(Role.PHARMACIST)
    lot = receive(MedicineFactory(), 5)
    client.post(reverse("admin:catalog_lot_quarantine_lot", args=[lot.pk]), {"reason": "Broken seal"})

    html = client.get(reverse("admin:catalog_lot_history", args=[lot.pk])).content.decode()

    assert "Broken seal" in html
    assert "quarantined" in html


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PHARMACIST, Role.INVENTORY, Role.OPERATOR])
def test_stock_ledger_is_read_only_for_every_role(staff_client, role):
    client = staff_client(role)
    movement = receive(MedicineFactory(), 5).movements.get()

    assert client.get(reverse("admin:catalog_stockmovement_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_stockmovement_add")).status_code == 403
    assert client.get(reverse("admin:catalog_stockmovement_delete", args=[movement.pk])).status_code == 403
    change_url = reverse("admin:catalog_stockmovement_change", args=[movement.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"quantity": 500, "reason": "tamper"}).status_code == 403
    movement.refresh_from_db()
    assert (movement.quantity, movement.reason) == (5, "receipt")
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["kind__exact=receipt", "lot__id__exact={lot}", "lot__medicine__id__exact={medicine}", "user__id__exact={user}"],
)
def test_stock_ledger_filters_by_kind_lot_medicine_and_user(staff_client, query):
    client = staff_client(Role.INVENTORY)
    lot = receive(MedicineFactory(), 5, user=client.user)
    receive(MedicineFactory(), 6)

    response = client.get(
        reverse("admin:catalog_stockmovement_changelist")
        + "?"
        + query.format(lot=lot.pk, medicine=lot.medicine_id, user=client.user.pk)
    )

    rows = list(response.context["cl"].result_list)
    if query.startswith("kind"):
        assert len(rows) == 2
    else:
        assert [m.lot_id for m in rows] == [lot.pk]


@pytest.mark.django_db
def test_stock_ledger_filters_by_date(staff_client):
    client = staff_client(Role.INVENTORY)
    receive(MedicineFactory(), 5)
    url = reverse("admin:catalog_stockmovement_changelist")

    period = {"created_at_from_1": "00:00", "created_at_to_1": "23:59"}

    past = client.get(url, {**period, "created_at_from_0": "2020-01-01", "created_at_to_0": "2020-12-31"})
    this_year = client.get(url, {**period, "created_at_from_0": "2020-01-01", "created_at_to_0": "2100-12-31"})

    assert list(past.context["cl"].result_list) == []
    assert len(this_year.context["cl"].result_list) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model_name", "field_name", "term", "found"),
    [
        ("medicine", "substances", "parac", "Paracetamol"),
        ("medicine", "manufacturer", "acme", "Acme Pharma"),
        ("stockmovement", "lot", "LOT-Z", "LOT-Z"),
        ("lot", "medicine", "парацетамол", "Panadol Z"),
    ],
)
def test_filter_autocompletes_answer_every_staff_role(staff_client, model_name, field_name, term, found):
    client = staff_client(Role.OPERATOR)
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol", name_ru="Парацетамол")
    medicine = medicine_with([(paracetamol, 500)], name="Panadol Z", manufacturer__name="Acme Pharma")
    receive(medicine, 4, lot_number="LOT-Z")

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": model_name, "field_name": field_name, "term": term},
    )

    assert response.status_code == 200
    assert found in [item["text"] for item in response.json()["results"]][0]


@pytest.mark.django_db
def test_ledger_user_filter_lists_staff_only(staff_client):
    from accounts.tests.factories import UserFactory

    client = staff_client(Role.INVENTORY)
    customer = UserFactory(first_name="Customer")

    response = client.get(reverse("admin:catalog_stockmovement_changelist"))

    user_filter = next(spec for spec in response.context["cl"].filter_specs if spec.field_path == "user")
    offered = {pk for pk, _label in user_filter.lookup_choices}
    assert client.user.pk in offered
    assert customer.pk not in offered


def as_opened(medicine: Medicine, **edits) -> dict:
    """The form as a member posts it: what the page showed (the hidden initial values) and their edits."""
    shown = medicine_form_data(medicine)
    seen = {f"initial-{name}": value for name, value in shown.items() if "-" not in name}
    seen["initial-is_active"] = str(medicine.is_active)
    seen.update({f"initial-{name}": str(getattr(medicine, name)) for name in ("is_prescription", "is_controlled")})
    return {**shown, **seen, **edits}


@pytest.mark.django_db
def test_the_medicine_page_remembers_what_it_showed(staff_client):
    medicine = MedicineFactory()

    page = staff_client(Role.PHARMACIST).get(reverse("admin:catalog_medicine_change", args=[medicine.pk]))

    for name in ("name", "price", "reorder_level", "is_active"):
        assert f'name="initial-{name}"' in page.content.decode(), name


@pytest.mark.django_db
def test_saving_a_page_opened_before_a_colleagues_edit_keeps_that_edit(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(name="Paracetamol 500", reorder_level=10, is_active=True)
    form = as_opened(medicine, description="Take with water.")
    # Meanwhile a colleague renames it, raises the reorder level and takes it off sale.
    services.medicine_update(medicine=medicine, changes={"name": "Paracetamol 500 mg", "reorder_level": 50,
                                                         "is_active": False})  # fmt: skip

    response = client.post(reverse("admin:catalog_medicine_change", args=[medicine.pk]), form)

    assert response.status_code == 302
    medicine.refresh_from_db()
    assert (medicine.name, medicine.reorder_level, medicine.is_active) == ("Paracetamol 500 mg", 50, False)
    assert medicine.description == "Take with water."


@pytest.mark.django_db
def test_a_price_a_colleague_changed_meanwhile_is_not_overwritten_unseen(staff_client):
    client = staff_client(Role.PHARMACIST)
    medicine = MedicineFactory(price=Decimal("55000"))
    form = as_opened(medicine, price="56000", change_reason="Supplier price list")
    services.medicine_update(medicine=medicine, changes={"price": Decimal("60000")}, reason="Import 12")

    response = client.post(reverse("admin:catalog_medicine_change", args=[medicine.pk]), form)

    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    medicine.refresh_from_db()
    assert medicine.price == Decimal("60000")
    # Saved again from the page as shown now, the member's price goes in.
    again = client.post(
        reverse("admin:catalog_medicine_change", args=[medicine.pk]),
        {**as_opened(medicine), "price": "56000", "change_reason": "Supplier price list"},
    )
    assert again.status_code == 302
    medicine.refresh_from_db()
    assert medicine.price == Decimal("56000")
