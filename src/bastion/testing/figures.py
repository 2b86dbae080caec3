"""Testing's figures in the daily report (issue 17 §4), per grid, each one GROUP BY grid_id:

* sampled: swabs taken on the day (residents and walk-ins, first samples, not voided);
* due and covered in the running rounds: residents at home in the area of a round running on
  the day, and those of them sampled in it by the day's end (coverage = covered / due);
* positive: people whose tube came back positive on the day;
* retests pending: people of a positive pool still to be sampled again at the day's end."""

import datetime as dt
from functools import reduce
from operator import or_

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.geo.models import Presence, Resident
from bastion.testing.results.models import Retest
from bastion.testing.rounds.models import Round
from bastion.testing.scans.models import Result, Scan, ScanKind

FIGURES = {
    "tested_sampled": _("Sampled today"),
    "tested_due": _("Due in the running rounds"),
    "tested_covered": _("Sampled in the running rounds"),
    "tested_positive": _("Positive results"),
    "retests_pending": _("Retests pending"),
}


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, start + dt.timedelta(days=1)


def _by_grid(rows, **aggregate) -> dict[int, int]:
    (key,) = aggregate
    return {r["grid_id"]: r[key] for r in rows.order_by().values("grid_id").annotate(**aggregate)}


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    start, end = _bounds(day)
    first = Scan.objects.filter(grid_id__in=grid_ids, retest=False, voided_at__isnull=True)
    found: dict[str, dict[int, int]] = {
        "tested_sampled": _by_grid(first.filter(at__gte=start, at__lt=end), n=Count("id")),
        "tested_positive": _by_grid(
            Scan.objects.filter(
                grid_id__in=grid_ids,
                voided_at__isnull=True,
                result=Result.POSITIVE,
                tube__resulted_at__gte=start,
                tube__resulted_at__lt=end,
            ),
            n=Count("id"),
        ),
        "retests_pending": _by_grid(
            Retest.objects.filter(grid_id__in=grid_ids, created_at__lt=end).filter(
                Q(sampled_at__isnull=True) | Q(sampled_at__gte=end)
            ),
            n=Count("id"),
        ),
    }
    running = list(
        Round.objects.filter(starts_at__lt=end, ends_at__gte=start).select_related("node")
    )
    if running:
        areas = reduce(or_, (Q(**{f"{r.node.level}_id": r.node_id}) for r in running))
        found["tested_due"] = _by_grid(
            Resident.objects.filter(areas, grid_id__in=grid_ids, presence=Presence.HOME),
            n=Count("id"),
        )
        found["tested_covered"] = _by_grid(
            first.filter(round__in=running, kind=ScanKind.RESIDENT, at__lt=end),
            n=Count("resident_id", distinct=True),
        )
    out: dict[int, dict[str, int]] = {}
    for key, per_grid in found.items():
        for grid_id, n in per_grid.items():
            if grid_id is not None:
                out.setdefault(grid_id, {})[key] = n
    return out
