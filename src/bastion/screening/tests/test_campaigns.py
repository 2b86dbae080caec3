"""Door-knock campaigns: opening, exact coverage, daily check-and-clear, idempotent visits,
findings and follow-ups, and the rules the database itself keeps."""

import datetime as dt
import itertools
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from bastion.core.errors import Conflict, DomainError
from bastion.core.models import ChangeLog
from bastion.geo import queries as geo_queries
from bastion.geo.models import Household, Resident
from bastion.screening import queries, services
from bastion.screening.models import (
    CampaignHousehold,
    Finding,
    FollowUp,
    HouseholdStatus,
    Visit,
)
from bastion.screening.tests.conftest import local_at, walking_order

STATUS_KEYS = ("total", "not_yet", "reached", "not_reachable", "away")


def _status(counts: dict) -> dict:
    return {k: counts[k] for k in STATUS_KEYS}


def test_open_puts_every_household_on_the_list(tree, campaign):
    rows = CampaignHousehold.objects.filter(campaign=campaign)
    assert rows.count() == Household.objects.count() == 64
    assert set(rows.values_list("status", flat=True)) == {HouseholdStatus.NOT_YET}
    # Each row carries its household's ancestor ids, so it is scoped and counted by one column.
    assert rows.filter(grid_id=tree.grids[0].pk).count() == 16
    assert ChangeLog.objects.filter(object_type="screening.campaign").count() == 1


def test_coverage_is_exact_at_every_level(tree, campaign, mark):
    h = walking_order(tree.grids[0])
    other = walking_order(tree.grids[2])  # a grid of the second community
    mark(h[0], "reached", "visit")
    mark(h[1], "reached", "phone")
    mark(h[2], "not_reachable", days_ago=1)
    mark(h[3], "away")
    mark(h[4], "not_reachable", days_ago=2)
    mark(h[4], "reached", "chat", days_ago=1)  # reached after a failed try: reached
    mark(h[5], "away", days_ago=1)
    mark(h[5], "not_reachable")  # away, then not found again: still away
    mark(other[0], "reached", "chat")

    street = tree.users["street"]
    cover = queries.coverage(street, campaign, tree.street)
    assert _status(cover.totals) == {
        "total": 64,
        "not_yet": 57,
        "reached": 4,
        "not_reachable": 1,
        "away": 2,
    }
    assert cover.totals["cleared"] == 6 and cover.totals["left"] == 58
    assert [(n.pk, _status(c)) for n, c, _chief in cover.children] == [
        (
            tree.communities[0].pk,
            {"total": 32, "not_yet": 26, "reached": 3, "not_reachable": 1, "away": 2},
        ),
        (
            tree.communities[1].pk,
            {"total": 32, "not_yet": 31, "reached": 1, "not_reachable": 0, "away": 0},
        ),
    ]
    community = queries.coverage(street, campaign, tree.communities[0])
    assert [(n.pk, c["total"], c["reached"]) for n, c, _chief in community.children] == [
        (tree.grids[0].pk, 16, 3),
        (tree.grids[1].pk, 16, 0),
    ]

    # A grid chief sees the campaign, starting at their own grid, and only its households.
    chief = tree.users["grid"]
    assert queries.campaigns_for(chief).get() == campaign
    node = geo_queries.area_focus(chief, campaign.node)
    assert node == tree.grids[0]
    mine = queries.coverage(chief, campaign, node)
    assert _status(mine.totals) == {
        "total": 16,
        "not_yet": 10,
        "reached": 3,
        "not_reachable": 1,
        "away": 2,
    }
    assert [c["total"] for _n, c, _chief in mine.children] == [8, 8]  # its two buildings
    with pytest.raises(Http404):
        geo_queries.area_focus(chief, campaign.node, tree.grids[1].pk)


def test_state_does_not_depend_on_the_order_visits_arrive(tree, campaign):
    """A phone may sync yesterday's visits after today's: the result is the same."""
    entry = CampaignHousehold.objects.filter(campaign=campaign).first()
    today = dt.date(2022, 4, 10)
    attempts = [
        ("not_reachable", "", today - dt.timedelta(days=2)),
        ("away", "", today - dt.timedelta(days=1)),
        ("reached", "phone", today),
        ("not_reachable", "", today),
    ]
    states = set()
    for order in itertools.permutations(attempts):
        row = CampaignHousehold(campaign=campaign, household=entry.household)
        for outcome, channel, day in order:
            at = local_at().replace(year=day.year, month=day.month, day=day.day)
            services.household_apply(row, outcome=outcome, channel=channel, day=day, at=at)
        states.add(
            tuple(getattr(row, f) for f in services.APPLIED_FIELDS if f != "last_attempt_at")
        )
    assert states == {
        (
            "reached",
            "phone",
            4,
            today - dt.timedelta(days=2),
            today,
            today - dt.timedelta(days=1),
            today,
        )
    }


def test_check_and_clear_puts_what_was_not_cleared_first(tree, campaign, mark, today):
    h = walking_order(tree.grids[0])
    mark(h[3], "not_reachable", days_ago=2)
    mark(h[5], "not_reachable", days_ago=2)
    mark(h[5], "not_reachable", days_ago=1)
    mark(h[7], "not_reachable", days_ago=1)
    mark(h[1], "reached", "visit", days_ago=1)
    mark(h[2], "not_reachable")  # tried today: off today's list, back first tomorrow
    mark(h[6], "away", days_ago=2)

    chief = tree.users["grid"]
    left = [e.household_id for e in queries.left_today(chief, campaign, tree.grids[0], today)]
    never_tried = [x.pk for i, x in enumerate(h) if i not in (1, 2, 3, 5, 6, 7)]
    # Oldest failure first; then the most tried; then every household not tried yet, in
    # walking order (building, unit, floor, room).
    assert left == [h[3].pk, h[5].pk, h[7].pk, *never_tried]
    assert [e.household_id for e in queries.done_today(chief, campaign, tree.grids[0], today)] == [
        h[2].pk
    ]
    progress = queries.grid_progress(chief, campaign, tree.grids[0], today)
    assert progress == {
        "total": 16,
        "cleared": 2,
        "left_today": 13,
        "carried": 3,
        "done_today": 1,
        "percent": 12,
    }
    # Tomorrow, today's failure comes right after the older ones.
    tomorrow = today + dt.timedelta(days=1)
    assert [e.household_id for e in queries.left_today(chief, campaign, tree.grids[0], tomorrow)][
        :4
    ] == [h[3].pk, h[5].pk, h[7].pk, h[2].pk]


def test_a_retried_visit_is_recorded_once(tree, campaign, mark):
    household = walking_order(tree.grids[0])[0]
    client_id = uuid.uuid4()
    first = mark(household, "not_reachable", client_id=client_id, days_ago=1)
    again = mark(household, "not_reachable", client_id=client_id, days_ago=1)
    assert first.created and not again.created
    assert again.visit.pk == first.visit.pk
    assert Visit.objects.count() == 1
    entry = CampaignHousehold.objects.get(campaign=campaign, household=household)
    assert entry.attempts == 1
    # The same id twice in one batch is one visit too.
    twice = services.VisitInput(
        client_id=uuid.uuid4(),
        campaign_id=campaign.pk,
        household_id=household.pk,
        outcome="reached",
        channel="phone",
    )
    results = services.visits_record(actor=tree.users["grid"], visits=[twice, twice])
    assert [r.created for r in results] == [True, False]
    assert Visit.objects.count() == 2
    # Reusing an id for another household is refused, and changes nothing.
    other = walking_order(tree.grids[0])[1]
    with pytest.raises(Conflict):
        mark(other, "reached", "visit", client_id=client_id)
    assert Visit.objects.count() == 2


def test_findings_open_one_follow_up_per_fever(tree, campaign, mark, today):
    household = walking_order(tree.grids[0])[0]
    first, second = Resident.objects.filter(household=household).order_by("id")
    mark(
        household,
        "reached",
        "visit",
        days_ago=1,
        findings=[
            services.FindingInput(
                resident_id=first.pk, temperature="38.2", cough=True, health_code="yellow"
            ),
            services.FindingInput(
                resident_id=second.pk,
                temperature=36.5,
                needs_medicine=True,
                travel_place="长春",
                travel_date=today - dt.timedelta(days=5),
            ),
        ],
    )
    fever = Finding.objects.get(resident=first)
    assert fever.fever and fever.day == today - dt.timedelta(days=1)  # 38.2 °C is fever
    assert not Finding.objects.get(resident=second).fever
    follow_up = FollowUp.objects.get()
    assert (follow_up.resident, follow_up.source, follow_up.finding, follow_up.opened_on) == (
        first,
        "visit",
        fever,
        today - dt.timedelta(days=1),
    )
    assert follow_up.grid_id == tree.grids[0].pk
    # Found again while the follow-up is open: no second one.
    mark(
        household,
        "reached",
        "phone",
        findings=[services.FindingInput(resident_id=first.pk, fever=True)],
    )
    assert FollowUp.objects.count() == 1 and Finding.objects.count() == 3


def test_bad_findings_refuse_the_whole_batch(tree, campaign, mark, today):
    h = walking_order(tree.grids[0])
    stranger = Resident.objects.filter(household=h[1]).first()
    own = Resident.objects.filter(household=h[0]).first()
    items = [
        services.VisitInput(
            client_id=uuid.uuid4(),
            campaign_id=campaign.pk,
            household_id=h[2].pk,
            outcome="reached",
            channel="chat",
        ),
        services.VisitInput(
            client_id=uuid.uuid4(),
            campaign_id=campaign.pk,
            household_id=h[0].pk,
            outcome="reached",
            channel="visit",
            findings=(
                services.FindingInput(resident_id=stranger.pk),
                services.FindingInput(resident_id=own.pk, temperature=45),
            ),
        ),
        services.VisitInput(
            client_id=uuid.uuid4(),
            campaign_id=campaign.pk,
            household_id=h[3].pk,
            outcome="away",
            channel="",
            findings=(services.FindingInput(resident_id=own.pk),),
        ),
        services.VisitInput(
            client_id=uuid.uuid4(), campaign_id=campaign.pk, household_id=h[4].pk, outcome="reached"
        ),
        services.VisitInput(
            client_id=uuid.uuid4(),
            campaign_id=campaign.pk,
            household_id=h[5].pk,
            outcome="not_reachable",
            at=local_at(days_ago=4),
        ),  # before the campaign started
    ]
    with pytest.raises(DomainError) as refused:
        services.visits_record(actor=tree.users["grid"], visits=items)
    assert sorted((p.row, p.field) for p in refused.value.problems) == [
        (2, f"findings.{own.pk}.temperature"),
        (2, f"findings.{stranger.pk}.resident_id"),
        (3, "findings"),
        (4, "channel"),
        (5, "at"),
    ]
    assert not Visit.objects.exists() and not Finding.objects.exists()
    assert not CampaignHousehold.objects.exclude(status="not_yet").exists()


def test_open_is_refused_when_campaigns_overlap(tree, campaign, today):
    with pytest.raises(Conflict):
        services.campaign_open(
            actor=tree.users["street"],
            node=tree.grids[0],
            name="再次",
            starts_on=today,
            ends_on=today,
        )
    with pytest.raises(DomainError) as refused:
        services.campaign_open(
            actor=tree.users["street"],
            node=tree.units[0],
            name=" ",
            starts_on=today,
            ends_on=today - dt.timedelta(days=1),
        )
    assert {p.field for p in refused.value.problems} == {"name", "node", "ends_on"}
    later = services.campaign_open(
        actor=tree.users["street"],
        node=tree.grids[0],
        name="第二轮",
        starts_on=campaign.ends_on + dt.timedelta(1),
        ends_on=campaign.ends_on + dt.timedelta(7),
    )
    assert later.households.count() == 16


def test_a_chief_cannot_mark_another_grids_household(tree, campaign, mark):
    other = walking_order(tree.grids[1])[0]
    with pytest.raises(Http404):
        mark(other, "reached", "visit", user="grid")
    with pytest.raises(Http404):  # a volunteer sees the grid but may not change it
        mark(walking_order(tree.grids[0])[0], "reached", "visit", user="volunteer")
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "reached", "attempts": 1},  # reached without a channel or a day
        {"status": "not_yet", "attempts": 2},  # attempts without a first attempt
        {"status": "away", "attempts": 1},  # away without an away day
    ],
)
def test_the_database_refuses_inconsistent_status(campaign, changes):
    entry = CampaignHousehold.objects.filter(campaign=campaign).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignHousehold.objects.filter(pk=entry.pk).update(
            first_attempt_on=None if changes["status"] == "not_yet" else campaign.starts_on,
            last_attempt_on=None if changes["status"] == "not_yet" else campaign.starts_on,
            last_attempt_at=local_at(),
            **changes,
        )


def test_the_database_refuses_a_high_temperature_without_fever(tree, campaign, mark):
    household = walking_order(tree.grids[0])[0]
    resident = Resident.objects.filter(household=household).first()
    mark(
        household,
        "reached",
        "visit",
        findings=[services.FindingInput(resident_id=resident.pk, temperature="37.0")],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.update(temperature="38.5")
