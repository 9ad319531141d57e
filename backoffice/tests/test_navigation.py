"""The sidebar: each role sees the entries it may open, with badges for what waits."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.roles import Role
from backoffice.navigation import expiring_lots_badge, sidebar
from catalog.tests.factories import MedicineFactory, receive

pytestmark = pytest.mark.usefixtures("fresh_cache")


def links(request) -> dict[str, dict]:
    return {item["link"]: item for group in sidebar(request) for item in group["items"]}


@pytest.mark.django_db
def test_inventory_staff_see_the_import_log_new_import_and_export(rf, make_staff):
    request = rf.get("/admin/")
    request.user = make_staff(Role.INVENTORY)
    shown = links(request)
    assert reverse("admin:catalog_importjob_changelist") in shown
    assert reverse("admin:catalog_importjob_upload") in shown
    assert reverse("admin:catalog_importjob_export") in shown
    assert reverse("admin:accounts_user_changelist") not in shown


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.INVENTORY, Role.PHARMACIST, Role.OPERATOR])
def test_staff_see_transfers_and_locations_in_the_stock_group(rf, make_staff, role):
    request = rf.get("/admin/")
    request.user = make_staff(role)
    shown = links(request)
    assert reverse("admin:catalog_transfer_changelist") in shown
    assert reverse("admin:catalog_location_changelist") in shown


@pytest.mark.django_db
def test_an_operator_sees_neither_imports_nor_staff_pages(rf, make_staff):
    request = rf.get("/admin/")
    request.user = make_staff(Role.OPERATOR)
    shown = links(request)
    assert reverse("admin:catalog_medicine_changelist") in shown
    assert reverse("admin:tasks_alert_changelist") in shown
    assert reverse("admin:catalog_importjob_upload") not in shown
    assert reverse("admin:catalog_importjob_changelist") not in shown
    assert reverse("admin:django_celery_beat_periodictask_changelist") not in shown


@pytest.mark.django_db
def test_the_administrator_sees_every_registered_schedule_and_login_log(rf, make_staff):
    request = rf.get("/admin/")
    request.user = make_staff(Role.ADMIN)
    shown = links(request)
    for name in (
        "django_celery_beat_crontabschedule",
        "django_celery_beat_intervalschedule",
        "axes_accessfailurelog",
        "catalog_importjob",
    ):
        assert reverse(f"admin:{name}_changelist") in shown


@pytest.mark.django_db
def test_the_lots_entry_carries_the_expiring_lots_badge(rf, make_staff):
    request = rf.get("/admin/")
    request.user = make_staff(Role.PHARMACIST)
    assert links(request)[reverse("admin:catalog_lot_changelist")]["badge"] == (
        "backoffice.navigation.expiring_lots_badge"
    )


@pytest.mark.django_db
def test_the_expiring_lots_badge_counts_lots_within_thirty_days_and_is_hidden_at_zero(rf, django_assert_num_queries):
    request = rf.get("/admin/")
    assert expiring_lots_badge(request) is None
    cache.clear()
    receive(MedicineFactory(), 5, expires_in_days=10)
    receive(MedicineFactory(), 5, expires_in_days=29)
    receive(MedicineFactory(), 5, expires_in_days=31)
    with django_assert_num_queries(1):
        assert expiring_lots_badge(request) == "2"
    with django_assert_num_queries(0):
        assert expiring_lots_badge(request) == "2"


def sidebar_entry(html: str, href: str) -> str:
    """The text of the sidebar link to ``href`` (title and badge), whitespace collapsed."""
    match = re.search(r'<a href="' + re.escape(href) + r'" class="flex h-\[38px\][^>]*>(.*?)</a>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


@pytest.mark.django_db
def test_the_sidebar_shows_both_badges_on_the_admin_page(staff_client):
    from tasks.tests.factories import AlertFactory

    receive(MedicineFactory(), 5, expires_in_days=10)
    AlertFactory.create_batch(3)
    html = staff_client(Role.PHARMACIST).get("/admin/").content.decode()
    assert sidebar_entry(html, reverse("admin:tasks_alert_changelist")) == "notifications Alerts 3"
    assert sidebar_entry(html, reverse("admin:catalog_lot_changelist")) == "inventory_2 Lots 1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", ["admin:catalog_importjob_changelist", "admin:catalog_importjob_upload", "admin:catalog_importjob_export"]
)
def test_one_sidebar_item_is_lit_for_each_import_page(rf, make_staff, page):
    request = rf.get(reverse(page))
    request.user = make_staff(Role.INVENTORY)

    lit = [link for link, item in links(request).items() if item["active"](request)]

    assert lit == [reverse(page)]


@pytest.mark.django_db
def test_the_dashboard_lights_only_itself_and_a_lot_page_lights_lots(rf, make_staff):
    user = make_staff(Role.INVENTORY)
    lot_page = rf.get(reverse("admin:catalog_lot_change", args=[1]))
    lot_page.user = user

    dashboard = rf.get(reverse("admin:index"))
    dashboard.user = user

    assert [link for link, item in links(lot_page).items() if item["active"](lot_page)] == [
        reverse("admin:catalog_lot_changelist")
    ]
    assert [link for link, item in links(dashboard).items() if item["active"](dashboard)] == [reverse("admin:index")]


@pytest.mark.django_db
def test_the_new_import_page_lights_new_import_alone_in_the_sidebar(staff_client):
    html = staff_client(Role.INVENTORY).get(reverse("admin:catalog_importjob_upload")).content.decode()

    lit = re.findall(r'<a href="([^"]+)" class="flex h-\[38px\][^"]*\bactive"', html)

    assert lit == [reverse("admin:catalog_importjob_upload")]


@pytest.mark.django_db
@pytest.mark.parametrize("term", ["Nurofen", "NUR-200", "4780000000123"])
def test_the_command_box_finds_a_medicine_by_name_sku_or_barcode(staff_client, term, fresh_cache):
    # fresh_cache: Unfold keeps search results five minutes per user and term, and SQLite reuses user ids.
    medicine = MedicineFactory(name="Nurofen 200 mg No. 10", sku="NUR-200", barcode="4780000000123")
    MedicineFactory(name="Citramon")

    html = staff_client(Role.OPERATOR).get(reverse("admin:search"), {"s": term, "extended": "1"}).content.decode()

    assert reverse("admin:catalog_medicine_change", args=[medicine.pk]) in html
    assert "Nurofen 200 mg No. 10" in html and "Citramon" not in html


@pytest.mark.django_db
def test_the_sidebar_search_box_opens_the_command_box(staff_client):
    html = staff_client(Role.OPERATOR).get(reverse("admin:index")).content.decode()

    assert "$dispatch('opencommand')" in html


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "word"), [("en", "Search…"), ("ru", "Поиск…"), ("uz", "Qidirish…")])
def test_the_sidebar_search_box_shows_one_short_word_and_says_what_it_finds_in_its_title(
    staff_client, settings, language, word
):
    # "Search apps and models..." was cut in all three languages; the box finds medicines as well.
    client = staff_client(Role.OPERATOR)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    html = client.get(reverse("admin:index")).content.decode()

    box = html.split('id="sidebar-search"', 1)[1].split("</div>", 2)
    placeholder = re.search(r'id="sidebar-search-placeholder">\s*(.*?)\s*</div>', html, re.S).group(1)
    assert placeholder == word
    assert "Search apps and models" not in html
    assert 'title="' in box[0]
