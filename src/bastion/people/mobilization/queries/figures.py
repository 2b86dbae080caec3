"""Mobilization's figures in the daily report (registered with `reports.registry`)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy

from bastion.people.mobilization.models import (
    CheckEvent,
    CheckKind,
    Deployment,
    Place,
    Shift,
)
from bastion.people.mobilization.queries.common import active_on

FIGURES = {
    "extra_cadres": gettext_lazy("Extra cadres on duty"),
    "shifts_filled": gettext_lazy("Shifts filled"),
    "shift_gaps": gettext_lazy("Shift gaps"),
    "check_ins": gettext_lazy("Check-ins"),
}


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Mobilization's figures of each grid for `day`: persons sent down to it (or to a
    place or building in it) on duty that day; the day's shifts at its places that have all
    their people, and those short of people or not built at all; check-ins on that day's
    shifts. One GROUP BY on grid_id per table (rows on a community itself have no grid and
    count only in the rule check)."""
    result = {gid: dict.fromkeys(FIGURES, 0) for gid in grid_ids}
    for gid, n in (
        Deployment.objects.filter(active_on(day), grid_id__in=grid_ids)
        .values("grid_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("grid_id", "n")
    ):
        result[gid]["extra_cadres"] = n
    built = defaultdict(int)
    for s in (
        Shift.objects.filter(day=day, grid_id__in=grid_ids)
        .values("pk", "grid_id", "place_id", "required")
        .annotate(n=Count("assignments"))
    ):
        key = "shifts_filled" if s["n"] >= s["required"] else "shift_gaps"
        result[s["grid_id"]][key] += 1
        built[s["place_id"]] += 1
    places = (
        Place.objects.filter(grid_id__in=grid_ids, opened_on__lte=day)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=day))
        .values_list("pk", "grid_id", "shifts_per_day")
    )
    for pk, gid, per_day in places:
        result[gid]["shift_gaps"] += max(per_day - built[pk], 0)
    for gid, n in (
        CheckEvent.objects.filter(day=day, kind=CheckKind.IN, grid_id__in=grid_ids)
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    ):
        result[gid]["check_ins"] = n
    return result
