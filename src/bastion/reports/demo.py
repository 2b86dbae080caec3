"""Two weeks of daily reports for the demo street, so the dashboard shows trends on first start.

`build_demo` runs after the street (and the screening demo, if any) exists. Each of the 14 past
days is computed with every registered module's figures for that day and frozen at its freeze
moment; the grids' submissions are mostly on time, some late, a few missing. Today stays live,
with part of the grids submitted. Deterministic for a given `rng` seed and `today`.

Freezing is per day for the whole tree, so with several demo streets call it once per street
after all of them exist: the first call computes and freezes every grid's days, later calls add
their own grids' submissions.
"""

import datetime as dt
import random

from django.utils import timezone

from bastion.accounts.models import RoleAssignment
from bastion.geo.models import Node
from bastion.reports.models import DailyFigure, GridReport
from bastion.reports.services import freeze_moment, report_compute, report_freeze

PAST_DAYS = 14
LATE_SHARE = 0.08
MISSING_SHARE = 0.04
TODAY_SUBMITTED_SHARE = 0.6


def _at(day: dt.date, minutes: int) -> dt.datetime:
    naive = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(minutes=minutes)
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _submit(reports: list[GridReport], when: dict[int, dt.datetime], chiefs: dict) -> None:
    """Mark the grids' reports submitted at the given moments (one multi-row update)."""
    changed = []
    for report in reports:
        if report.grid_id in when:
            report.submitted_at = when[report.grid_id]
            report.submitted_by_id = chiefs.get(report.grid_id)
            report.late = report.submitted_at > freeze_moment(report.day)
            changed.append(report)
    GridReport.objects.bulk_update(changed, ["submitted_at", "submitted_by", "late"])


def build_demo(street: Node, rng: random.Random, today: dt.date) -> dict:
    grids = list(
        Node.objects.filter(level="grid", street_id=street.pk)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    chiefs = dict(
        RoleAssignment.objects.filter(role="grid_chief", node_id__in=grids)
        .order_by("node_id", "user_id")
        .values_list("node_id", "user_id")
    )
    counts = {
        "report_days": 0,
        "frozen_days": 0,
        "on_time": 0,
        "late": 0,
        "missing": 0,
        "submitted_today": 0,
    }
    for back in range(PAST_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        freeze = freeze_moment(day)
        report_freeze(day=day, now=freeze)
        when = {}
        for grid in grids:
            draw = rng.random()
            if draw < MISSING_SHARE:
                counts["missing"] += 1
            elif draw < MISSING_SHARE + LATE_SHARE:
                when[grid] = freeze + dt.timedelta(minutes=rng.randint(5, 14 * 60))
                counts["late"] += 1
            else:
                when[grid] = freeze - dt.timedelta(minutes=rng.randint(1, 5 * 60))
                counts["on_time"] += 1
        _submit(list(GridReport.objects.filter(day=day, grid_id__in=grids)), when, chiefs)
        counts["report_days"] += 1
        counts["frozen_days"] += 1

    # Today: live, computed as the demo starts, part of the grids already submitted.
    now = timezone.now()
    if timezone.localdate(now) != today:
        now = _at(today, 12 * 60)
    report_compute(day=today, node=street, now=now)
    counts["report_days"] += 1
    start = _at(today, 8 * 60)
    if now > start:
        span = int((min(now, freeze_moment(today)) - start).total_seconds() // 60)
        when = {
            grid: start + dt.timedelta(minutes=rng.randint(0, max(span - 1, 0)))
            for grid in grids
            if rng.random() < TODAY_SUBMITTED_SHARE
        }
        _submit(list(GridReport.objects.filter(day=today, grid_id__in=grids)), when, chiefs)
        counts["submitted_today"] = len(when)
    counts["figure_rows"] = DailyFigure.objects.filter(street_id=street.pk).count()
    return counts
