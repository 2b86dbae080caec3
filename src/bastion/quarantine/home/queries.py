"""Reads of the home measures shared by the pages, the API and the daily report: who is at home
now, what is still due today (the grid chief's list), the checks missed (a half-day whose slot
has passed without a report), listed up the tree, and the daily figures."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.quarantine.home.models import HomeMeasure, HomeReport
from bastion.quarantine.models import Half

# A half-day's report is missed once its slot has passed: the morning's at noon, the
# afternoon's at 20:00 (local time).
SLOT_ENDS = {Half.MORNING: dt.time(12, 0), Half.AFTERNOON: dt.time(20, 0)}
FIGURES = {"home_now": _("At home now"), "home_checks_missed": _("Home checks missed")}


def slot_passed(day: dt.date, half: str, at: dt.datetime) -> bool:
    end = timezone.make_aware(dt.datetime.combine(day, SLOT_ENDS[half]))
    return end <= at


def current_q(day: dt.date) -> Q:
    return Q(ended_at__isnull=True, starts_on__lte=day, ends_on__gte=day)


def measures_current(user, *, day: dt.date | None = None):
    day = day or timezone.localdate()
    return (
        HomeMeasure.objects.restrict(user, scope.VIEW)
        .filter(current_q(day))
        .select_related("grid", "community", "household", "grid_chief")
        .order_by("grid__path", "node__path", "pk")
    )


@dataclass
class Due:
    measure: HomeMeasure
    halves: list[str] = field(default_factory=list)  # still to report today
    test_today: bool = False

    @property
    def day_number(self) -> int:
        return (timezone.localdate() - self.measure.starts_on).days + 1


def due_today(user, *, at: dt.datetime | None = None) -> list[Due]:
    """The people at home whose reports of today are not all in (and whose test is due today),
    for the grid chief's phone: one row per person, the halves still to report."""
    at = at or timezone.now()
    day = timezone.localdate(at)
    measures = list(measures_current(user, day=day))
    done = set(
        HomeReport.objects.filter(measure__in=[m.pk for m in measures], day=day).values_list(
            "measure_id", "half"
        )
    )
    rows = []
    for m in measures:
        halves = [h for h in Half.values if (m.pk, h) not in done]
        test = (day - m.starts_on).days + 1 in m.test_day_numbers()
        if halves or test:
            rows.append(Due(m, halves, test))
    return rows


@dataclass(frozen=True)
class Missed:
    measure: HomeMeasure
    day: dt.date
    half: str


def missed(user, *, since: dt.date, at: dt.datetime | None = None) -> list[Missed]:
    """Every half-day from `since` whose slot passed without a report, of the measures `user`
    sees, ordered up the tree (community, grid, person, day)."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    measures = list(
        HomeMeasure.objects.restrict(user, scope.VIEW)
        .filter(starts_on__lte=today, ends_on__gte=since)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__date__gte=since))
        .select_related("community", "grid")
        .order_by("community__path", "grid__path", "pk")
    )
    done = set(
        HomeReport.objects.filter(measure__in=[m.pk for m in measures], day__gte=since).values_list(
            "measure_id", "day", "half"
        )
    )
    rows = []
    for m in measures:
        until = min(at, m.ended_at) if m.ended_at else at
        day = max(since, m.starts_on)
        while day <= min(m.ends_on, timezone.localdate(until)):
            for half in Half.values:
                if slot_passed(day, half, until) and (m.pk, day, half) not in done:
                    rows.append(Missed(m, day, half))
            day += dt.timedelta(days=1)
    return rows


def missed_by_area(rows: list[Missed]) -> list[tuple]:
    """The missed checks counted per community and grid: (community, grid, count)."""
    counts = Counter((r.measure.community, r.measure.grid) for r in rows)
    return [(c, g, n) for (c, g), n in counts.items()]


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid, at the end of `day` (or now, for today): the people at home under a measure,
    and the half-day reports missed that day (slots passed less reports made)."""
    now = timezone.now()
    end_of_day = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
    at = min(now, end_of_day)
    slots = sum(1 for h in Half.values if slot_passed(day, h, at))
    active = HomeMeasure.objects.filter(
        grid_id__in=grid_ids, starts_on__lte=day, ends_on__gte=day
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=end_of_day))
    out: dict[int, dict[str, int]] = {}
    for row in active.values("grid_id").annotate(n=Count("pk")):
        out[row["grid_id"]] = {"home_now": row["n"], "home_checks_missed": row["n"] * slots}
    reports = (
        HomeReport.objects.filter(measure__in=active.values("pk"), day=day)
        .filter(half__in=[h for h in Half.values if slot_passed(day, h, at)])
        .values("measure__grid_id")
        .annotate(n=Count("pk"))
    )
    for row in reports:
        figures = out.get(row["measure__grid_id"])
        if figures:
            figures["home_checks_missed"] -= row["n"]
    return out
