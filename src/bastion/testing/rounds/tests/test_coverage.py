"""Coverage of a round asserted against a hand-built area: expected (present), excluded with
reason, sampled, resulted, positive and missing at every level; the missing list and home
visits; live throughput per site and station; scope."""

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from bastion.geo import queries as geo_queries
from bastion.geo.identity import make_id_number
from bastion.geo.models import Presence, Resident
from bastion.testing.conftest import scan
from bastion.testing.results import services as result_services
from bastion.testing.rounds import coverage, queries, services
from bastion.testing.rounds.models import Shift


@pytest.fixture
def area(testing):
    """Building 1 (of grid 1): residents 0, 1 away, 2 moved out, 3–12 sampled in tubes A
    (positive) and B (negative), 13–15 not sampled (13 immobile, 0 immobile but away).
    Building 2: 5 sampled in tube C (no result yet), 5 is disabled. Grid 2: 3 sampled in
    tube D, which comes back invalid. One walk-in in tube E."""
    tree = testing.tree
    b0 = [r for r in testing.residents_of(tree.buildings[0])]
    b1 = [r for r in testing.residents_of(tree.buildings[1])]
    g1 = testing.residents_of(tree.grids[1])
    Resident.objects.filter(pk__in=[b0[0].pk, b0[1].pk]).update(presence=Presence.AWAY)
    Resident.objects.filter(pk=b0[2].pk).update(presence=Presence.MOVED_OUT)
    Resident.objects.filter(pk__in=[b0[13].pk, b0[0].pk]).update(immobile=True)
    Resident.objects.filter(pk=b0[5].pk).update(disabled=True)
    Resident.objects.filter(pk=b1[0].pk).update(disabled=True)
    for i, r in enumerate(b0[3:13]):
        assert scan(testing.stations[0], "A-0001" if i < 5 else "B-0001", r.id_number).ok
    for r in b1[5:10]:
        assert scan(testing.stations[1], "C-0001", r.id_number).ok
    for r in g1[:3]:
        assert scan(testing.stations[2], "D-0001", r.id_number).ok
    stranger = make_id_number("110101", dt.date(1975, 3, 3), 7)
    assert scan(testing.stations[0], "E-0001", stranger, walk_in=True).ok
    result_services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[
            result_services.ResultRow(None, "A-0001", "positive"),
            result_services.ResultRow(None, "B-0001", "negative"),
            result_services.ResultRow(None, "D-0001", "invalid"),
        ],
    )
    return b0, b1


def figures(expected, sampled, resulted, positive, missing, away=0, moved_out=0):
    return {
        "expected": expected,
        "sampled": sampled,
        "resulted": resulted,
        "positive": positive,
        "missing": missing,
        "away": away,
        "moved_out": moved_out,
        "percent": round(100 * sampled / expected) if expected else 0,
    }


def test_coverage_of_the_street_and_its_communities(testing, area, django_assert_max_num_queries):
    tree, admin = testing.tree, testing.admin
    with django_assert_max_num_queries(7):
        cov = coverage.coverage(admin, testing.round, tree.street)
    assert cov.totals == figures(125, 15, 10, 5, 110, away=2, moved_out=1)
    assert cov.walk_ins == 1
    assert [(kid, f) for kid, f in cov.children] == [
        (tree.communities[0], figures(61, 15, 10, 5, 46, away=2, moved_out=1)),
        (tree.communities[1], figures(64, 0, 0, 0, 64)),
    ]


def test_coverage_of_a_community_a_grid_and_a_building(testing, area):
    tree, admin = testing.tree, testing.admin
    community = coverage.coverage(admin, testing.round, tree.communities[0])
    assert [(kid, f) for kid, f in community.children] == [
        (tree.grids[0], figures(29, 15, 10, 5, 14, away=2, moved_out=1)),
        (tree.grids[1], figures(32, 0, 0, 0, 32)),  # tube D was invalid
    ]
    grid = coverage.coverage(admin, testing.round, tree.grids[0])
    assert [(kid, f) for kid, f in grid.children] == [
        (tree.buildings[0], figures(13, 10, 10, 5, 3, away=2, moved_out=1)),
        (tree.buildings[1], figures(16, 5, 0, 0, 11)),
    ]
    building = coverage.coverage(admin, testing.round, tree.buildings[0])
    assert building.totals == figures(13, 10, 10, 5, 3, away=2, moved_out=1)
    assert [kid for kid, _f in building.children] == tree.units[:2]
    assert sum(f["sampled"] for _k, f in building.children) == 10


def test_a_round_over_a_grid_counts_only_its_grid_from_above(testing, area):
    tree = testing.tree
    small = services.round_open(
        actor=testing.admin,
        node=tree.grids[0],
        name="网格轮",
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    cov = coverage.coverage(testing.admin, small, tree.street)
    assert cov.totals == figures(29, 0, 0, 0, 29, away=2, moved_out=1)
    assert [kid for kid, _f in cov.children] == [tree.communities[0]]


def test_the_missing_list_by_unit_and_household(testing, area):
    b0, _b1 = area
    units, total = coverage.missing_list(testing.admin, testing.round, testing.tree.buildings[0])
    assert total == 3
    assert [(u.unit, [(h.household.pk, h.residents) for h in u.households]) for u in units] == [
        (
            testing.tree.units[1],
            [(b0[13].household_id, [b0[13]]), (b0[14].household_id, [b0[14], b0[15]])],
        ),
    ]
    excluded = list(
        coverage.excluded_residents(testing.admin, testing.round, testing.tree.buildings[0])
    )
    assert [(r, r.presence) for r in excluded] == [
        (b0[0], "away"),
        (b0[1], "away"),
        (b0[2], "moved_out"),
    ]


def test_home_visits_list_the_immobile_and_disabled_not_yet_sampled(testing, area):
    b0, b1 = area
    units = coverage.home_visits(testing.admin, testing.round, testing.tree.grids[0])
    people = [r for u in units for h in u.households for r in h.residents]
    # b0[0] is immobile but away; b0[5] is disabled but sampled.
    assert people == [b0[13], b1[0]]
    # The team scans at the door through the same service: they drop off the list.
    assert scan(testing.home_team, "H-0001", b0[13].id_number).ok
    units = coverage.home_visits(testing.admin, testing.round, testing.tree.grids[0])
    assert [r for u in units for h in u.households for r in h.residents] == [b1[0]]


def test_throughput_per_site_and_station_in_ten_minute_buckets(testing):
    now = timezone.now()
    Shift.objects.update(opened_at=now - dt.timedelta(hours=2))
    people = testing.residents_of(testing.tree.grids[0])
    when = [now - dt.timedelta(minutes=55)] * 3 + [now - dt.timedelta(minutes=4)] * 2
    for r, at in zip(people, when, strict=False):
        assert scan(testing.stations[0], "T-0001", r.id_number, at=at).ok
    assert scan(testing.stations[1], "T-0002", people[5].id_number, at=when[-1]).ok

    data = queries.throughput(
        testing.admin, testing.round, since=now - dt.timedelta(hours=1), until=now
    )
    assert data["bucket_minutes"] == 10
    assert len(data["buckets"]) in (6, 7)
    site = data["sites"][0]
    assert (site["id"], site["total"]) == (testing.sites[0].pk, 6)

    def slot(at):  # the 10-minute bucket `at` falls in, counted from the first bucket
        first = int((now - dt.timedelta(hours=1)).timestamp()) // 600
        return int(at.timestamp()) // 600 - first

    expected = [0] * len(data["buckets"])
    for at in [*when, when[-1]]:
        expected[slot(at)] += 1
    assert site["counts"] == expected
    stations = {s["id"]: s for s in data["stations"]}
    assert (
        stations[testing.stations[0].pk]["total"],
        stations[testing.stations[1].pk]["total"],
    ) == (5, 1)
    # Outside the user's scope, nothing.
    assert queries.throughput(testing.tree.users["other_grid"], testing.round)["sites"] == []


def test_a_grid_chief_sees_the_street_round_but_only_their_grid(testing, area):
    chief = testing.tree.users["grid"]
    assert list(queries.rounds_for(chief)) == [testing.round]
    node = geo_queries.area_focus(chief, testing.round.node)
    assert node == testing.tree.grids[0]
    assert coverage.coverage(chief, testing.round, node).totals["sampled"] == 15
    with pytest.raises(Http404):
        geo_queries.area_focus(chief, testing.round.node, testing.tree.grids[1].pk)
    with pytest.raises(Http404):
        geo_queries.area_focus(chief, testing.round.node, testing.tree.street.pk)
    assert queries.rounds_for(testing.tree.users["nobody"]).count() == 0
