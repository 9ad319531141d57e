"""Transfers in the admin: drafting, FEFO proposal, send, receive, cancel, packing list; who may do what, where."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.roles import Role
from catalog import stock
from catalog.models import Discrepancy, LotStock, MovementKind, StockMovement, Transfer, TransferLine, TransferState
from catalog.tests.admin_helpers import queries_for
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:catalog_transfer_changelist"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action_url(name: str, transfer: Transfer) -> str:
    return reverse(f"admin:catalog_transfer_{name}", args=[transfer.pk])


def change_url(transfer: Transfer) -> str:
    return reverse("admin:catalog_transfer_change", args=[transfer.pk])


def transfer_form(source, destination, lines, *, note="", transfer=None) -> dict:
    """The change form's POST: ``lines`` are ``(medicine, packs, parts, lot)``; ``(line, medicine, ...)`` keeps one."""
    existing = [line for line in lines if isinstance(line[0], TransferLine)]
    data = {
        "source": source.pk,
        "destination": destination.pk,
        "note": note,
        "lines-TOTAL_FORMS": len(lines),
        "lines-INITIAL_FORMS": len(existing),
        "lines-MIN_NUM_FORMS": 1,
        "lines-MAX_NUM_FORMS": 1000,
    }
    for i, line in enumerate(lines):
        row = list(line)
        kept = row.pop(0) if isinstance(row[0], TransferLine) else None
        medicine, packs, parts, lot = row
        data.update(
            {
                f"lines-{i}-medicine": medicine.pk,
                f"lines-{i}-packs": packs,
                f"lines-{i}-parts": parts or "",
                f"lines-{i}-lot": lot.pk if lot else "",
                f"lines-{i}-id": kept.pk if kept else "",
                f"lines-{i}-transfer": transfer.pk if transfer else "",
            }
        )
    return data


@pytest.fixture
def places(db):
    """The main pharmacy (where test staff work) and two other branches."""
    return main_location(), LocationFactory(name="Yunusobod", code="yunusobod"), LocationFactory(name="Sergeli")


@pytest.fixture
def blisters(db):
    return MedicineFactory(name="Spazmalgon", parts_per_pack=2, part_name="blister")


@pytest.fixture
def aspirin(db):
    return MedicineFactory(name="Aspirin")


def draft(source, destination, lines, user=None):
    return stock.transfer_create(source=source, destination=destination, lines=lines, user=user)


# --- drafting -----------------------------------------------------------------------------------------
def test_inventory_staff_draft_a_transfer_in_packs_and_parts_through_the_service(
    staff_client, places, blisters, aspirin
):
    main, yunusobod, _ = places
    lot = receive(blisters, 9, lot_number="SPZ-1", location=main)
    client = staff_client(Role.INVENTORY)

    response = client.post(
        reverse("admin:catalog_transfer_add"),
        transfer_form(main, yunusobod, [(aspirin, 2, 0, None), (blisters, 1, 1, lot)], note="Weekly"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    transfer = Transfer.objects.get()
    assert (transfer.state, transfer.source, transfer.destination, transfer.created_by) == (
        TransferState.DRAFT,
        main,
        yunusobod,
        client.user,
    )
    assert sorted(transfer.lines.values_list("medicine__name", "quantity", "lot__lot_number")) == [
        ("Aspirin", 2, None),
        ("Spazmalgon", 3, "SPZ-1"),
    ]
    assert transfer.history.first().history_user == client.user
    assert not StockMovement.objects.exclude(kind=MovementKind.RECEIPT).exists()


def test_a_draft_goes_only_from_one_of_the_members_places(staff_client, places, aspirin):
    main, yunusobod, sergeli = places
    client = staff_client(Role.INVENTORY)

    html = client.get(reverse("admin:catalog_transfer_add")).content.decode()
    response = client.post(
        reverse("admin:catalog_transfer_add"), transfer_form(yunusobod, sergeli, [(aspirin, 1, 0, None)])
    )

    assert f'<option value="{main.pk}" selected>' in html
    assert f'<option value="{yunusobod.pk}">' in html  # a destination, not a source: only one is selected
    assert response.status_code == 200
    assert not Transfer.objects.exists()


def test_a_line_naming_another_medicines_lot_is_refused_with_the_services_words(staff_client, places, aspirin):
    main, yunusobod, _ = places
    other_lot = receive(MedicineFactory(), 5, lot_number="OTHER", location=main)
    client = staff_client(Role.INVENTORY)

    response = client.post(
        reverse("admin:catalog_transfer_add"), transfer_form(main, yunusobod, [(aspirin, 1, 0, other_lot)])
    )

    assert response.status_code == 200
    assert "Lot OTHER is not a lot of this medicine." in response.content.decode()
    assert not Transfer.objects.exists()


def test_a_transfer_needs_a_line_and_two_places(staff_client, places, aspirin):
    main, _, _ = places
    client = staff_client(Role.INVENTORY)

    empty = client.post(reverse("admin:catalog_transfer_add"), transfer_form(main, places[1], []))
    same = client.post(reverse("admin:catalog_transfer_add"), transfer_form(main, main, [(aspirin, 1, 0, None)]))

    assert empty.status_code == same.status_code == 200
    assert "A transfer goes from one place to another." in same.content.decode()
    assert not Transfer.objects.exists()


def test_editing_a_draft_replaces_its_lines(staff_client, places, aspirin, blisters):
    main, yunusobod, sergeli = places
    transfer = draft(main, yunusobod, [(aspirin, 4)])
    line = transfer.lines.get()
    client = staff_client(Role.INVENTORY)

    response = client.post(
        change_url(transfer),
        transfer_form(main, sergeli, [(line, aspirin, 6, 0, None), (blisters, 0, 1, None)], transfer=transfer),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    transfer.refresh_from_db()
    assert transfer.destination == sergeli
    assert sorted(transfer.lines.values_list("medicine__name", "quantity")) == [("Aspirin", 6), ("Spazmalgon", 1)]


# --- proposing and sending ---------------------------------------------------------------------------------
def test_propose_fefo_shows_the_lots_sending_would_take_first_expiry_first_and_a_shortfall(
    staff_client, places, blisters, aspirin
):
    main, yunusobod, _ = places
    receive(blisters, 3, lot_number="LATE", location=main, expires_in_days=300)
    receive(blisters, 2, lot_number="SOON", location=main, expires_in_days=100)
    receive(aspirin, 1, lot_number="ASP", location=main)
    transfer = draft(main, yunusobod, [(blisters, 4), (aspirin, 3)])
    client = staff_client(Role.INVENTORY)

    html = client.get(action_url("propose_fefo", transfer)).content.decode()

    assert html.index("SOON") < html.index("LATE")
    assert "2 packs" in html  # 4 blisters
    assert "Short by 2 packs" in html  # aspirin: 1 of 3
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT


def test_sending_moves_the_units_into_transit_and_locks_the_lines(staff_client, places, blisters):
    main, yunusobod, _ = places
    receive(blisters, 3, lot_number="LATE", location=main, expires_in_days=300)
    receive(blisters, 2, lot_number="SOON", location=main, expires_in_days=100)
    transfer = draft(main, yunusobod, [(blisters, 4)])
    client = staff_client(Role.INVENTORY)

    assert action_url("send_transfer", transfer) in client.get(change_url(transfer)).content.decode()
    response = client.post(action_url("send_transfer", transfer), follow=True)

    transfer.refresh_from_db()
    assert (transfer.state, transfer.sent_by) == (TransferState.SENT, client.user)
    assert sorted(transfer.lines.values_list("lot__lot_number", "quantity")) == [("LATE", 2), ("SOON", 2)]
    assert any("is on its way to Yunusobod" in m for m in messages_of(response))
    transit = stock.transit_location()
    assert sum(LotStock.objects.filter(location=transit).values_list("quantity", flat=True)) == 4
    page = client.get(change_url(transfer)).content.decode()
    assert 'name="lines-0-packs"' not in page
    assert 'name="source"' not in page
    assert 'name="_continue"' not in page  # nothing to save
    assert action_url("send_transfer", transfer) not in page
    assert action_url("packing_list", transfer) in page


def test_a_short_transfer_is_not_sent_and_the_page_says_which_line(staff_client, places, aspirin):
    main, yunusobod, _ = places
    receive(aspirin, 1, location=main)
    transfer = draft(main, yunusobod, [(aspirin, 3)])
    client = staff_client(Role.INVENTORY)

    response = client.post(action_url("send_transfer", transfer), follow=True)

    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT
    assert any("Not enough sellable stock: Aspirin: 3 / 1" in m for m in messages_of(response))
    assert StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).count() == 0


def test_a_member_of_one_branch_cannot_send_a_transfer_from_another(staff_client, places, aspirin, make_staff):
    main, yunusobod, _ = places
    receive(aspirin, 5, location=yunusobod)
    transfer = draft(yunusobod, main, [(aspirin, 2)])  # drafted at Yunusobod, to the main pharmacy
    client = staff_client(Role.INVENTORY)  # works at the main pharmacy: it sees what comes to it
    before = list(LotStock.objects.order_by("pk").values_list("location_id", "quantity"))

    page = client.get(change_url(transfer)).content.decode()
    response = client.post(action_url("send_transfer", transfer), follow=True)

    assert action_url("send_transfer", transfer) not in page
    assert 'name="lines-0-packs"' not in page  # nor is the draft theirs to edit
    assert "You do not work at Yunusobod: its stock is not yours to change." in messages_of(response)
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT
    assert list(LotStock.objects.order_by("pk").values_list("location_id", "quantity")) == before
    assert not StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).exists()


def test_a_member_does_not_see_transfers_between_other_places(staff_client, places, aspirin):
    _main, yunusobod, sergeli = places
    transfer = draft(yunusobod, sergeli, [(aspirin, 2)])
    client = staff_client(Role.INVENTORY)

    assert transfer.number not in client.get(reverse(CHANGELIST)).content.decode()
    assert client.get(change_url(transfer)).status_code == 302  # the admin's "does not exist" redirect
    assert client.post(action_url("send_transfer", transfer)).status_code == 404


@pytest.mark.parametrize(("role", "action", "status"), [
    (Role.PHARMACIST, "send_transfer", 403),
    (Role.OPERATOR, "send_transfer", 403),
    (Role.OPERATOR, "cancel_transfer", 403),
    (Role.PHARMACIST, "cancel_transfer", 403),
])  # fmt: skip
def test_each_action_needs_its_own_permission(staff_client, places, aspirin, role, action, status):
    main, yunusobod, _ = places
    receive(aspirin, 5, location=main)
    transfer = draft(main, yunusobod, [(aspirin, 2)])
    client = staff_client(role)

    assert client.post(action_url(action, transfer)).status_code == status
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT


# --- receiving -------------------------------------------------------------------------------------------------
def receive_form(transfer, **per_line) -> dict:
    data = {}
    for line in transfer.lines.select_related("medicine", "lot"):
        whole = (*divmod(line.quantity, line.medicine.parts_per_pack), "", "")
        packs, parts, discrepancy, reason = per_line.get(line.lot.lot_number, whole)
        data.update(
            {
                f"line-{line.pk}-packs": packs,
                f"line-{line.pk}-parts": parts or "",
                f"line-{line.pk}-discrepancy": discrepancy,
                f"line-{line.pk}-reason": reason,
            }
        )
    return data


@pytest.fixture
def sent(places, blisters, aspirin):
    """Sent from the main pharmacy to Yunusobod: 5 blisters of SPZ and 4 packs of ASP."""
    main, yunusobod, _ = places
    receive(blisters, 6, lot_number="SPZ", location=main)
    receive(aspirin, 4, lot_number="ASP", location=main)
    transfer = draft(main, yunusobod, [(blisters, 5), (aspirin, 4)])
    return stock.transfer_send(transfer=transfer)


def test_a_pharmacist_at_the_destination_receives_with_a_shortfall_returned_to_the_source(staff_client, places, sent):
    main, yunusobod, _ = places
    client = staff_client(Role.PHARMACIST, locations=[yunusobod])
    url = action_url("receive_transfer", sent)
    assert url in client.get(change_url(sent)).content.decode()
    assert "2 packs + 1 blister" in client.get(url).content.decode()

    response = client.post(
        url, receive_form(sent, SPZ=(1, 1, Discrepancy.RETURNED, "Box crushed in the van")), follow=True
    )

    sent.refresh_from_db()
    assert (sent.state, sent.received_by) == (TransferState.RECEIVED, client.user)
    assert any("was received at Yunusobod" in m for m in messages_of(response))
    spz = sent.lines.get(lot__lot_number="SPZ")
    assert (spz.received_quantity, spz.discrepancy, spz.discrepancy_reason) == (
        3,
        Discrepancy.RETURNED,
        "Box crushed in the van",
    )
    assert LotStock.objects.get(lot=spz.lot, location=yunusobod).quantity == 3
    assert LotStock.objects.get(lot=spz.lot, location=main).quantity == 1 + 2


def test_a_shortfall_without_its_fate_and_reason_is_refused_and_nothing_is_received(staff_client, places, sent):
    _main, yunusobod, _ = places
    client = staff_client(Role.PHARMACIST, locations=[yunusobod])

    response = client.post(action_url("receive_transfer", sent), receive_form(sent, ASP=(3, 0, "", "")))

    assert response.status_code == 200
    assert "Aspirin: say whether the missing units are written off or returned." in response.content.decode()
    sent.refresh_from_db()
    assert sent.state == TransferState.SENT
    assert not StockMovement.objects.filter(kind=MovementKind.TRANSFER_IN, location=yunusobod).exists()


def test_a_member_not_at_the_destination_cannot_receive_and_nothing_changes(staff_client, places, sent):
    client = staff_client(Role.INVENTORY)  # works at the main pharmacy, the source
    before = list(LotStock.objects.order_by("pk").values_list("location_id", "quantity"))

    page = client.get(change_url(sent)).content.decode()
    response = client.post(action_url("receive_transfer", sent), receive_form(sent), follow=True)

    assert action_url("receive_transfer", sent) not in page
    assert "You do not work at Yunusobod: its stock is not yours to change." in messages_of(response)
    sent.refresh_from_db()
    assert sent.state == TransferState.SENT
    assert list(LotStock.objects.order_by("pk").values_list("location_id", "quantity")) == before


def test_an_operator_cannot_receive(staff_client, places, sent):
    client = staff_client(Role.OPERATOR, locations=[places[1]])
    assert client.post(action_url("receive_transfer", sent), receive_form(sent)).status_code == 403


def test_the_packing_list_names_each_lot_its_expiry_and_quantity_with_places_for_signatures(staff_client, places, sent):
    client = staff_client(Role.PHARMACIST, locations=[places[1]])

    html = client.get(action_url("packing_list", sent)).content.decode()

    assert f"Packing list {sent.number}" in html
    assert "SPZ" in html and "ASP" in html
    assert "2 packs + 1 blister" in html and "4 packs" in html
    spz = sent.lines.get(lot__lot_number="SPZ").lot
    assert spz.expiry_date.strftime("%d.%m.%Y") in html
    assert "Packed and sent by" in html and "Received by" in html
    # Codes stay on one line (a narrow column broke "DX-00062" at its hyphen).
    assert f'<td class="code">{spz.medicine.sku}</td>' in html
    assert '<td class="code">SPZ</td>' in html


def test_a_draft_has_no_packing_list_yet(staff_client, places, aspirin):
    transfer = draft(places[0], places[1], [(aspirin, 1)])
    client = staff_client(Role.INVENTORY)

    response = client.get(action_url("packing_list", transfer), follow=True)

    assert any("not allowed" in m for m in messages_of(response))


# --- cancelling ----------------------------------------------------------------------------------------------------
def test_a_draft_is_cancelled_and_stays_listed(staff_client, places, aspirin):
    transfer = draft(places[0], places[1], [(aspirin, 1)])
    client = staff_client(Role.INVENTORY)

    client.post(action_url("cancel_transfer", transfer))

    transfer.refresh_from_db()
    assert transfer.state == TransferState.CANCELLED
    assert transfer.number in client.get(reverse(CHANGELIST)).content.decode()


def test_a_sent_transfer_is_not_cancelled(staff_client, sent):
    client = staff_client(Role.INVENTORY)

    response = client.post(action_url("cancel_transfer", sent), follow=True)

    sent.refresh_from_db()
    assert sent.state == TransferState.SENT
    assert any("not allowed" in m for m in messages_of(response))


def test_nobody_deletes_a_transfer(staff_client, places, aspirin):
    transfer = draft(places[0], places[1], [(aspirin, 1)])
    client = staff_client(Role.ADMIN)
    assert client.post(reverse("admin:catalog_transfer_delete", args=[transfer.pk]), {"post": "yes"}).status_code == 403
    assert Transfer.objects.filter(pk=transfer.pk).exists()


# --- the list ------------------------------------------------------------------------------------------------
def test_the_list_filters_by_state_and_by_the_members_places(staff_client, places, aspirin):
    main, yunusobod, sergeli = places
    out = draft(main, yunusobod, [(aspirin, 1), (aspirin, 2)])
    incoming = draft(sergeli, main, [(aspirin, 1)])
    stock.transfer_cancel(transfer=incoming)
    client = staff_client(Role.INVENTORY)

    everything = client.get(reverse(CHANGELIST))
    drafts = client.get(reverse(CHANGELIST), {"state__exact": TransferState.DRAFT})
    to_main = client.get(reverse(CHANGELIST), {"destination__id__exact": main.pk})

    assert [t.pk for t in everything.context["cl"].result_list] == [incoming.pk, out.pk]
    assert [t.pk for t in drafts.context["cl"].result_list] == [out.pk]
    assert [t.pk for t in to_main.context["cl"].result_list] == [incoming.pk]
    assert everything.context["cl"].result_list[1].lines_count == 2
    html = everything.content.decode()
    # The place filters offer the member's places only.
    filters = html[html.index('name="source__id__exact"') :]
    assert "Main pharmacy" in filters[:2000] and "Sergeli" not in filters[:600]


def test_a_transfer_is_found_by_its_number(staff_client, places, aspirin):
    transfer = draft(places[0], places[1], [(aspirin, 1)])
    draft(places[0], places[1], [(aspirin, 1)])
    client = staff_client(Role.INVENTORY)

    response = client.get(reverse(CHANGELIST), {"q": transfer.number})

    assert [t.pk for t in response.context["cl"].result_list] == [transfer.pk]


def test_the_transfers_list_runs_the_same_queries_for_3_and_15_transfers(staff_client, places, aspirin):
    main, yunusobod, _ = places
    client = staff_client(Role.INVENTORY)
    url = reverse(CHANGELIST)
    for _ in range(3):
        draft(main, yunusobod, [(aspirin, 1), (aspirin, 2)])
    with_three, _ = queries_for(client, url)

    for _ in range(12):
        draft(main, yunusobod, [(aspirin, 1)])
    with_fifteen, response = queries_for(client, url)

    assert with_fifteen == with_three
    assert len(response.context["cl"].result_list) == 15
