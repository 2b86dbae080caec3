"""Home measures: the release's hand-over places the person on home monitoring, reports are
entered twice a day and refused after the end, bad input is refused with nothing written (also
by the database), missed checks are listed up the tree and counted in the daily figures, and
who sees a measure."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.core.errors import DomainError
from bastion.geo.models import Household, Resident
from bastion.quarantine import services
from bastion.quarantine.home import queries
from bastion.quarantine.home import services as home
from bastion.quarantine.home.models import HomeMeasure, HomeReport
from bastion.quarantine.tests.conftest import NOW, admit

pytestmark = pytest.mark.django_db
DAY = NOW.date()  # 2026-12-07


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def place(tree, *, household=None, starts_on=DAY, ends_on=DAY + dt.timedelta(days=7), **kw):
    household = household or Household.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    resident = Resident.objects.filter(household=household).order_by("pk").first()
    args = {
        "actor": tree.users["community"],
        "kind": "isolation",
        "starts_on": starts_on,
        "ends_on": ends_on,
        "reason": "密接（疫情处置）",
        "source": "close_contact",
        "resident": resident,
        "door_sensor": True,
    }
    return home.measure_place(**(args | kw))


def test_release_hands_over_to_home_monitoring_reports_then_end(tree, site, rooms, staff):
    stay = admit(staff, site, rooms[0], home_node=tree.grids[1])
    services.check_record(actor=staff, stay=stay, temperature="36.5", at=NOW)
    services.stay_release(actor=staff, stay=stay, reason="核酸阴性", at=NOW + dt.timedelta(days=1))
    assert not HomeMeasure.objects.exists()
    services.stay_hand_over(actor=staff, stay=stay, at=NOW + dt.timedelta(days=1))
    measure = HomeMeasure.objects.get()
    start = DAY + dt.timedelta(days=1)
    assert (measure.kind, measure.source, measure.stay_id) == ("monitoring", "release", stay.pk)
    assert (measure.starts_on, measure.ends_on) == (start, start + dt.timedelta(days=7))
    assert (measure.grid_id, measure.community_id) == (tree.grids[1].pk, tree.communities[0].pk)
    assert (measure.name, measure.doc_number) == ("王建国", stay.doc_number)
    # the home grid's chief sees the person due today, reports the morning
    chief = tree.users["other_grid"]
    due = queries.due_today(chief, at=at(start, 9))
    assert [(d.measure, d.halves, d.test_today) for d in due] == [(measure, ["am", "pm"], True)]
    home.report_record(actor=chief, measure=measure, temperature="36.4", at=at(start, 9))
    assert [d.halves for d in queries.due_today(chief, at=at(start, 15))] == [["pm"]]
    home.report_record(actor=chief, measure=measure, temperature="37.5", at=at(start, 15))
    # both reports in: only the test of day 1 (tests on days 1, 3, 7) is still listed
    assert [(d.halves, d.test_today) for d in queries.due_today(chief, at=at(start, 16))] == [
        ([], True)
    ]
    next_day = start + dt.timedelta(days=1)
    assert [d.halves for d in queries.due_today(chief, at=at(next_day, 8))] == [["am", "pm"]]
    assert [r.abnormal for r in HomeReport.objects.order_by("half")] == [False, True]
    # the end: early only with a reason; afterwards no report is taken
    with pytest.raises(DomainError) as refused:
        home.measure_end(actor=chief, measure=measure, at=at(next_day, 17))
    assert refused.value.problems[0].field == "reason"
    home.measure_end(actor=chief, measure=measure, reason="转入医院", at=at(next_day, 17))
    with pytest.raises(DomainError) as refused:
        home.report_record(actor=chief, measure=measure, temperature="36.5", at=at(next_day, 18))
    assert refused.value.problems[0].field == "measure_id"
    assert HomeReport.objects.count() == 2
    assert queries.due_today(chief, at=at(next_day, 18)) == []


def test_a_report_after_the_end_day_is_refused(tree):
    measure = place(tree, ends_on=DAY + dt.timedelta(days=2))
    with pytest.raises(DomainError) as refused:
        home.report_record(
            actor=tree.users["grid"], measure=measure, temperature="36.5",
            at=at(DAY + dt.timedelta(days=3), 9),
        )  # fmt: skip
    assert refused.value.problems[0].field == "measure_id"
    assert not HomeReport.objects.exists()


@pytest.mark.parametrize("temperature", ["33.9", "43.1", "热", ""])
def test_a_temperature_out_of_range_is_refused_with_nothing_written(tree, temperature):
    measure = place(tree)
    with pytest.raises(DomainError) as refused:
        home.report_record(
            actor=tree.users["grid"], measure=measure, temperature=temperature, at=at(DAY, 9)
        )
    assert refused.value.problems[0].field == "temperature"
    assert not HomeReport.objects.exists()


def test_the_database_keeps_the_temperature_in_range_and_the_end_after_the_start(tree):
    measure = place(tree)
    with pytest.raises(IntegrityError), transaction.atomic():
        HomeReport.objects.create(
            measure=measure, day=DAY, half="am", temperature=Decimal("43.5"),
            reporter="chief", reported_at=at(DAY, 9),
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        HomeMeasure.objects.filter(pk=measure.pk).update(ends_on=DAY)


@pytest.mark.parametrize("days", [0, -3])
def test_an_end_not_after_the_start_is_refused_with_nothing_written(tree, days):
    with pytest.raises(DomainError) as refused:
        place(tree, ends_on=DAY + dt.timedelta(days=days))
    assert refused.value.problems[0].field == "ends_on"
    assert not HomeMeasure.objects.exists()


def test_one_measure_at_a_time_and_the_grid_chief_named(tree):
    from bastion.people import services as people

    person = people.person_create(
        name="李网格", kind="cadre", phone="13700000009", node=tree.grids[0]
    )
    people.post_assign(
        person=person,
        role="grid_chief",
        node=tree.grids[0],
        started_on=DAY,
        actor=tree.users["admin"],
    )
    measure = place(tree)
    assert measure.grid_chief == person and measure.door_sensor
    with pytest.raises(DomainError) as refused:
        place(tree)
    assert refused.value.problems[0].field == "doc_number"
    assert HomeMeasure.objects.count() == 1


def test_missed_checks_are_listed_up_the_tree_and_counted(tree):
    first = place(tree, starts_on=DAY - dt.timedelta(days=2))
    other_household = Household.objects.filter(grid=tree.grids[2]).order_by("pk").first()
    second = place(tree, household=other_household, starts_on=DAY - dt.timedelta(days=1))
    grid = tree.users["grid"]
    for day in (DAY - dt.timedelta(days=2), DAY - dt.timedelta(days=1)):
        home.report_record(actor=grid, measure=first, temperature="36.5", day=day, half="am",
                           at=at(DAY, 9))  # fmt: skip
    now = at(DAY, 13)  # this morning's slot has passed, the afternoon's not
    since = DAY - dt.timedelta(days=2)
    expected_first = [
        (first.pk, DAY - dt.timedelta(days=2), "pm"),
        (first.pk, DAY - dt.timedelta(days=1), "pm"),
        (first.pk, DAY, "am"),
    ]
    expected_second = [
        (second.pk, DAY - dt.timedelta(days=1), "am"),
        (second.pk, DAY - dt.timedelta(days=1), "pm"),
        (second.pk, DAY, "am"),
    ]

    def listed(user):
        return [(r.measure.pk, r.day, r.half) for r in queries.missed(user, since=since, at=now)]

    assert listed(tree.users["street"]) == expected_first + expected_second
    assert listed(tree.users["community"]) == expected_first  # community 1 only
    assert listed(grid) == expected_first
    assert listed(tree.users["other_grid"]) == []
    assert listed(tree.users["building"]) == []  # nobody below the grid
    by_area = queries.missed_by_area(queries.missed(tree.users["street"], since=since, at=now))
    assert [(c.pk, g.pk, n) for c, g, n in by_area] == [
        (tree.communities[0].pk, tree.grids[0].pk, 3),
        (tree.communities[1].pk, tree.grids[2].pk, 3),
    ]
    # the daily report: yesterday (both slots passed)
    yesterday = queries.daily_figures(DAY - dt.timedelta(days=1), [g.pk for g in tree.grids])
    assert yesterday == {
        tree.grids[0].pk: {"home_now": 1, "home_checks_missed": 1},
        tree.grids[2].pk: {"home_now": 1, "home_checks_missed": 2},
    }


def test_who_sees_a_measure(tree):
    measure = place(tree)
    seen = {
        name: HomeMeasure.objects.restrict(user).filter(pk=measure.pk).exists()
        for name, user in tree.users.items()
    }
    assert seen == {
        "admin": True, "street": True, "community": True, "grid": True,
        "other_grid": False, "building": False, "volunteer": True, "nobody": False,
    }  # fmt: skip


def test_a_lapsed_measure_nobody_closed_makes_way_for_a_new_one(tree):
    old = place(tree, starts_on=DAY - dt.timedelta(days=20), ends_on=DAY - dt.timedelta(days=13))
    new = place(tree, kind="monitoring")
    old.refresh_from_db()
    assert old.ended_at is not None and timezone.localdate(old.ended_at) == old.ends_on
    assert new.ended_at is None and HomeMeasure.objects.count() == 2
