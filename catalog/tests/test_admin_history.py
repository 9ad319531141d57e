"""History pages: anyone who may read a record sees its versions; only the change permission restores one,
and a restore writes what a person edits (never stock, sales or search columns) with a reason."""

from decimal import Decimal

import pytest
from django.db.models.fields.files import FieldFile
from django.urls import reverse

from accounts.roles import Role
from catalog.models import Lot, Medicine
from catalog.tests.factories import MedicineFactory, days, receive


def version_url(obj, version) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, version.history_id])


def form_data(response) -> dict:
    """What a browser would send from a version page: every field of its form, as shown."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False or isinstance(value, FieldFile):
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.fixture
def repriced_medicine(db):
    """A medicine first priced 10,000 (version 1), then 12,000 and made Rx (version 2), with 59 sold."""
    medicine = MedicineFactory(price=Decimal("10000"), is_prescription=False)
    first = medicine.history.earliest()
    medicine.price = Decimal("12000")
    medicine.is_prescription = True
    medicine.save()
    receive(medicine, 80)
    Medicine.objects.filter(pk=medicine.pk).update(number_sold=59)
    medicine.refresh_from_db()
    return medicine, first


@pytest.mark.django_db
def test_an_operator_who_may_only_view_medicines_cannot_restore_a_version(staff_client, repriced_medicine):
    medicine, first = repriced_medicine
    client = staff_client(Role.OPERATOR)
    page = client.get(version_url(medicine, first))
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True

    response = client.post(version_url(medicine, first), {**form_data(page), "price": "7777", "reason": "x"})

    assert response.status_code == 403
    medicine.refresh_from_db()
    assert (medicine.price, medicine.is_prescription, medicine.number_sold) == (Decimal("12000"), True, 59)


@pytest.mark.django_db
def test_restoring_a_medicine_version_keeps_sales_stock_and_search_columns(staff_client, repriced_medicine):
    medicine, first = repriced_medicine
    before = Medicine.objects.values("sellable_quantity", "nearest_expiry", "search_text").get(pk=medicine.pk)
    client = staff_client(Role.PHARMACIST)
    page = client.get(version_url(medicine, first))

    response = client.post(version_url(medicine, first), {**form_data(page), "reason": "Price set by mistake"})

    assert response.status_code == 302
    medicine.refresh_from_db()
    assert (medicine.price, medicine.is_prescription) == (Decimal("10000"), False)
    assert medicine.number_sold == 59
    assert Medicine.objects.values("sellable_quantity", "nearest_expiry", "search_text").get(pk=medicine.pk) == before
    latest = medicine.history.first()
    assert (latest.history_user, latest.history_change_reason) == (client.user, "Price set by mistake")


@pytest.mark.django_db
def test_a_restore_writes_the_version_not_what_the_form_was_edited_to(staff_client, repriced_medicine):
    medicine, first = repriced_medicine
    client = staff_client(Role.PHARMACIST)
    page = client.get(version_url(medicine, first))

    client.post(version_url(medicine, first), {**form_data(page), "price": "7777", "reason": "Back to the list price"})

    medicine.refresh_from_db()
    assert medicine.price == Decimal("10000")


@pytest.mark.django_db
def test_a_restore_without_a_reason_changes_nothing_and_says_why(staff_client, repriced_medicine):
    medicine, first = repriced_medicine
    client = staff_client(Role.PHARMACIST)
    page = client.get(version_url(medicine, first))
    versions = medicine.history.count()

    response = client.post(version_url(medicine, first), {**form_data(page), "reason": "  "})

    assert response.status_code == 200
    assert "Say why" in response.content.decode()
    medicine.refresh_from_db()
    assert medicine.price == Decimal("12000")
    assert medicine.history.count() == versions


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ADMIN, Role.PHARMACIST, Role.INVENTORY, Role.OPERATOR])
def test_no_role_restores_a_lot_version_stock_changes_only_through_the_ledger(staff_client, role):
    lot = receive(MedicineFactory(), 20, expires_in_days=700)
    first = lot.history.earliest()
    Lot.objects.filter(pk=lot.pk).update(purchase_price=Decimal("9000"))
    from catalog.stock import lot_update_details, stock_write_off

    lot_update_details(lot=lot, changes={"expiry_date": days(800)}, reason="Supplier corrected the date")
    stock_write_off(lot=lot, quantity=5, reason="Broken")
    lot.refresh_from_db()
    client = staff_client(role)
    page = client.get(version_url(lot, first))
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True

    response = client.post(
        version_url(lot, first),
        {**form_data(page), "expiry_date": "2035-12-31", "purchase_price": "1", "reason": "x"},
    )

    assert response.status_code == 403
    fresh = Lot.objects.get(pk=lot.pk)
    assert (fresh.quantity, fresh.expiry_date, fresh.purchase_price) == (15, days(800), Decimal("9000"))


@pytest.mark.django_db
def test_the_history_list_shows_who_changed_what_and_why(staff_client, repriced_medicine):
    medicine, _first = repriced_medicine
    latest = medicine.history.first()
    medicine.history.filter(history_id=latest.history_id).update(history_change_reason="Supplier price list 14/2026")
    client = staff_client(Role.OPERATOR)

    html = client.get(reverse("admin:catalog_medicine_history", args=[medicine.pk])).content.decode()

    assert "Change reason" in html
    assert "Supplier price list 14/2026" in html


@pytest.mark.django_db
def test_a_price_list_import_names_its_job_as_the_reason_of_each_price_change(make_staff):
    from catalog.models import ImportState
    from catalog.tests.import_helpers import csv_bytes, run_import

    medicine = MedicineFactory(sku="PARA-1", price=Decimal("5000"))

    job = run_import("pricelist", csv_bytes([["sku", "price"], ["PARA-1", "6000"]]), make_staff(Role.PHARMACIST))

    assert job.state == ImportState.DONE, job.errors
    latest = medicine.history.first()
    assert latest.price == Decimal("6000")
    assert job.reference in latest.history_change_reason


@pytest.mark.django_db
def test_a_version_that_breaks_a_rule_of_the_record_now_is_refused_with_the_reason(staff_client):
    from catalog.models import Category
    from catalog.tests.factories import CategoryFactory

    category = CategoryFactory(name="Vitamins", slug="vitamins")
    first = category.history.earliest()
    category.slug = "vitamins-old"
    category.save()
    CategoryFactory(name="Vitamins and minerals", slug="vitamins")  # the old slug is taken since
    client = staff_client(Role.PHARMACIST)

    response = client.post(version_url(category, first), {"reason": "Undo the rename"}, follow=True)

    assert "cannot be restored" in response.content.decode()
    assert Category.objects.get(pk=category.pk).slug == "vitamins-old"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ru", "uz"])
def test_a_lot_s_history_names_fields_values_and_system_reasons_in_the_reader_s_language(
    staff_client, language, settings
):
    import re

    from django.utils import translation
    from django.utils.text import capfirst

    from catalog.models import LotStatus, MovementKind
    from catalog.stock import lot_quarantine

    client = staff_client(Role.PHARMACIST)
    lot = receive(MedicineFactory(), 6)
    lot_quarantine(lot=lot, reason="Damaged boxes")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    html = client.get(reverse("admin:catalog_lot_history", args=[lot.pk])).content.decode()

    table = re.sub(r"<[^>]+>", " ", html.split('id="change-history"', 1)[1].split("</table>", 1)[0])
    with translation.override(language):
        shown = [
            str(capfirst(Lot._meta.get_field("status_reason").verbose_name)),
            str(LotStatus.AVAILABLE.label),
            str(LotStatus.QUARANTINED.label),
            str(MovementKind.RECEIPT.label),
        ]
    for text in shown:
        assert text in table, text
    # No attribute names, raw choice values or Python literals.
    for raw in ("status_reason", "available", "quarantined", "receipt", "None", "True"):
        assert not re.search(rf"(?<![\w-]){raw}(?![\w-])", table), raw
