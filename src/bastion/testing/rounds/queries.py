"""Reads of rounds, sites and stations shared by pages, API and reports. Every one takes the
user and goes through the scope: rows outside it are absent (404 for one row, left out of
lists)."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Func, IntegerField, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.scope import VIEW, get_scoped_or_404, seen_from_below_q
from bastion.geo.models import Node
from bastion.people.models import CHIEF_OF_LEVEL, Post
from bastion.testing.rounds.models import (
    Round,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
)
from bastion.testing.scans.models import Scan

BUCKET = dt.timedelta(minutes=10)


def one_or_404(queryset: QuerySet, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# ---------------------------------------------------------------------------------- rounds


def rounds_for(user, action: str = VIEW) -> QuerySet[Round]:
    """Rounds the user may see: over their area (scope) or over an area holding part of it
    (a grid chief sees the street's round to work their grid's missing list)."""
    return Round.objects.filter(seen_from_below_q(user, action)).select_related("node")


def round_for(user, pk: int, action: str = VIEW) -> Round:
    return one_or_404(rounds_for(user, action), pk=pk)


def round_state(round_: Round, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if now < round_.starts_at:
        return "planned"
    return "running" if now <= round_.ends_at else "ended"


# ------------------------------------------------------------------------------- throughput


def throughput(
    user, round_: Round, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict:
    """Scans per 10 minutes per site and per station (home teams as their own 'site'), from
    `since` (default: 6 hours before `until`, not before the round starts) to `until`
    (default now, not after the round ends). One grouped query, per minute, folded here."""
    until = min(until or timezone.now(), round_.ends_at)
    since = max(since or until - dt.timedelta(hours=6), round_.starts_at)
    start = _floor(since)
    buckets = []
    t = start
    while t <= until and len(buckets) < 1000:
        buckets.append(t)
        t += BUCKET
    stations = {s.pk: s for s in Station.objects.restrict(user).select_related("site")}
    width = int(BUCKET.total_seconds())
    rows = (
        Scan.objects.filter(
            round=round_, at__gte=start, at__lte=until, station_id__in=list(stations)
        )
        .annotate(slot=EpochSlot("at", width=width))
        .values("station_id", "slot")
        .annotate(n=Count("id"))
    )
    first = int(start.timestamp()) // width
    per_station: dict[int, list[int]] = defaultdict(lambda: [0] * len(buckets))
    for row in rows:
        slot = int(row["slot"]) - first
        if 0 <= slot < len(buckets):
            per_station[row["station_id"]][slot] += row["n"]
    per_site: dict[int | None, list[int]] = {}
    site_names: dict[int | None, str] = {}
    station_rows = []
    for sid in sorted(per_station, key=lambda i: (stations[i].site_id or 0, stations[i].name)):
        station, counts = stations[sid], per_station[sid]
        key = station.site_id
        site_names[key] = station.site.name if station.site else str(_("Home-sampling teams"))
        totals = per_site.setdefault(key, [0] * len(buckets))
        per_site[key] = [a + b for a, b in zip(totals, counts, strict=True)]
        station_rows.append(
            {
                "id": sid,
                "name": station.name,
                "site_id": key,
                "counts": counts,
                "total": sum(counts),
            }
        )
    return {
        "bucket_minutes": int(BUCKET.total_seconds() // 60),
        "buckets": [timezone.localtime(b).isoformat() for b in buckets],
        "sites": [
            {"id": k, "name": site_names[k], "counts": v, "total": sum(v)}
            for k, v in per_site.items()
        ],
        "stations": station_rows,
    }


def _floor(moment: dt.datetime) -> dt.datetime:
    width = int(BUCKET.total_seconds())
    return dt.datetime.fromtimestamp(int(moment.timestamp()) // width * width, tz=dt.UTC)


class EpochSlot(Func):
    """The number of the `width`-second slot since the epoch that a datetime falls in,
    computed by the database (one GROUP BY, no per-row Python)."""

    output_field = IntegerField()

    def __init__(self, expression, *, width: int):
        self.width = int(width)
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        template = f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {self.width})"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Stored as UTC text; '%%%%s' reaches SQLite as strftime's '%s' (seconds).
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {self.width})"
        return Func.as_sql(self, compiler, connection, template=template, **extra)


# ------------------------------------------------------------------------------------ sites


def sites_for(user, action: str = VIEW) -> QuerySet[Site]:
    return Site.objects.restrict(user, action).select_related("node")


def site_for(user, pk: int, action: str = VIEW) -> Site:
    return get_scoped_or_404(Site.objects.select_related("node"), user, action, pk=pk)


def stations_for(user, action: str = VIEW) -> QuerySet[Station]:
    return Station.objects.restrict(user, action).select_related("site")


def station_for(user, pk: int, action: str = VIEW) -> Station:
    return get_scoped_or_404(Station.objects.select_related("site"), user, action, pk=pk)


@dataclass
class SiteVacancies:
    leader: bool  # the site has no leader
    heads_needed: int
    heads: int
    stations_without_head: list[Station]

    @property
    def any(self) -> bool:
        return self.leader or self.heads < self.heads_needed or bool(self.stations_without_head)


def site_vacancies(sites: list[Site]) -> dict[int, SiteVacancies]:
    """Per site: a missing leader, fewer station heads than max(2, its stations), stations
    without their own head. Two queries for any number of sites."""
    ids = [s.pk for s in sites]
    stations: dict[int, list[Station]] = defaultdict(list)
    for st in Station.objects.filter(site_id__in=ids, kind=StationKind.FIXED).order_by("name"):
        stations[st.site_id].append(st)
    leaders, heads, headed = set(), defaultdict(int), set()
    for site_id, role, station_id in SitePost.objects.filter(
        site_id__in=ids,
        ended_on__isnull=True,
        role__in=[StaffRole.SITE_LEADER, StaffRole.STATION_HEAD],
    ).values_list("site_id", "role", "station_id"):
        if role == StaffRole.SITE_LEADER:
            leaders.add(site_id)
        else:
            heads[site_id] += 1
            headed.add(station_id)
    return {
        s.pk: SiteVacancies(
            leader=s.pk not in leaders,
            heads_needed=max(2, len(stations[s.pk])),
            heads=heads[s.pk],
            stations_without_head=[st for st in stations[s.pk] if st.pk not in headed],
        )
        for s in sites
    }


@dataclass
class SitePlan:
    site: Site
    stations: list[Station]
    posts: list[SitePost]
    buildings: list[Node]
    zones: list
    vacancies: SiteVacancies
    open_shifts: dict[int, Shift]


def site_plan(user, site: Site) -> SitePlan:
    """One site's plan (一点一方案): hours, stations, staff with vacancies, what it serves."""
    stations = list(Station.objects.filter(site=site).order_by("name", "pk"))
    posts = list(
        SitePost.objects.filter(site=site, ended_on__isnull=True)
        .select_related("person", "station")
        .order_by("role", "station__name", "pk")
    )
    order = {r: i for i, r in enumerate(StaffRole.values)}
    posts.sort(key=lambda p: (order[p.role], p.station.name if p.station else "", p.pk))
    areas = list(
        SiteArea.objects.filter(site=site)
        .select_related("building", "zone")
        .order_by("building__path", "zone__name")
    )
    shifts = {
        s.station_id: s
        for s in Shift.objects.filter(station__in=stations, closed_at__isnull=True).select_related(
            "round"
        )
    }
    return SitePlan(
        site=site,
        stations=stations,
        posts=posts,
        buildings=[a.building for a in areas if a.building_id],
        zones=[a.zone for a in areas if a.zone_id],
        vacancies=site_vacancies([site])[site.pk],
        open_shifts=shifts,
    )


def sites_serving(building: Node) -> QuerySet[Site]:
    """The sites that serve a building, directly or through its command zone."""
    return Site.objects.filter(
        Q(areas__building=building) | Q(areas__zone__memberships__building=building)
    ).distinct()


def chiefs_of(grid_ids: list[int]) -> dict[int, Post]:
    return {
        p.node_id: p
        for p in Post.objects.filter(
            node_id__in=grid_ids, role=CHIEF_OF_LEVEL["grid"], ended_on__isnull=True
        ).select_related("person")
    }
