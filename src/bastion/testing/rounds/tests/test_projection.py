"""The deadline projection: the pure model on hand-made numbers, then a hand-built round
whose late buildings and units are known exactly, on the coverage page and through the API,
narrowed to each login's part of the tree."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.services import token_issue
from bastion.geo.models import Resident
from bastion.testing.conftest import site_elsewhere
from bastion.testing.rounds.models import Round
from bastion.testing.rounds.projection import deadline_projection, finish_times, site_buildings
from bastion.testing.scans import batch as scan_batch
from bastion.testing.scans.services import scans_record

NOW = dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC)


def test_finish_times_share_a_sites_pace_among_its_buildings():
    finish = finish_times(
        now=NOW,
        rates={1: 10, 2: 5, 3: 0},
        remaining={11: 20, 12: 10, 13: 20, 14: 7, 15: 0, 16: 3},
        serving={11: {1}, 12: {2}, 13: {1, 2}, 14: {3}, 15: {1}},
    )
    # site 1 works building 13's half (10) and building 11 (20) side by side at 10/h: the
    # half is done after 10 * 2 / 10 = 2 h, building 11 after 2 + 10 / 10 = 3 h. Site 2 works
    # building 12 (10) and the other half of 13 (10) at 5/h: both done after 4 h.
    assert finish[11] == NOW + dt.timedelta(hours=3)
    assert finish[12] == NOW + dt.timedelta(hours=4)
    assert finish[13] == NOW + dt.timedelta(hours=4)  # when its last half is done
    assert finish[14] is None  # its site sampled nobody in the last hour
    assert finish[15] == NOW  # nobody left
    assert finish[16] is None  # no site serves it


def test_the_buildings_are_served_by_the_sites_serving_the_round(testing):
    tree = testing.tree
    far = site_elsewhere(testing)
    far_building = far.areas.get().building_id
    street = site_buildings(testing.round)
    assert set(street) == {b.pk for b in tree.buildings[:4]} and far_building not in street
    assert street[tree.buildings[0].pk] == {testing.sites[0].pk}
    over_community = Round(node=tree.communities[1])  # served by its street's sites
    over_community.locate(tree.communities[1])
    assert site_buildings(over_community) == street
    over_district = Round(node=tree.district)
    over_district.locate(tree.district)
    assert site_buildings(over_district) == {**street, far_building: {far.pk}}


@pytest.fixture
def paced(testing):
    """Six residents of building 0 sampled at site 0 and two of building 2 at site 1, in the
    last hour; the deadline is in six hours. Site 0 has 10 and 16 left at 6/h (done in 3 h 20
    and 4 h 20), site 1 has 14 and 16 left at 2/h (14 h and 15 h): buildings 2 and 3 miss, and
    the buildings of the second community, which no site serves, miss too."""
    tree = testing.tree

    def sample(station, building, first, last, tube):
        people = Resident.objects.filter(building=building).order_by("pk")[first:last]
        outcomes = scans_record(
            actor=None,
            station=station,
            items=[scan_batch.ScanInput(uuid.uuid4(), tube, r.id_number) for r in people],
        )
        assert all(o.status == "accepted" for o in outcomes)

    sample(testing.stations[0], tree.buildings[0], 0, 5, "T-A-0001")
    sample(testing.stations[1], tree.buildings[0], 5, 6, "T-A-0002")
    sample(testing.stations[2], tree.buildings[2], 0, 2, "T-B-0001")
    Round.objects.filter(pk=testing.round.pk).update(
        deadline=timezone.now() + dt.timedelta(hours=6)
    )
    testing.round.refresh_from_db()
    return testing


def names(rows) -> list[str]:
    return [r.node.name for r in rows]


def test_the_late_buildings_and_units_of_a_hand_built_round(paced):
    tree, round_ = paced.tree, paced.round
    now = timezone.now()
    p = deadline_projection(tree.users["admin"], round_, tree.street, now)
    unserved = [b.name for b in tree.buildings[4:]]
    assert names(p.buildings) == unserved + [tree.buildings[3].name, tree.buildings[2].name]
    assert p.late_total == 6 and p.finish is None
    b3, b2 = p.buildings[4:]
    assert (b2.expected, b2.sampled, b2.remaining) == (16, 2, 14)
    assert b2.finish == now + dt.timedelta(hours=14)
    assert b3.finish == now + dt.timedelta(hours=15) and b3.sampled == 0
    assert [(u.node.pk, u.expected, u.sampled, u.remaining) for u in b2.units] == [
        (tree.units[4].pk, 8, 2, 6),
        (tree.units[5].pk, 8, 0, 8),
    ]
    assert all(b.finish is None for b in p.buildings[:4])
    assert p.site_rates == {paced.sites[0].pk: 6, paced.sites[1].pk: 2}


def test_a_later_deadline_is_met_by_the_served_buildings(paced):
    tree, round_ = paced.tree, paced.round
    round_.deadline = timezone.now() + dt.timedelta(hours=16)
    p = deadline_projection(tree.users["admin"], round_, tree.communities[0])
    assert p.buildings == [] and p.late_total == 0


def test_each_login_sees_its_own_late_buildings_only(paced):
    tree, round_ = paced.tree, paced.round
    grid0 = deadline_projection(tree.users["grid"], round_, tree.grids[0])
    assert grid0.buildings == [] and grid0.late_total == 0
    grid1 = deadline_projection(tree.users["other_grid"], round_, tree.grids[1])
    assert names(grid1.buildings) == [tree.buildings[3].name, tree.buildings[2].name]


def test_the_coverage_page_lists_the_late_buildings(paced, client):
    tree = paced.tree
    client.force_login(tree.users["other_grid"])
    page = client.get(f"/testing/rounds/{paced.round.pk}/").content.decode()
    assert "2 buildings will miss the deadline." in page
    section = page[page.index('id="ts-deadline-h"') :]
    for building in tree.buildings[2:4]:
        assert building.name in section
    for building in tree.buildings[:2] + tree.buildings[4:]:
        assert f">{building.name}<" not in section
    assert f"?node={tree.units[4].pk}" in section


def test_the_projection_api(paced):
    tree = paced.tree
    api = Client(headers={"authorization": f"Bearer {token_issue(user=tree.users['street'])}"})
    out = api.get(
        f"/api/v1/testing/rounds/{paced.round.pk}/projection?node_id={tree.communities[0].pk}"
    ).json()
    assert out["late_total"] == 2
    assert [b["node"]["name"] for b in out["buildings"]] == [
        tree.buildings[3].name,
        tree.buildings[2].name,
    ]
    assert out["buildings"][1]["units"][0] == {
        "node": {"id": tree.units[4].pk, "name": tree.units[4].name, "level": "unit"},
        "expected": 8,
        "sampled": 2,
        "remaining": 6,
        "finish": out["buildings"][1]["finish"],
    }
    grid = Client(headers={"authorization": f"Bearer {token_issue(user=tree.users['grid'])}"})
    crossed = grid.get(
        f"/api/v1/testing/rounds/{paced.round.pk}/projection?node_id={tree.grids[1].pk}"
    )
    assert crossed.status_code == 404
