"""The chain of custody over the API and on the pages: every write answers the same when
retried with its client id, a seal on a wrong count is a 422 naming the tubes, the lab's
receipt closes the trail, and another grid's bag, box or tube is a 404 (its writes change
nothing)."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from bastion.accounts.models import RevealLog
from bastion.accounts.services import token_issue
from bastion.core.testing import PASSWORD
from bastion.testing.conftest import fill_tubes, site_elsewhere
from bastion.testing.custody import services
from bastion.testing.custody.models import Bag, BagTube, Box, BoxReceipt, Handover

API = "/api/v1/testing/custody"


def bearer(user) -> Client:
    return Client(
        headers={"authorization": f"Bearer {token_issue(user=user)}", "accept-language": "en"}
    )


def post(client: Client, path: str, body: dict):
    return client.post(f"{API}{path}", body, content_type="application/json")


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_whole_chain_through_the_api_with_retries(testing):
    fill_tubes(testing, testing.stations[0], ["A-0001", "A-0002"])
    grid = bearer(testing.tree.users["grid"])
    ids = {k: str(uuid.uuid4()) for k in ("bag", "p1", "p2", "seal", "box", "add", "h1", "h2", "r")}
    body = {
        "round_id": testing.round.pk,
        "site_id": testing.sites[0].pk,
        "barcode": "ab-1",
        "client_id": ids["bag"],
    }
    first, again = post(grid, "/bags", body), post(grid, "/bags", body)
    assert first.status_code == again.status_code == 201
    bag_id = first.json()["id"]
    assert again.json()["id"] == bag_id and first.json()["barcode"] == "AB-1"
    for code, key in (("A-0001", "p1"), ("A-0002", "p2"), ("A-0002", "p2")):
        put = post(grid, f"/bags/{bag_id}/tubes", {"barcode": code, "client_id": ids[key]})
        assert put.status_code == 200, put.json()
    assert put.json()["tubes"] == 2 and len(put.json()["items"]) == 2

    wrong = post(grid, f"/bags/{bag_id}/seal", {"count": 3, "scanned": ["A-0001", "A-0003"]})
    assert wrong.status_code == 422
    problems = {p["field"]: p["message"] for p in wrong.json()["errors"]}
    assert "2 tubes in the system but 3 were counted" in problems["count"]
    assert "A-0002" in problems["missing"] and "A-0003" in problems["extra"]
    assert Bag.objects.get(pk=bag_id).status == "open"

    for _ in range(2):
        sealed = post(grid, f"/bags/{bag_id}/seal", {"count": 2, "client_id": ids["seal"]})
        assert sealed.status_code == 200 and sealed.json()["status"] == "sealed"
    box = post(
        grid,
        "/boxes",
        {
            "round_id": testing.round.pk,
            "site_id": testing.sites[0].pk,
            "barcode": "AX-1",
            "client_id": ids["box"],
        },
    ).json()
    for _ in range(2):
        added = post(grid, f"/boxes/{box['id']}/bags", {"barcode": "AB-1", "client_id": ids["add"]})
        assert added.status_code == 200 and added.json()["bags"] == 1
    pickup = {
        "leg": "pickup",
        "me": "from",
        "to_name": "司机王",
        "to_phone": "139 1234 0000",
        "client_id": ids["h1"],
    }
    for _ in range(2):
        handed = post(grid, f"/boxes/{box['id']}/handovers", pickup)
        assert handed.status_code == 201
    assert handed.json()["taker"] == {"name": "司机王", "phone": "139****0000"}
    delivery = {
        "leg": "delivery",
        "from_name": "司机王",
        "from_phone": "13912340000",
        "me": "to",
        "client_id": ids["h2"],
    }
    assert post(grid, f"/boxes/{box['id']}/handovers", delivery).status_code == 201
    receipt = {"bags_counted": 1, "tubes_counted": 2, "client_id": ids["r"]}
    for _ in range(2):
        received = post(grid, f"/boxes/{box['id']}/receipt", receipt)
        assert received.status_code == 201 and received.json()["mismatch"] is False
    assert (Bag.objects.count(), BagTube.objects.count(), Box.objects.count()) == (1, 2, 1)
    assert Handover.objects.count() == 2 and BoxReceipt.objects.count() == 1

    detail = grid.get(f"{API}/boxes/{box['id']}").json()
    assert detail["status"] == "received" and len(detail["handovers"]) == 2
    assert "13912340000" not in str(detail)
    tube_id = BagTube.objects.get(tube__barcode="A-0001").tube_id
    trail = grid.get(f"{API}/tubes/{tube_id}/trail").json()
    assert trail["bag"] == "AB-1" and trail["box"] == "AX-1"
    assert [s["what"] for s in trail["steps"]][-3:] == [
        "Site → transport",
        "Transport → lab",
        "Received by the lab",
    ]
    assert trail["next_step"] == "result awaited"
    late = grid.get(f"{API}/rounds/{testing.round.pk}/overdue").json()
    assert late["hours"] == {"pack": 1, "seal": 2, "receive": 2} and late["bags_not_received"] == 0


def test_another_grid_s_custody_is_not_found_and_not_written(testing):
    fill_tubes(testing, testing.stations[0], ["S-0001"])
    bag = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="SB-1"
    )
    services.tube_pack(actor=testing.admin, bag=bag, barcode="S-0001")
    box = services.box_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="SX-1"
    )
    other = bearer(testing.tree.users["other_grid"])
    tube_id = BagTube.objects.get().tube_id
    assert other.get(f"{API}/bags/{bag.pk}").status_code == 404
    assert other.get(f"{API}/boxes/{box.pk}").status_code == 404
    assert other.get(f"{API}/tubes/{tube_id}/trail").status_code == 404
    assert post(other, f"/bags/{bag.pk}/seal", {"count": 1}).status_code == 404
    assert post(other, f"/bags/{bag.pk}/unpack", {"barcode": "S-0001"}).status_code == 404
    opened = post(
        other,
        "/bags",
        {"round_id": testing.round.pk, "site_id": testing.sites[0].pk, "barcode": "SB-2"},
    )
    assert opened.status_code == 404
    # a volunteer of the grid sees the bag but may not change it
    volunteer = bearer(testing.tree.users["volunteer"])
    assert volunteer.get(f"{API}/bags/{bag.pk}").status_code == 200
    assert post(volunteer, f"/bags/{bag.pk}/seal", {"count": 1}).status_code == 403
    # pages: 404 for the other grid, sign-in for nobody
    for url in (
        reverse("testing:custody_bag", args=[bag.pk]),
        reverse("testing:custody_box", args=[box.pk]),
        reverse("testing:custody_trail", args=[tube_id]),
        reverse("testing:custody_find") + "?barcode=sb-1",
    ):
        assert login(testing.tree.users["grid"]).get(url, follow=True).status_code == 200
        assert login(testing.tree.users["other_grid"]).get(url).status_code == 404
        assert Client().get(url).status_code == 302
    response = login(testing.tree.users["other_grid"]).post(
        reverse("testing:custody_bag_seal", args=[bag.pk]), {"count": "1"}
    )
    assert response.status_code == 404
    bag.refresh_from_db()
    assert bag.status == "open" and Bag.objects.count() == 1
    late = (
        bearer(testing.tree.users["other_grid"]).get(f"{API}/rounds/{testing.round.pk}/bags").json()
    )
    assert late == []


def test_the_pages_pack_refuse_seal_box_and_show_the_trail(testing):
    fill_tubes(testing, testing.stations[0], ["P-0001", "P-0002"])
    client = login(testing.tree.users["grid"])
    round_page = client.get(reverse("testing:custody", args=[testing.round.pk]))
    assert round_page.status_code == 200 and 'id="cu-bag"' in round_page.content.decode()
    assert (
        reverse("testing:custody", args=[testing.round.pk])
        in client.get(reverse("testing:round", args=[testing.round.pk])).content.decode()
    )

    opened = client.post(
        reverse("testing:custody_bag_open", args=[testing.round.pk]),
        {"site": testing.sites[0].pk, "barcode": "pb-1", "client_id": str(uuid.uuid4())},
    )
    bag = Bag.objects.get(barcode="PB-1")
    assert opened.status_code == 302 and opened["Location"] == reverse(
        "testing:custody_bag", args=[bag.pk]
    )
    pack = reverse("testing:custody_bag_pack", args=[bag.pk])
    cid = str(uuid.uuid4())
    client.post(pack, {"barcode": "P-0001", "client_id": cid})
    client.post(pack, {"barcode": "P-0001", "client_id": cid})  # a double submit
    client.post(pack, {"barcode": "P-0002", "client_id": str(uuid.uuid4())})
    refused = client.post(pack, {"barcode": "NOPE-9", "client_id": str(uuid.uuid4())})
    assert refused.status_code == 422 and "No tube has barcode NOPE-9" in refused.content.decode()
    bag.refresh_from_db()
    assert bag.tubes == 2

    seal = reverse("testing:custody_bag_seal", args=[bag.pk])
    wrong = client.post(seal, {"count": "1", "scanned": "P-0001\n"})
    html = wrong.content.decode()
    assert wrong.status_code == 422
    assert "2 tubes in the system but 1 were counted" in html and "P-0002" in html
    assert 'value="1"' in html  # what was typed is kept
    sealed = client.post(seal, {"count": "2", "client_id": str(uuid.uuid4())}, follow=True)
    assert "Bag PB-1 sealed with 2 tubes." in sealed.content.decode()

    client.post(
        reverse("testing:custody_box_open", args=[testing.round.pk]),
        {"site": testing.sites[0].pk, "barcode": "PX-1"},
    )
    box = Box.objects.get(barcode="PX-1")
    client.post(reverse("testing:custody_box_add", args=[box.pk]), {"barcode": "PB-1"})
    handed = client.post(
        reverse("testing:custody_box_handover", args=[box.pk]),
        {"leg": "pickup", "me": "from", "name": "司机张", "phone": "13811112222"},
        follow=True,
    )
    assert "司机张" in handed.content.decode() and "138****2222" in handed.content.decode()
    assert "13811112222" not in handed.content.decode()
    received = client.post(
        reverse("testing:custody_box_receive", args=[box.pk]),
        {"bags": "1", "tubes": "3", "client_id": str(uuid.uuid4())},
        follow=True,
    )
    assert "Received, with a difference" in received.content.decode()
    assert BoxReceipt.objects.get().mismatch

    tube_id = BagTube.objects.get(tube__barcode="P-0001").tube_id
    trail = client.get(reverse("testing:custody_trail", args=[tube_id])).content.decode()
    for step in (
        "Packed into bag PB-1",
        "Bag sealed",
        "Bag put into box PX-1",
        "Received by the lab",
    ):
        assert step in trail
    overdue = client.get(reverse("testing:custody_overdue", args=[testing.round.pk]))
    assert overdue.status_code == 200


def test_the_round_page_offers_the_sites_serving_the_round_and_names_an_unpacked_tube(testing):
    site_elsewhere(testing)
    client = login(testing.admin)
    page = client.get(reverse("testing:custody", args=[testing.round.pk]))
    assert list(page.context["sites"]) == sorted(testing.sites, key=lambda s: s.name)

    fill_tubes(testing, testing.stations[0], ["U-0001"])
    bag = services.bag_open(
        actor=testing.admin, round=testing.round, site=testing.sites[0], barcode="UB-1"
    )
    services.tube_pack(actor=testing.admin, bag=bag, barcode="U-0001")
    unpack = reverse("testing:custody_bag_unpack", args=[bag.pk])
    taken = client.post(unpack, {"barcode": " u-0001 "}, follow=True)
    assert "Tube U-0001 taken out: 0 in the bag." in taken.content.decode()


@pytest.mark.parametrize("lang,word", [("en", "Chain of custody"), ("zh-hans", "样本交接")])
def test_the_custody_page_speaks_both_languages(testing, lang, word):
    client = Client(headers={"accept-language": lang})
    client.force_login(testing.tree.users["grid"])
    with translation.override("en"):  # the request's language does not outlive the test
        page = client.get(reverse("testing:custody", args=[testing.round.pk])).content.decode()
    assert word in page


def test_a_drivers_mobile_is_revealed_to_those_who_may_and_logged(testing, picked_up):
    path = f"/handovers/{picked_up.pk}/reveal"
    grid = bearer(testing.tree.users["grid"])
    shown = post(grid, path, {"side": "to"})
    assert shown.status_code == 200 and shown.json() == {"side": "to", "phone": "13912340000"}
    log = RevealLog.objects.get()
    assert (log.user, log.subject_type, log.subject_id, log.field, log.via) == (
        testing.tree.users["grid"],
        "handover",
        picked_up.pk,
        "to_phone",
        "api",
    )
    assert log.subject_name == "司机王"  # whose number: the side's person, not the hand-over
    # a volunteer or a building chief may not reveal; another grid sees nothing
    for who in ("volunteer", "building", "other_grid"):
        assert post(bearer(testing.tree.users[who]), path, {"side": "to"}).status_code == 404
    assert post(grid, path, {"side": "lab"}).status_code == 422
    assert RevealLog.objects.count() == 1

    page = reverse("testing:custody_box", args=[picked_up.box_id])
    shown_page = login(testing.tree.users["grid"]).get(page).content.decode()
    assert "139****0000" in shown_page and "13912340000" not in shown_page
    reveal = reverse("testing:custody_handover_reveal", args=[picked_up.pk, "to"])
    assert f'hx-post="{reveal}"' in shown_page
    volunteer = login(testing.tree.users["volunteer"])  # sees the grid, reveals nothing
    seen = volunteer.get(page)
    assert seen.status_code == 200 and "139****0000" in seen.content.decode()
    assert f'hx-post="{reveal}"' not in seen.content.decode()
    assert volunteer.post(reveal).status_code == 404
    answer = login(testing.tree.users["grid"]).post(reveal, headers={"hx-request": "true"})
    assert answer.status_code == 200 and 'href="tel:13912340000"' in answer.content.decode()
    assert RevealLog.objects.filter(via="web", field="to_phone").count() == 1
    log_page = login(testing.tree.users["admin"]).get(reverse("accounts:reveal_log")).content
    assert log_page.decode().count('<span class="tag quiet">Hand-over</span>') == 2
    assert "to_phone" not in log_page.decode()  # named as a mobile, like any other
