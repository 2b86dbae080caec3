"""Mobilization's rules, tested on the services directly (the small known tree)."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation

from bastion.core.errors import DomainError
from bastion.core.history import history_of
from bastion.core.models import ChangeLog
from bastion.geo.identity import make_id_number
from bastion.geo.models import Resident
from bastion.people import services as people_services
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.models import (
    AllowanceLine,
    AllowanceRate,
    Assignment,
    Award,
    CheckEvent,
    Deployment,
    ReportIn,
    Shift,
    TeamMember,
)
from bastion.people.mobilization.tests.mobilization_data import build_duty, place_now, tomorrow
from bastion.people.models import Organisation, Person


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the UI's default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def duty(tree):
    return build_duty(tree)


def writes() -> tuple[int, int, int]:
    return Assignment.objects.count(), CheckEvent.objects.count(), ChangeLog.objects.count()


# --------------------------------------------------------------------------------------------
# Rosters: nobody at two places at once, nobody on duty too long in a row
# --------------------------------------------------------------------------------------------


def test_a_person_on_duty_elsewhere_is_refused_naming_the_place(duty):
    day = tomorrow()
    guard = services.roster_build(place=duty.guard, day=day)  # 08–16, 16–24, 00–08
    checkpoint = services.roster_build(place=duty.checkpoint, day=day)  # 12–20, ...
    zhao = duty.cadres[1]
    services.shift_assign(shift=guard[0], person=zhao)
    before = writes()
    with pytest.raises(DomainError) as refused:
        services.shift_assign(shift=checkpoint[0], person=zhao)
    [problem] = refused.value.problems
    assert problem.field == "person"
    assert "1号楼东门值守点" in problem.message and "08:00" in problem.message
    assert writes() == before


def test_the_database_refuses_a_person_twice_at_the_same_start(duty):
    day = tomorrow()
    guard = services.roster_build(place=duty.guard, day=day)
    far = services.roster_build(place=duty.far, day=day)  # the same hours, another grid
    services.shift_assign(shift=guard[0], person=duty.cadres[1])
    row = Assignment(
        shift=far[0], person=duty.cadres[1], starts_at=far[0].starts_at, ends_at=far[0].ends_at
    )
    row.locate(far[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_more_hours_in_a_row_than_allowed_are_refused_with_the_reason(duty):
    day = tomorrow()
    shifts = services.roster_build(place=duty.guard, day=day)
    qian = duty.cadres[1]
    services.shift_assign(shift=shifts[0], person=qian)  # 08–16
    services.shift_assign(shift=shifts[1], person=qian)  # 16–24: 16 hours, the limit
    with pytest.raises(DomainError) as refused:
        services.shift_assign(shift=shifts[2], person=qian)  # 00–08 next: 24 in a row
    message = refused.value.problems[0].message
    assert "24 hours in a row" in message and "the limit is 16 hours" in message
    # The next day's morning shift, after 8 hours of rest, is a new stretch.
    next_day = services.roster_build(place=duty.guard, day=day + dt.timedelta(days=1))
    services.shift_assign(shift=next_day[1], person=qian)


@override_settings(BASTION_ROSTER_MAX_HOURS_IN_A_ROW=8, BASTION_ROSTER_MIN_REST_HOURS=12)
def test_the_limit_and_the_rest_come_from_the_settings(duty):
    day = tomorrow()
    shifts = services.roster_build(place=duty.guard, day=day)
    sun = duty.cadres[2]
    services.shift_assign(shift=shifts[0], person=sun)  # 08–16
    with pytest.raises(DomainError, match="16 hours in a row"):
        services.shift_assign(shift=shifts[1], person=sun)
    # 00–08 next morning is 8 hours after 16:00: less than 12 hours of rest, one stretch.
    with pytest.raises(DomainError, match="at least 12 hours of rest"):
        services.shift_assign(shift=shifts[2], person=sun)


def test_a_swap_trades_shifts_and_is_refused_when_it_would_break_a_rule(duty):
    day = tomorrow()
    shifts = services.roster_build(place=duty.guard, day=day)
    a = services.shift_assign(shift=shifts[0], person=duty.cadres[1])
    b = services.shift_assign(shift=shifts[1], person=duty.cadres[2])
    services.assignment_swap(assignment=a, other=b, actor=duty.tree.users["grid"])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.shift_id, a.person_id) == (shifts[1].pk, duty.cadres[1].pk)
    assert (b.shift_id, b.person_id) == (shifts[0].pk, duty.cadres[2].pk)
    assert a.starts_at == shifts[1].starts_at
    assert history_of(a).filter(action="update").exists()

    # Zhou stands 08–16 at the guard point, and 12–20 the next day at the checkpoint; Wu
    # stands 08–16 the next day at the guard point. Trading would put Zhou at two places.
    next_day = day + dt.timedelta(days=1)
    guard_2 = services.roster_build(place=duty.guard, day=next_day)
    checkpoint_2 = services.roster_build(place=duty.checkpoint, day=next_day)
    zhou, wu = duty.cadres[4], duty.cadres[5]
    e = services.shift_assign(shift=shifts[0], person=zhou)
    services.shift_assign(shift=checkpoint_2[0], person=zhou)
    g = services.shift_assign(shift=guard_2[0], person=wu)
    with pytest.raises(DomainError, match="already on duty at 北路卡口"):
        services.assignment_swap(assignment=e, other=g)
    assert Assignment.objects.get(pk=e.pk).shift_id == shifts[0].pk
    assert Assignment.objects.get(pk=g.pk).shift_id == guard_2[0].pk


def test_a_checked_in_shift_can_be_neither_moved_nor_taken_away(duty, tree):
    place, day = place_now(tree.grids[0], "现在卡口", chief=duty.cadres[0])
    [now_shift, *_] = services.roster_build(place=place, day=day)
    a = services.shift_assign(shift=now_shift, person=duty.cadres[1])
    services.duty_check_in(assignment=a)
    with pytest.raises(DomainError, match="already checked in"):
        services.assignment_remove(assignment=a)
    with pytest.raises(DomainError, match="already checked in"):
        services.assignment_transfer(assignment=a, person=duty.cadres[2])
    assert Assignment.objects.filter(pk=a.pk, person=duty.cadres[1]).exists()


# --------------------------------------------------------------------------------------------
# Gaps a day ahead
# --------------------------------------------------------------------------------------------


def test_gaps_of_tomorrow_list_short_and_unbuilt_shifts(duty, tree):
    day = tomorrow()
    guard = services.roster_build(place=duty.guard, day=day)  # 3 shifts of 2
    services.shift_assign(shift=guard[0], person=duty.cadres[1])
    services.shift_assign(shift=guard[0], person=duty.cadres[2])
    services.shift_assign(shift=guard[1], person=duty.cadres[3])
    cp = services.roster_build(place=duty.checkpoint, day=day)  # 3 shifts of 1
    for shift, person in zip(cp, duty.cadres[4:7], strict=True):
        services.shift_assign(shift=shift, person=person)
    gaps = queries.roster_gaps(tree.users["street"], tree.street, day)
    found = [(g.place.name, g.index, g.rostered, g.required, g.built) for g in gaps]
    assert sorted(found) == sorted(
        [
            ("1号楼东门值守点", 1, 1, 2, True),  # 16–24: one of two
            ("1号楼东门值守点", 2, 0, 2, True),  # 00–08: nobody
            ("3号楼值守点", 0, 0, 2, False),  # the other grid's place has no roster yet
            ("3号楼值守点", 1, 0, 2, False),
            ("3号楼值守点", 2, 0, 2, False),
        ]
    )
    assert sum(g.missing for g in gaps) == 1 + 2 + 6
    # The first grid's chief sees only the first grid's gaps.
    mine = queries.roster_gaps(tree.users["grid"], tree.grids[0], day)
    assert {g.place.name for g in mine} == {"1号楼东门值守点"}
    # And the daily figures of tomorrow say the same per grid.
    figures = queries.daily_figures(day, [g.pk for g in tree.grids])
    assert figures[tree.grids[0].pk]["shifts_filled"] == 4  # guard 08–16, three checkpoint
    assert figures[tree.grids[0].pk]["shift_gaps"] == 2
    assert figures[tree.grids[1].pk]["shift_gaps"] == 3


# --------------------------------------------------------------------------------------------
# Check-in and check-out
# --------------------------------------------------------------------------------------------


def test_check_in_is_idempotent_by_client_id(duty, tree):
    place, day = place_now(tree.grids[0], "现在卡口")
    [now_shift, later, *_] = services.roster_build(place=place, day=day)
    a = services.shift_assign(shift=now_shift, person=duty.cadres[1])
    key = uuid.uuid4()
    first = services.duty_check_in(assignment=a, client_id=key)
    again = services.duty_check_in(assignment=a, client_id=key)
    assert again.pk == first.pk
    assert CheckEvent.objects.filter(assignment=a, kind="in").count() == 1
    with pytest.raises(DomainError, match="already checked in"):
        services.duty_check_in(assignment=a, client_id=uuid.uuid4())
    with pytest.raises(DomainError, match="another record"):
        services.duty_check_out(assignment=a, client_id=key)
    # Too early for the next shift; a check-out needs a check-in.
    b = services.shift_assign(shift=later, person=duty.cadres[2])
    with pytest.raises(DomainError, match="Too early"):
        services.duty_check_in(assignment=b)
    with pytest.raises(DomainError, match="has not checked in"):
        services.duty_check_out(assignment=b)
    # The handover note is shown to the shift after.
    services.duty_check_out(assignment=a, note="东门闸杆已修好", client_id=uuid.uuid4())
    rows = queries.place_roster(place, day)
    assert [e.note for e in rows[1].handover] == ["东门闸杆已修好"]
    assert rows[0].checked_in == 1


# --------------------------------------------------------------------------------------------
# Sending down, recall, the three-cadre rule
# --------------------------------------------------------------------------------------------


def test_communities_with_fewer_than_three_extra_cadres_are_listed(duty, tree):
    today = timezone.localdate()
    until = today + dt.timedelta(days=14)
    services.dispatch_create(
        persons=duty.cadres[:3],
        kind="sent_down",
        starts_on=today,
        ends_on=until,
        node=tree.grids[0],
    )
    services.dispatch_create(
        persons=duty.cadres[3:5], kind="sent_down", starts_on=today, ends_on=until, place=duty.far
    )  # into the second grid
    street = tree.users["street"]
    short = queries.communities_short(street, tree.street)
    assert [(c.community, c.cadres, c.short) for c in short] == [(tree.communities[1], 0, 3)]
    services.dispatch_create(
        persons=duty.cadres[5:6], kind="reserve", starts_on=today, ends_on=until, node=tree.grids[2]
    )  # the second community
    cover = {c.community: c.cadres for c in queries.extra_cadres(street, tree.street)}
    assert cover == {tree.communities[0]: 5, tree.communities[1]: 1}
    # A recall takes effect today; with a rule of 5 the first community is short by one.
    first = Deployment.objects.get(person=duty.cadres[0])
    services.deployment_recall(deployment=first, reason="原单位工作需要")
    with override_settings(BASTION_MIN_EXTRA_CADRES=5):
        short = queries.communities_short(street, tree.street)
    assert [(c.community, c.short) for c in short] == [
        (tree.communities[0], 1),
        (tree.communities[1], 4),
    ]
    # The daily figures count the persons on duty per grid.
    figures = queries.daily_figures(today, [g.pk for g in tree.grids])
    assert [figures[g.pk]["extra_cadres"] for g in tree.grids] == [2, 2, 1, 0]


def test_a_dispatch_names_each_person_already_sent_or_unavailable(duty, tree):
    today = timezone.localdate()
    services.dispatch_create(
        persons=duty.cadres[:2],
        kind="sent_down",
        starts_on=today,
        ends_on=today + dt.timedelta(days=7),
        node=tree.grids[0],
    )
    services.availability_set(person=duty.cadres[2], status="unavailable", note="住院")
    count = Deployment.objects.count()
    with pytest.raises(DomainError) as refused:
        services.dispatch_create(
            persons=duty.cadres[1:4],
            kind="reserve",
            starts_on=today + dt.timedelta(days=3),
            ends_on=today + dt.timedelta(days=10),
            node=tree.grids[1],
        )
    messages = [p.message for p in refused.value.problems]
    assert len(messages) == 2
    assert "钱二" in messages[0] and "网格1-1" in messages[0]
    assert "孙三" in messages[1] and "not available" in messages[1]
    assert Deployment.objects.count() == count
    with pytest.raises(DomainError, match="community, grid, building or unit"):
        services.dispatch_create(
            persons=duty.cadres[4:5],
            kind="reserve",
            starts_on=today,
            ends_on=today,
            node=tree.street,
        )


# --------------------------------------------------------------------------------------------
# Report-in
# --------------------------------------------------------------------------------------------


def test_report_in_is_idempotent_by_id_number_and_confirmed_into_a_person(duty, tree):
    resident = Resident.objects.filter(community=tree.communities[0]).order_by("pk").first()
    form = dict(
        community=tree.communities[0],
        name=resident.name,
        id_number=resident.id_number,
        phone="13912345678",
        employer_name="东丰县教育局",
        skills=["driver", "medic"],
        source_key="k",
    )
    row, created = services.report_in_submit(**form)
    again, created_again = services.report_in_submit(**form)
    assert (created, created_again, again.pk) == (True, False, row.pk)
    # Someone else with the number: answered as received, nothing written (see the API test).
    other, created_other = services.report_in_submit(**{**form, "name": "别人", "source_key": "x"})
    elsewhere, _ = services.report_in_submit(**{**form, "community": tree.communities[1]})
    assert (created_other, other.pk, elsewhere.pk) == (False, row.pk, row.pk)
    assert ReportIn.objects.count() == 1

    services.report_in_confirm(
        report_in=row,
        actor=tree.users["community"],
        role="building_chief",
        post_node=tree.buildings[1],
        task="入户敲门排查",
    )
    row.refresh_from_db()
    person = row.person
    assert (row.status, person.kind, person.party_member) == ("confirmed", "party_member", True)
    assert person.home_id == resident.household_id and person.building_id == resident.building_id
    assert sorted(person.skills.values_list("skill", flat=True)) == ["driver", "medic"]
    assert row.post.role == "building_chief" and row.post.node_id == tree.buildings[1].pk
    with pytest.raises(DomainError, match="already"):
        services.report_in_reject(report_in=row, reason="重复")


@override_settings(BASTION_REPORT_IN_PER_HOUR=2)
def test_too_many_registrations_from_one_address_are_refused(tree):
    def submit(i):
        return services.report_in_submit(
            community=tree.communities[0],
            name=f"党员{i}",
            id_number=make_id_number("220421", dt.date(1980, 1, 1 + i), i),
            phone="13912345678",
            source_key="same-address",
        )

    submit(1)
    submit(2)
    with pytest.raises(services.TooManyReports):
        submit(3)
    assert ReportIn.objects.count() == 2


# --------------------------------------------------------------------------------------------
# Organisations at sites
# --------------------------------------------------------------------------------------------


def test_a_temporary_branch_is_bound_to_a_place_and_takes_party_members(duty, tree):
    with pytest.raises(DomainError, match="set up at a place"):
        services.team_create(kind="branch", name="无址支部", node=tree.grids[0])
    branch = services.team_create(kind="branch", name="东门值守点临时党支部", place=duty.guard)
    assert branch.organisation.temporary and branch.organisation.kind == "party_org"
    assert branch.building_id == tree.buildings[0].pk
    services.team_member_add(team=branch, person=duty.cadres[0], title="书记")  # party member
    with pytest.raises(DomainError, match="Only party members"):
        services.team_member_add(team=branch, person=duty.cadres[1])
    with pytest.raises(DomainError, match="already a member"):
        services.team_member_add(team=branch, person=duty.cadres[0])
    shock = services.team_create(kind="shock_team", name="突击队", node=tree.communities[0])
    services.team_member_add(team=shock, person=duty.cadres[1])
    services.team_member_add(team=shock, person=duty.cadres[2])
    member = TeamMember.objects.get(team=shock, person=duty.cadres[2])
    services.team_member_remove(member=member)
    counts = queries.team_counts(tree.users["street"], tree.street)
    assert counts[0]["counts"]["branch"] == (1, 1)
    assert counts[0]["counts"]["shock_team"] == (1, 1)
    first = next(c for c in counts if c["node"] == tree.communities[0])
    assert first["counts"]["branch"] == (1, 1)


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------


def _past_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=40)).replace(day=1)


def _checked_in(place, person, day: dt.date, index: int = 0) -> None:
    """A shift of a past day with the person checked in, written as it would have been."""
    times = {i: (s, e) for i, s, e in place.shift_times(day)}
    shift, _ = Shift.objects.get_or_create(
        place=place,
        day=day,
        index=index,
        defaults=dict(
            starts_at=times[index][0],
            ends_at=times[index][1],
            required=2,
            **{
                f"{lv}_id": getattr(place, f"{lv}_id")
                for lv in ("city", "district", "street", "community", "grid", "building", "unit")
            },
        ),
    )
    a = Assignment(shift=shift, person=person, starts_at=shift.starts_at, ends_at=shift.ends_at)
    a.locate(shift)
    a.save()
    e = CheckEvent(assignment=a, kind="in", day=day, at=shift.starts_at)
    e.locate(a)
    e.save()


@pytest.fixture
def month(duty, tree):
    """A hand-built past month of the street: zhao stands 3 days at the guard point (100 a
    day) and on the 2nd also a checkpoint shift (200): paid 200 that day, once; qian 2 days
    at the checkpoint; sun (employed by a bureau) holds the first grid's chief post for the
    last 10 days of the month (1500 a month); a grid star of 500 for qian."""
    first = _past_month()
    bureau = Organisation.objects.create(name="东丰县教育局", kind="government")
    office = Organisation.objects.create(name="测试街道办事处", kind="government")
    Person.objects.filter(pk=duty.cadres[2].pk).update(employer=bureau)
    zhao, qian, sun = duty.cadres[0], duty.cadres[1], duty.cadres[2]
    for d in (1, 2, 3):
        _checked_in(duty.guard, zhao, first + dt.timedelta(days=d - 1))
    _checked_in(duty.checkpoint, zhao, first + dt.timedelta(days=1), index=1)
    _checked_in(duty.checkpoint, qian, first + dt.timedelta(days=4))
    _checked_in(duty.checkpoint, qian, first + dt.timedelta(days=5))
    _, last = services.month_bounds(first)
    people_services.post_assign(
        person=sun, role="grid_chief", node=tree.grids[0], started_on=last - dt.timedelta(days=9)
    )
    m = services.allowance_month_open(
        node=tree.street, month=first, payer=office, actor=tree.users["street"]
    )
    services.award_grant(
        month=m, person=qian, title="网格之星", amount="500", node=tree.grids[0], awarded_on=last
    )
    return m


def test_allowance_totals_of_a_hand_built_month(month, duty):
    services.allowance_month_compute(month=month)
    lines = {
        (ln.person.name, ln.kind, ln.key): (ln.days, ln.rate, ln.amount, ln.payer.name)
        for ln in AllowanceLine.objects.filter(month=month).select_related("person", "payer")
    }
    _, last = services.month_bounds(month.month)
    days = last.day
    monthly = (Decimal("1500") * 10 / days).quantize(Decimal("0.01"))
    assert lines == {
        ("赵一", "daily", "guard_point"): (
            2,
            Decimal("100.00"),
            Decimal("200.00"),
            "测试街道办事处",
        ),
        ("赵一", "daily", "checkpoint"): (
            1,
            Decimal("200.00"),
            Decimal("200.00"),
            "测试街道办事处",
        ),
        ("钱二", "daily", "checkpoint"): (
            2,
            Decimal("200.00"),
            Decimal("400.00"),
            "测试街道办事处",
        ),
        ("钱二", "award", "网格之星"): (0, Decimal("500.00"), Decimal("500.00"), "测试街道办事处"),
        ("孙三", "monthly", "post:grid_chief"): (10, Decimal("1500.00"), monthly, "东丰县教育局"),
    }
    ledger = queries.month_ledger(month)
    assert ledger["total"] == Decimal("1300.00") + monthly
    assert {p["payer"]: p["total"] for p in ledger["payers"]} == {
        "测试街道办事处": Decimal("1300.00"),
        "东丰县教育局": monthly,
    }
    zhao = next(p for p in ledger["persons"] if p.name == "赵一")
    assert (zhao.days, zhao.daily, zhao.total) == (3, Decimal("400.00"), Decimal("400.00"))
    # A new rate changes the next computation.
    services.allowance_rate_set(month=month, key="guard_point", amount="120")
    services.allowance_month_compute(month=month)
    assert queries.month_ledger(month)["total"] == Decimal("1340.00") + monthly


def test_a_closed_month_cannot_change(month, duty, tree):
    services.allowance_month_close(month=month, actor=tree.users["street"])
    month.refresh_from_db()
    assert month.status == "closed" and month.closed_at is not None
    total = queries.month_ledger(month)["total"]
    # The services refuse, naming the month.
    for attempt in (
        lambda: services.allowance_month_compute(month=month),
        lambda: services.allowance_month_close(month=month),
        lambda: services.allowance_rate_set(month=month, key="checkpoint", amount="1"),
        lambda: services.award_grant(month=month, person=duty.cadres[0], title="奖", amount=1),
        lambda: services.allowance_payer_set(month=month, payer=None),
    ):
        with pytest.raises(DomainError, match="closed"):
            attempt()
    # And so does the database, whoever writes.
    line = AllowanceLine.objects.filter(month=month).first()
    for write in (
        lambda: AllowanceLine.objects.filter(month=month).update(amount=0),
        lambda: AllowanceLine.objects.filter(pk=line.pk).delete(),
        lambda: AllowanceLine.objects.create(
            month=month, person=duty.cadres[0], kind="award", key="补", rate=1, amount=1
        ),
        lambda: AllowanceRate.objects.filter(month=month).update(amount=999),
        lambda: Award.objects.filter(month=month).update(amount=1),
        lambda: type(month).objects.filter(pk=month.pk).update(status="open", closed_at=None),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            write()
    assert queries.month_ledger(month)["total"] == total
    assert history_of(month).filter(action="update").exists()


def test_a_month_cannot_overlap_another_ledger_nor_close_before_its_end(month, tree):
    with pytest.raises(DomainError, match="already keeps the ledger"):
        services.allowance_month_open(node=tree.grids[0], month=month.month)
    current = services.allowance_month_open(node=tree.street, month=timezone.localdate())
    with pytest.raises(DomainError, match="not over yet"):
        services.allowance_month_close(month=current)


def test_a_shift_belongs_to_the_duty_day_it_started_on():
    import datetime as dt

    from django.utils import timezone

    from bastion.people.mobilization.models import Place

    zone = timezone.get_current_timezone()
    at = dt.datetime(2022, 4, 10, 2, 0, tzinfo=zone)  # 2 a.m.
    assert Place(first_shift_at=dt.time(8)).duty_day(at) == dt.date(2022, 4, 9)
    assert Place(first_shift_at=dt.time(0)).duty_day(at) == dt.date(2022, 4, 10)
    morning = dt.datetime(2022, 4, 10, 8, 0, tzinfo=zone)
    assert Place(first_shift_at=dt.time(8)).duty_day(morning) == dt.date(2022, 4, 10)
    # The server's clock in UTC: 18:30 UTC is 02:30 in Shanghai, the night shift of the 9th.
    utc = dt.datetime(2022, 4, 9, 18, 30, tzinfo=dt.UTC)
    assert Place(first_shift_at=dt.time(8)).duty_day(utc) == dt.date(2022, 4, 9)
