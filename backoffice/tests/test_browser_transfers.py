"""A transfer in a real browser: drafted with the autocompletes, sent, and received with a shortfall."""

import pytest

from accounts.roles import Role
from backoffice.tests.browser import admin_login, requires_chromium
from catalog.models import Discrepancy, LotStock, Transfer, TransferState
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_cache"),
]


def pick(page, select_id: str, typed: str) -> None:
    """Choose in an admin autocomplete (Select2): open it, type, take the first match."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-search__field", typed)
    page.wait_for_selector(f".select2-results__option--highlighted:has-text('{typed}')")
    page.keyboard.press("Enter")


def test_a_transfer_is_drafted_sent_and_received_through_the_pages(make_staff, password, live_server, page):
    main = main_location()
    yunusobod = LocationFactory(name="Yunusobod", code="yunusobod")
    spazmalgon = MedicineFactory(name="Spazmalgon", parts_per_pack=2, part_name="blister")
    receive(spazmalgon, 9, lot_number="SPZ-SOON", expires_in_days=60, location=main)
    receive(spazmalgon, 6, lot_number="SPZ-LATE", expires_in_days=400, location=main)
    sender = make_staff(Role.INVENTORY)
    admin_login(page, live_server, sender, password)

    # The draft: five boxes and a blister, the lots left to FEFO.
    page.goto(f"{live_server.url}/admin/catalog/transfer/add/")
    page.select_option("select[name=destination]", str(yunusobod.pk))
    pick(page, "id_lines-0-medicine", "Spazmalgon")
    page.fill("input[name=lines-0-packs]", "5")
    page.fill("input[name=lines-0-parts]", "1")
    page.click("button[name=_continue]")
    page.wait_for_selector("text=was added successfully")
    transfer = Transfer.objects.get()
    assert list(transfer.lines.values_list("quantity", flat=True)) == [11]

    # Sending takes the lot that expires first, then the next.
    page.goto(f"{live_server.url}/admin/catalog/transfer/{transfer.pk}/send/")
    assert page.locator("#sending-plan").inner_text().index("SPZ-SOON") < page.locator(
        "#sending-plan"
    ).inner_text().index("SPZ-LATE")
    page.click("#content form[method=post] button[type=submit]")
    page.wait_for_selector("text=is on its way to Yunusobod")
    transfer.refresh_from_db()
    assert transfer.state == TransferState.SENT

    # At Yunusobod a pharmacist counts two boxes and a blister of the first lot: the rest goes back.
    page.context.clear_cookies()
    receiver = make_staff(Role.PHARMACIST, locations=[yunusobod])
    admin_login(page, live_server, receiver, password)
    soon = transfer.lines.get(lot__lot_number="SPZ-SOON")
    page.goto(f"{live_server.url}/admin/catalog/transfer/{transfer.pk}/receive/")
    page.fill(f"input[name=line-{soon.pk}-packs]", "2")
    page.select_option(f"select[name=line-{soon.pk}-discrepancy]", Discrepancy.RETURNED)
    page.fill(f"input[name=line-{soon.pk}-reason]", "Box crushed in the van")
    page.click("#content form[method=post] button[type=submit]")
    page.wait_for_selector("text=was received at Yunusobod")

    transfer.refresh_from_db()
    soon.refresh_from_db()
    assert transfer.state == TransferState.RECEIVED
    assert (soon.received_quantity, soon.discrepancy) == (5, Discrepancy.RETURNED)
    assert LotStock.objects.get(lot=soon.lot, location=yunusobod).quantity == 5
    assert LotStock.objects.get(lot=soon.lot, location=main).quantity == 4
