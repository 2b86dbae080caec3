"""Freezing: yesterday's report never changes after today's work; late and missing reports."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.reports import queries, services
from bastion.reports.models import DailyFigure, GridReport, ReportDay
from bastion.reports.tasks import (
    next_tick,
    report_compute_task,
    report_freeze_task,
    report_schedule,
    report_tick_task,
)
from bastion.reports.tests.conftest import DAY
from bastion.reports.tests.helpers import at

YESTERDAY, TODAY = DAY - dt.timedelta(days=1), DAY


def rows_of(day: dt.date) -> list[tuple]:
    return list(
        DailyFigure.objects.filter(day=day)
        .order_by("grid_id", "key")
        .values_list("grid_id", "key", "value", "community_id", "street_id")
    )


def add_residents(tree, n: int) -> None:
    unit = tree.units[0]
    household = geo.household_create(unit=unit, room="901", floor=2)
    for i in range(n):
        geo.resident_create(
            household=household,
            name=f"新居民{i}",
            immobile=True,
            id_number=make_id_number("220421", dt.date(1950, 5, 5), 900 + i),
        )


def test_yesterday_frozen_is_not_changed_by_todays_work(tree, plugin):
    services.report_compute(day=YESTERDAY, now=at(YESTERDAY, 9))
    services.report_freeze(day=YESTERDAY, now=at(YESTERDAY, 20))
    frozen = rows_of(YESTERDAY)
    admin = tree.users["admin"]
    street_before = queries.day_totals(admin, tree.street, YESTERDAY)

    # Today: new residents, a submission, a recomputation of everything, a tick, and a
    # command-line compute of yesterday itself.
    add_residents(tree, 3)
    services.grid_report_submit(
        grid=tree.grids[0], day=TODAY, actor=tree.users["grid"], now=at(TODAY, 18)
    )
    services.report_compute(day=TODAY, now=at(TODAY, 19))
    result = services.report_compute(day=YESTERDAY, now=at(TODAY, 19))
    assert result.frozen and result.rows == 0
    services.report_freeze(day=YESTERDAY, now=at(TODAY, 21))
    services.report_tick(now=at(TODAY, 19, 30))

    assert rows_of(YESTERDAY) == frozen
    assert queries.day_totals(admin, tree.street, YESTERDAY) == street_before
    assert ReportDay.objects.get(day=YESTERDAY).frozen_at == at(YESTERDAY, 20)
    today = queries.day_totals(admin, tree.street, TODAY)
    assert today["residents"] == street_before["residents"] + 3
    assert today["immobile"] == street_before["immobile"] + 3
    # 3 more residents × 3, and one day later on each of the 4 grids.
    assert today["weighted"] == street_before["weighted"] + 3 * 3 + 4


def test_todays_report_is_live_until_the_freeze_hour(tree):
    services.report_compute(day=TODAY, now=at(TODAY, 9))
    add_residents(tree, 2)
    services.report_tick(now=at(TODAY, 19, 59))
    assert queries.day_totals(tree.users["admin"], tree.street, TODAY)["residents"] == 130
    assert not ReportDay.objects.get(day=TODAY).frozen
    frozen = services.report_tick(now=at(TODAY, 20, 0))
    assert frozen["frozen"] == [TODAY.isoformat()] and frozen["today_frozen"]
    at_freeze = rows_of(TODAY)
    household = geo.household_create(unit=tree.units[1], room="902", floor=2)
    geo.resident_create(
        household=household,
        name="晚到",
        id_number=make_id_number("220421", dt.date(1980, 1, 1), 990),
    )
    services.report_tick(now=at(TODAY, 23))
    assert rows_of(TODAY) == at_freeze


@override_settings(BASTION_REPORT_FREEZE_HOUR=18)
def test_the_freeze_hour_is_a_setting(tree):
    assert services.freeze_moment(TODAY) == at(TODAY, 18)
    services.report_compute(day=TODAY, now=at(TODAY, 9))
    assert services.report_freeze_due(now=at(TODAY, 17, 59)) == []
    assert services.report_freeze_due(now=at(TODAY, 18)) == [TODAY]


def test_freeze_due_catches_up_on_days_left_unfrozen(tree):
    for day in (TODAY - dt.timedelta(days=2), YESTERDAY):
        services.report_compute(day=day, now=at(day, 12))
    assert services.report_freeze_due(now=at(TODAY, 8)) == [TODAY - dt.timedelta(days=2), YESTERDAY]
    assert services.report_freeze_due(now=at(TODAY, 9)) == []


def test_a_day_not_begun_has_no_report(tree):
    with pytest.raises(DomainError) as e:
        services.report_compute(day=TODAY + dt.timedelta(days=1), now=at(TODAY, 23))
    assert e.value.problems[0].field == "day"


def grid_flags(tree, day, now):
    flags = queries.submission_flags(tree.users["admin"], tree.street, day, now)
    return flags["total"], flags["children"]


def test_late_and_missing_reports_are_flagged_per_node(tree):
    g11, g12, g21, _g22 = tree.grids
    services.report_compute(day=YESTERDAY, now=at(YESTERDAY, 8))
    services.grid_report_submit(
        grid=g11, day=YESTERDAY, actor=tree.users["grid"], now=at(YESTERDAY, 19, 59)
    )
    services.report_freeze(day=YESTERDAY, now=at(YESTERDAY, 20))
    frozen = rows_of(YESTERDAY)
    add_residents(tree, 1)
    late = services.grid_report_submit(
        grid=g12, day=YESTERDAY, actor=tree.users["other_grid"], now=at(TODAY, 8, 30)
    )
    assert late.late and late.submitted_by == tree.users["other_grid"]
    # After the freeze a submission changes no figure; it is in the change log.
    assert rows_of(YESTERDAY) == frozen
    assert ChangeLog.objects.filter(object_type="reports.gridreport", object_id=late.pk).exists()

    total, per_community = grid_flags(tree, YESTERDAY, at(TODAY, 9))
    assert total == {"on_time": 1, "late": 1, "missing": 2, "pending": 0}
    c1, c2 = tree.communities
    assert per_community[c1.pk] == {"on_time": 1, "late": 1, "missing": 0, "pending": 0}
    assert per_community[c2.pk] == {"on_time": 0, "late": 0, "missing": 2, "pending": 0}
    grid_level = queries.submission_flags(tree.users["admin"], g21, YESTERDAY, at(TODAY, 9))
    assert grid_level["total"]["missing"] == 1

    # Today, before the freeze hour, unsubmitted grids are pending, not missing.
    services.report_compute(day=TODAY, now=at(TODAY, 9))
    services.grid_report_submit(grid=g21, day=TODAY, actor=None, now=at(TODAY, 10))
    total, _ = grid_flags(tree, TODAY, at(TODAY, 10))
    assert total == {"on_time": 1, "late": 0, "missing": 0, "pending": 3}
    total, _ = grid_flags(tree, TODAY, at(TODAY, 20, 1))
    assert total == {"on_time": 1, "late": 0, "missing": 3, "pending": 0}


def test_a_submission_stands_once_the_freeze_moment_is_past(tree):
    grid = tree.grids[0]
    services.report_compute(day=YESTERDAY, now=at(YESTERDAY, 8))
    first = services.grid_report_submit(grid=grid, day=YESTERDAY, actor=None, now=at(YESTERDAY, 15))
    again = services.grid_report_submit(grid=grid, day=YESTERDAY, actor=None, now=at(YESTERDAY, 16))
    assert again.pk == first.pk and again.submitted_at == at(YESTERDAY, 16) and not again.late
    # Past the freeze hour, before the freeze has run: confirming again does not turn late.
    after = services.grid_report_submit(
        grid=grid, day=YESTERDAY, actor=None, now=at(YESTERDAY, 20, 5)
    )
    assert after.submitted_at == at(YESTERDAY, 16) and not after.late
    services.report_freeze(day=YESTERDAY, now=at(YESTERDAY, 20, 10))
    stands = services.grid_report_submit(grid=grid, day=YESTERDAY, actor=None, now=at(TODAY, 8))
    assert stands.submitted_at == at(YESTERDAY, 16) and not stands.late
    assert GridReport.objects.get(pk=first.pk).submitted_at == at(YESTERDAY, 16)
    # A late submission stands too (a retried request changes nothing).
    other = tree.grids[1]
    late = services.grid_report_submit(grid=other, day=YESTERDAY, actor=None, now=at(TODAY, 8))
    retry = services.grid_report_submit(grid=other, day=YESTERDAY, actor=None, now=at(TODAY, 9))
    assert late.late and retry.submitted_at == at(TODAY, 8)
    with pytest.raises(DomainError) as e:
        services.grid_report_submit(
            grid=tree.communities[0], day=TODAY, actor=None, now=at(TODAY, 8)
        )
    assert e.value.problems[0].field == "grid"


def test_submitting_before_the_freeze_refreshes_the_grids_figures(tree):
    grid = tree.grids[0]
    services.report_compute(day=TODAY, now=at(TODAY, 8))
    add_residents(tree, 1)  # on units[0], in grid 1-1
    services.grid_report_submit(grid=grid, day=TODAY, actor=None, now=at(TODAY, 9))
    admin = tree.users["admin"]
    assert queries.day_totals(admin, grid, TODAY)["residents"] == 33
    assert queries.day_totals(admin, tree.grids[1], TODAY)["residents"] == 32


def test_the_command_computes_and_freezes(tree, capsys):
    call_command("report", "compute", "--day", YESTERDAY.isoformat())
    out = capsys.readouterr().out
    assert f"{YESTERDAY}: 4 grids" in out and "(live)" in out
    call_command("report", "freeze", "--day", YESTERDAY.isoformat())
    assert "(frozen)" in capsys.readouterr().out
    call_command("report", "compute", "--day", YESTERDAY.isoformat())
    assert "is frozen; nothing changed" in capsys.readouterr().out
    call_command(
        "report", "compute", "--day", YESTERDAY.isoformat(), "--node", str(tree.communities[0].pk)
    )
    assert ReportDay.objects.get(day=YESTERDAY).frozen


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@override_settings(TASKS=IMMEDIATE)
def test_the_tasks_compute_and_freeze(tree):
    today = services.local_today()
    result = report_compute_task.enqueue(today.isoformat(), tree.communities[0].pk)
    assert result.return_value["grids"] == 2
    assert GridReport.objects.filter(day=today).count() == 2
    result = report_freeze_task.enqueue(today.isoformat())
    assert result.return_value["grids"] == 4 and ReportDay.objects.get(day=today).frozen
    # The immediate backend cannot run work later: nothing to schedule.
    assert report_schedule() is False


def test_the_tick_schedules_itself_once_on_the_database_queue(tree):
    from django_tasks_db.models import DBTaskResult

    now = at(TODAY, 19, 50)
    assert next_tick(now) == at(TODAY, 20)  # the freeze moment comes before the next quarter
    assert next_tick(at(TODAY, 10)) == at(TODAY, 10, 15)
    assert report_schedule(now=now) is True
    assert report_schedule(now=now) is False
    queued = DBTaskResult.objects.get(task_path=report_tick_task.module_path)
    assert queued.run_after == at(TODAY, 20) and queued.args_kwargs["kwargs"] == {
        "reschedule": True
    }
