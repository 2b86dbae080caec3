"""The service station's reads: today's figures and visits at a station, and the daily
figure "drivers served" per grid for the report registry."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.checkpoints.station.models import StationVisit

FIGURES = {"station_drivers": _("Drivers served at service stations")}


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


@dataclass
class Today:
    visits: int = 0
    resting: int = 0  # here now (not left)
    meals: int = 0
    tested: int = 0


def station_today(place, day: dt.date) -> Today:
    """A station's figures of `day`: visits, drivers still here, meals served, tests taken
    (one aggregate query)."""
    start, end = _bounds(day)
    row = StationVisit.objects.filter(
        place=place, arrived_at__gte=start, arrived_at__lt=end
    ).aggregate(
        visits=Count("id"),
        resting=Count("id", filter=Q(left_at__isnull=True)),
        meals=Sum("meals"),
        tested=Count("id", filter=Q(tested=True)),
    )
    return Today(**{k: v or 0 for k, v in row.items()})


def station_visits(place, limit: int = 50):
    return list(StationVisit.objects.filter(place=place).select_related("loop_pass")[:limit])


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid: the visits of drivers to service stations on `day` (one GROUP BY)."""
    start, end = _bounds(day)
    rows = (
        StationVisit.objects.filter(grid_id__in=grid_ids, arrived_at__gte=start, arrived_at__lt=end)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("id"))
    )
    return {r["grid_id"]: {"station_drivers": r["n"]} for r in rows}
