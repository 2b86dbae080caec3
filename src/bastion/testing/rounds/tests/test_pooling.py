"""Pooling by control level on the scan path: a sealed building, a controlled grid and a
precaution community; each resident's tube must match their level (single or household in
sealed areas, 10 in 1 controlled, 20 in 1 precaution, the round's own size elsewhere)."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bastion.accounts.services import token_issue
from bastion.geo.models import Resident
from bastion.incidents import services as incidents
from bastion.testing.conftest import scan
from bastion.testing.rounds.models import Round
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans import services as scan_services
from bastion.testing.scans.models import Tube, TubeKind, TubeStatus
from bastion.testing.scans.services import scans_record


@pytest.fixture
def zones(testing):
    """Building 0 sealed, grid 0 (so building 1) controlled, community 0 (so grid 1)
    under precaution; community 1 has no control level."""
    tree, admin = testing.tree, testing.admin
    incidents.control_set(actor=admin, node=tree.buildings[0], level="sealed", reason="阳性")
    incidents.control_set(actor=admin, node=tree.grids[0], level="controlled", reason="密接")
    incidents.control_set(actor=admin, node=tree.communities[0], level="precaution", reason="邻近")
    return testing


def first(node, n=0) -> Resident:
    return Resident.objects.filter(**{f"{node.level}_id": node.pk}).order_by("pk")[n]


def test_a_sealed_resident_is_refused_a_pooled_tube_and_takes_a_single_one(zones):
    tree, station = zones.tree, zones.stations[0]
    controlled, sealed = first(tree.buildings[1]), first(tree.buildings[0])
    ok = scan(station, "T-C-0001", controlled.id_number)
    assert ok.status == "accepted" and ok.capacity == 10
    refused = scan(station, "T-C-0001", sealed.id_number)
    assert refused.status == "refused" and refused.reason == "wrong_tube_kind"
    assert refused.field == "tube" and refused.tube == "T-C-0001"
    assert refused.message == (
        f"{sealed.name} lives in a sealed area: use a single tube "
        "(tube T-C-0001 is a 10-in-1 pooled tube)."
    )
    assert Tube.objects.get(barcode="T-C-0001").filled == 1
    alone = scan(station, "T-S-0001", sealed.id_number)
    assert alone.status == "accepted" and alone.capacity == 1 and alone.tube_closed
    tube = Tube.objects.get(barcode="T-S-0001")
    assert (tube.kind, tube.capacity, tube.status) == (TubeKind.SINGLE, 1, TubeStatus.CLOSED)


def test_controlled_and_precaution_residents_fill_their_own_pools(zones):
    tree = zones.tree
    controlled = Resident.objects.filter(building=tree.buildings[1]).order_by("pk")[:10]
    precaution = Resident.objects.filter(grid=tree.grids[1]).order_by("pk")[:12]
    outcomes = scans_record(
        actor=None,
        station=zones.stations[0],
        items=[scan_batch.ScanInput(uuid.uuid4(), "T-C-0002", r.id_number) for r in controlled],
    )
    assert [o.status for o in outcomes] == ["accepted"] * 10
    assert outcomes[-1].tube_closed and outcomes[-1].capacity == 10
    outcomes = scans_record(
        actor=None,
        station=zones.stations[2],
        items=[scan_batch.ScanInput(uuid.uuid4(), "T-P-0001", r.id_number) for r in precaution],
    )
    assert [o.status for o in outcomes] == ["accepted"] * 12
    tube = Tube.objects.get(barcode="T-P-0001")
    assert (tube.kind, tube.capacity, tube.filled, tube.status) == ("pool", 20, 12, "open")


def test_a_resident_of_another_level_is_refused_a_pool_of_the_wrong_size(zones):
    tree = zones.tree
    scan(zones.stations[2], "T-P-0002", first(tree.grids[1]).id_number)
    controlled = first(tree.buildings[1])
    refused = scan(zones.stations[2], "T-P-0002", controlled.id_number)
    assert refused.reason == "wrong_tube_kind"
    assert "a controlled area: use a 10-in-1 pooled tube" in refused.message
    free = first(tree.communities[1])
    refused = scan(zones.stations[2], "T-P-0002", free.id_number)
    assert refused.message == (
        f"{free.name} is not under a control level: use a 5-in-1 pooled tube "
        "(tube T-P-0002 is a 20-in-1 pooled tube)."
    )


def test_an_empty_tube_opened_at_the_station_takes_its_first_persons_pooling(zones):
    station = zones.stations[2]
    opened = scan_services.tube_open(actor=zones.admin, station=station, barcode="T-E-0001")
    assert (opened.kind, opened.capacity) == ("pool", 5)  # the round's own size, until used
    ok = scan(station, "T-E-0001", first(zones.tree.grids[1]).id_number)
    assert ok.status == "accepted" and ok.capacity == 20
    opened.refresh_from_db()
    assert (opened.kind, opened.capacity, opened.filled) == ("pool", 20, 1)


def test_a_single_tube_fits_anyone(zones):
    single = scan(
        zones.stations[0], "T-1-0001", first(zones.tree.buildings[1]).id_number, single=True
    )
    assert single.status == "accepted" and single.capacity == 1


def test_one_tube_per_household_in_sealed_areas(zones):
    Round.objects.filter(pk=zones.round.pk).update(sealed_tube="household")
    home = first(zones.tree.buildings[0]).household
    members = list(home.residents.order_by("pk"))
    neighbour = (
        Resident.objects.filter(building=zones.tree.buildings[0])
        .exclude(household=home)
        .order_by("pk")[0]
    )
    station = zones.stations[0]
    assert scan(station, "T-H-0001", members[0].id_number).capacity == len(members) == 2
    other = scan(station, "T-H-0001", neighbour.id_number)
    assert other.reason == "tube_other_household"
    assert neighbour.name in other.message
    last = scan(station, "T-H-0001", members[1].id_number)
    assert last.status == "accepted" and last.tube_closed
    tube = Tube.objects.get(barcode="T-H-0001")
    assert (tube.kind, tube.household_id, tube.filled) == ("household", home.pk, 2)
    refused = scan(station, "T-H-0001", first(zones.tree.buildings[1]).id_number)
    assert refused.reason == "tube_full"
    pooled = scan(station, "T-C-0009", first(zones.tree.buildings[1]).id_number)
    wrong = scan(station, "T-C-0009", neighbour.id_number)
    assert pooled.status == "accepted" and wrong.reason == "wrong_tube_kind"
    assert "use a household tube" in wrong.message


def test_a_lifted_level_no_longer_binds(zones):
    from bastion.incidents.models import ControlArea

    area = ControlArea.objects.get(node=zones.tree.buildings[0], lifted_at__isnull=True)
    incidents.control_lift(actor=zones.admin, area=area)
    scan(zones.stations[0], "T-C-0003", first(zones.tree.buildings[1]).id_number)
    # building 0 is now controlled through its grid, like building 1
    assert scan(zones.stations[0], "T-C-0003", first(zones.tree.buildings[0]).id_number).ok


def test_the_levels_of_a_batch_are_read_in_one_query(zones):
    people = Resident.objects.filter(grid=zones.tree.grids[1]).order_by("pk")[:8]
    items = [scan_batch.ScanInput(uuid.uuid4(), "T-P-0003", r.id_number) for r in people]
    with CaptureQueriesContext(connection) as ctx:
        scans_record(actor=None, station=zones.stations[2], items=items)
    areas = [q for q in ctx.captured_queries if "incidents_controlarea" in q["sql"]]
    assert len(areas) == 1


def test_the_api_refuses_the_wrong_tube_with_its_reason(zones):
    api = Client(
        headers={"authorization": f"Bearer {token_issue(user=zones.tree.users['street'])}"}
    )
    station = zones.stations[0]
    url = f"/api/v1/testing/stations/{station.pk}/scans"

    def body(tube, resident):
        return {"client_id": str(uuid.uuid4()), "tube": tube, "code": resident.id_number}

    ok = api.post(
        url, body("T-C-0004", first(zones.tree.buildings[1])), content_type="application/json"
    )
    assert ok.status_code == 201 and ok.json()["capacity"] == 10
    sealed = first(zones.tree.buildings[0])
    refused = api.post(url, body("T-C-0004", sealed), content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["scan"]["reason"] == "wrong_tube_kind"
    assert refused.json()["errors"][0]["field"] == "tube"
    batch = api.post(
        f"{url}/batch",
        {"scans": [body("T-C-0004", sealed), body("T-S-0004", sealed)]},
        content_type="application/json",
    ).json()
    assert [r["reason"] for r in batch["results"]] == ["wrong_tube_kind", ""]
    assert batch["accepted"] == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_station_page_says_which_tube_a_sealed_resident_needs(zones, phone_page):
    from playwright.sync_api import expect

    from bastion.core.testing import PASSWORD, browser_login

    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto(f"/testing/stations/{zones.stations[0].pk}/")
    scan_input = page.locator("#st-scan")

    def scan(text: str) -> None:
        scan_input.type(text)
        scan_input.press("Enter")

    scan("ST-C-0001")
    scan(first(zones.tree.buildings[1]).id_number)
    expect(page.locator("#st-sync")).to_have_attribute("data-count", "0")
    expect(page.locator("#st-capacity")).to_have_text("10")  # fitted to the controlled grid
    sealed = first(zones.tree.buildings[0])
    scan(sealed.id_number)
    banner = page.locator("#st-banner")
    expect(banner).to_be_visible()
    # in Chinese, as the station crew reads it: "lives in a sealed area: use a single tube
    # (tube ST-C-0001 is a 10-in-1 pooled tube)"
    expect(banner).to_contain_text("住在封控区：请用单采管")
    expect(banner).to_contain_text("ST-C-0001 是10合1混采管")
    assert Tube.objects.get(barcode="ST-C-0001").filled == 1
