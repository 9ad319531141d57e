"""Editing a draft transfer: one service, all or nothing, only while nothing has moved."""

import pytest

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from catalog import stock
from catalog.exceptions import CatalogError, LocationForbidden, TransferStateError
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    return main_location(), LocationFactory(name="Yunusobod"), LocationFactory(name="Sergeli")


def test_a_draft_is_given_new_places_a_note_and_lines(places):
    main, yunusobod, sergeli = places
    aspirin, other = MedicineFactory(), MedicineFactory()
    transfer = stock.transfer_create(source=main, destination=yunusobod, lines=[(aspirin, 3)])

    stock.transfer_update_draft(
        transfer=transfer, source=main, destination=sergeli, lines=[(aspirin, 5), (other, 1)], note="Friday van"
    )

    transfer.refresh_from_db()
    assert (transfer.destination, transfer.note) == (sergeli, "Friday van")
    assert sorted(transfer.lines.values_list("medicine_id", "quantity")) == sorted([(aspirin.pk, 5), (other.pk, 1)])


def test_a_bad_line_leaves_the_draft_as_it_was(places):
    main, yunusobod, _ = places
    aspirin = MedicineFactory()
    foreign_lot = receive(MedicineFactory(), 5)
    transfer = stock.transfer_create(source=main, destination=yunusobod, lines=[(aspirin, 3)])

    with pytest.raises(CatalogError):
        stock.transfer_update_draft(
            transfer=transfer, source=main, destination=yunusobod, lines=[(aspirin, 4), (aspirin, 1, foreign_lot)]
        )

    assert list(transfer.lines.values_list("quantity", flat=True)) == [3]


def test_a_sent_transfer_is_no_longer_a_draft_to_edit(places):
    main, yunusobod, _ = places
    aspirin = MedicineFactory()
    receive(aspirin, 5)
    transfer = stock.transfer_send(
        transfer=stock.transfer_create(source=main, destination=yunusobod, lines=[(aspirin, 3)])
    )

    with pytest.raises(TransferStateError):
        stock.transfer_update_draft(transfer=transfer, source=main, destination=yunusobod, lines=[(aspirin, 1)])


def test_a_member_edits_only_drafts_from_their_places_and_keeps_them_there(places):
    main, yunusobod, _ = places
    aspirin = MedicineFactory()
    member = StaffFactory(role=Role.INVENTORY)  # works at the main pharmacy
    theirs = stock.transfer_create(source=yunusobod, destination=main, lines=[(aspirin, 3)])
    mine = stock.transfer_create(source=main, destination=yunusobod, lines=[(aspirin, 3)])

    with pytest.raises(LocationForbidden):
        stock.transfer_update_draft(
            transfer=theirs, source=main, destination=yunusobod, lines=[(aspirin, 1)], user=member
        )
    with pytest.raises(LocationForbidden):
        stock.transfer_update_draft(
            transfer=mine, source=yunusobod, destination=main, lines=[(aspirin, 1)], user=member
        )

    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.source, mine.source) == (yunusobod, main)
