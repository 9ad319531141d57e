"""The page header (Unfold's header title): each page named by its own title, long names cut sensibly."""

import re
from html import unescape

import pytest
from django.urls import reverse

from accounts.roles import Role
from backoffice.templatetags.backoffice_header import header_identifier
from catalog.tests.factories import MedicineFactory, receive


def header_parts(html: str) -> list[str]:
    """The full text of each part of the page's header title, in order."""
    h1 = html.split("<h1", 1)[1].split("</h1>", 1)[0]
    return [unescape(title) for title in re.findall(r'title="([^"]*)"[^>]*data-header-part', h1)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "title"),
    [("admin:catalog_importjob_upload", "New import"), ("admin:catalog_importjob_export", "Export")],
)
def test_the_import_and_export_pages_are_headed_by_their_own_title_not_the_import_log(staff_client, url_name, title):
    html = staff_client(Role.ADMIN).get(reverse(url_name)).content.decode()

    assert header_parts(html) == ["Catalogue and stock", "Import log", title]


@pytest.mark.django_db
def test_an_add_form_is_headed_by_its_title_and_a_list_by_the_model_alone(staff_client):
    client = staff_client(Role.INVENTORY)

    assert header_parts(client.get(reverse("admin:catalog_lot_add")).content.decode())[-1] == "Add lot"
    assert header_parts(client.get(reverse("admin:catalog_lot_changelist")).content.decode()) == [
        "Catalogue and stock",
        "Lots",
    ]


@pytest.mark.django_db
def test_a_lot_s_header_keeps_its_number_whole_and_the_full_name_in_its_title(staff_client):
    name = "Amoxiclav powder for oral suspension 250 mg/62.5 mg per 5 ml, 100 ml"
    lot = receive(MedicineFactory(name=name), 3, lot_number="F3616-26")

    html = staff_client(Role.PHARMACIST).get(reverse("admin:catalog_lot_change", args=[lot.pk])).content.decode()

    assert header_parts(html)[-1] == f"{name} · F3616-26"
    identifier = re.search(r"<span[^>]*data-header-identifier>(.*?)</span>", html, re.S).group(1)
    assert unescape(identifier).replace("\u00a0", " ").strip() == "· F3616-26"
    assert 'class="shrink-0 whitespace-nowrap" data-header-identifier' in html


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("Paracetamol 500 mg · E315649", ("Paracetamol 500 mg", "E315649")),
        ("Stock receipt · supplier invoice.xlsx", ("Stock receipt", "supplier invoice.xlsx")),
        ("Paracetamol 500 mg", ("Paracetamol 500 mg", "")),
        ("Name · " + "x" * 40, ("Name · " + "x" * 40, "")),  # too long to be an identifier: cut like a name
    ],
)
def test_a_short_identifier_after_the_last_separator_is_kept_apart(text, split):
    assert header_identifier(text) == split
