"""Reads of mass testing shared by pages, API and reports. Every one takes the user and goes
through the scope: rows outside it are absent (404 for one row, left out of lists).

Counting never walks the tree: coverage is one GROUP BY on the child level's ancestor column
of the residents and one of the scans, filtered by the round's area column and the node's
own column(s)."""

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.scope import VIEW, get_scoped_or_404, root_node_ids, scope_q
from bastion.geo.identity import mask_id_number
from bastion.geo.models import Household, Node, Presence, Resident, child_level
from bastion.people.models import CHIEF_OF_LEVEL, Post, PostRole
from bastion.people.queries import building_notice
from bastion.testing.codes import resident_code
from bastion.testing.models import (
    Result,
    Retest,
    Round,
    Scan,
    ScanKind,
    Shift,
    Site,
    SiteArea,
    SitePost,
    StaffRole,
    Station,
    StationKind,
    Tube,
    TubeStatus,
    WalkIn,
)
from bastion.testing.services import barcode_text

BUCKET = dt.timedelta(minutes=10)


def _one(queryset: QuerySet, **lookup):
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# ---------------------------------------------------------------------------------- rounds


def _ancestor_paths(user) -> list[str]:
    """The paths of the user's role nodes and of all their ancestors."""
    paths = Node.objects.filter(pk__in=root_node_ids(user)).values_list("path", flat=True)
    step = Node.steplen
    return sorted({p[:i] for p in paths for i in range(step, len(p) + 1, step)})


def rounds_for(user, action: str = VIEW) -> QuerySet[Round]:
    """Rounds the user may see: over their area (scope) or over an area holding part of it
    (a grid chief sees the street's round to work their grid's missing list)."""
    q = scope_q(user, action)
    if not user.is_superuser and action == VIEW:
        q |= Q(node__path__in=_ancestor_paths(user))
    return Round.objects.filter(q).select_related("node")


def round_for(user, pk: int, action: str = VIEW) -> Round:
    return _one(rounds_for(user, action), pk=pk)


def round_state(round_: Round, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if now < round_.starts_at:
        return "planned"
    return "running" if now <= round_.ends_at else "ended"


def area_node(user, round_: Round, node_id: int | None = None) -> Node:
    """The node whose figures to show for a round: the one asked for (in the user's view,
    inside the round's area or holding it), else the round's area if the user sees it, else
    the user's highest node inside it."""
    area = round_.node
    if node_id is not None:
        node = get_scoped_or_404(Node, user, VIEW, pk=node_id)
        if node.path.startswith(area.path):
            return node
        if area.path.startswith(node.path):
            return area if Node.objects.restrict(user).filter(pk=area.pk).exists() else node
        raise Http404
    if Node.objects.restrict(user).filter(pk=area.pk).exists():
        return area
    own = (
        Node.objects.filter(pk__in=root_node_ids(user), path__startswith=area.path)
        .order_by("depth", "path")
        .first()
    )
    if own is None:
        raise Http404
    return own


def _where(round_: Round, node: Node) -> Q:
    """Rows of `node` inside the round's area: the area's column, the node's column, and the
    node's grid column (so the (round, grid) index serves building and unit level too)."""
    q = Q(**({f"{round_.node.level}_id": round_.node_id} | {f"{node.level}_id": node.pk}))
    if node.grid_id and node.level in ("building", "unit"):
        q &= Q(grid_id=node.grid_id)
    return q


def _counted_scans(round_: Round) -> QuerySet[Scan]:
    return Scan.objects.filter(
        round=round_, kind=ScanKind.RESIDENT, retest=False, voided_at__isnull=True
    )


COVERAGE_KEYS = ("expected", "sampled", "resulted", "positive", "missing", "away", "moved_out")


def _figures(expected: dict | None, scans: dict | None) -> dict:
    row = dict.fromkeys(COVERAGE_KEYS, 0)
    row.update(expected or {})
    row.update(scans or {})
    row["missing"] = max(row["expected"] - row["sampled"], 0)
    row["percent"] = (
        min(100, round(100 * row["sampled"] / row["expected"])) if row["expected"] else 0
    )
    return row


def _grouped(rows: QuerySet, group_by: str | None, aggregates: dict) -> dict:
    if group_by is None:
        return {None: rows.aggregate(**aggregates)}
    return {r.pop(group_by): r for r in rows.values(group_by).annotate(**aggregates)}


def coverage_counts(user, round_: Round, node: Node, group_by: str | None = None) -> dict:
    """{group: figures} for `node` in `round_` (one group, None, without `group_by`):
    expected (residents present), away and moved out (excluded), sampled, resulted,
    positive, missing. Two grouped queries."""
    where = _where(round_, node)
    residents = Resident.objects.restrict(user).filter(where)
    expected = _grouped(
        residents,
        group_by,
        {
            "expected": Count("id", filter=Q(presence=Presence.HOME)),
            "away": Count("id", filter=Q(presence=Presence.AWAY)),
            "moved_out": Count("id", filter=Q(presence=Presence.MOVED_OUT)),
        },
    )
    scans = _grouped(
        _counted_scans(round_).restrict(user).filter(where),
        group_by,
        {
            "sampled": Count("id"),
            "resulted": Count("id", filter=Q(result__in=[Result.NEGATIVE, Result.POSITIVE])),
            "positive": Count("id", filter=Q(result=Result.POSITIVE)),
        },
    )
    keys = set(expected) | set(scans)
    return {k: _figures(expected.get(k), scans.get(k)) for k in keys}


@dataclass
class Coverage:
    round: Round
    node: Node
    totals: dict
    children: list[tuple[Node, dict]]
    walk_ins: int = 0


def coverage(user, round_: Round, node: Node) -> Coverage:
    """The round's figures at `node` and at each of its children."""
    totals = coverage_counts(user, round_, node).get(None) or _figures(None, None)
    children: list[tuple[Node, dict]] = []
    level = child_level(node.level)
    if level:
        by_child = coverage_counts(user, round_, node, f"{level}_id")
        by_child.pop(None, None)
        kids = Node.objects.filter(pk__in=list(by_child)).order_by("code", "name", "pk")
        children = [(kid, by_child[kid.pk]) for kid in kids]
    walk_ins = 0
    if node.pk == round_.node_id or round_.node.path.startswith(node.path):
        walk_ins = (
            Scan.objects.restrict(user)
            .filter(round=round_, kind=ScanKind.WALK_IN, voided_at__isnull=True, retest=False)
            .count()
        )
    return Coverage(round_, node, totals, children, walk_ins)


# ------------------------------------------------------------------------- missing list


def _sampled_in(round_: Round) -> Exists:
    return Exists(_counted_scans(round_).filter(resident_id=OuterRef("pk")))


def missing_residents(user, round_: Round, node: Node) -> QuerySet[Resident]:
    """Residents of `node` present and expected in the round and not (validly) sampled: the
    missing list (漏检), in building, unit, floor, room order."""
    return (
        Resident.objects.restrict(user)
        .filter(_where(round_, node), presence=Presence.HOME)
        .exclude(_sampled_in(round_))
        .select_related("household", "unit", "building", "grid")
        .order_by("building__path", "unit__path", "household__floor", "household__room", "pk")
    )


@dataclass
class HouseholdGroup:
    household: Household
    residents: list[Resident] = field(default_factory=list)


@dataclass
class UnitGroup:
    unit: Node
    building: Node
    households: list[HouseholdGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(h.residents) for h in self.households)


def group_by_unit(residents) -> list[UnitGroup]:
    """Residents (ordered by place) grouped by unit, then household."""
    units: list[UnitGroup] = []
    for r in residents:
        if not units or units[-1].unit.pk != r.unit_id:
            units.append(UnitGroup(r.unit, r.building))
        group = units[-1]
        if not group.households or group.households[-1].household.pk != r.household_id:
            group.households.append(HouseholdGroup(r.household))
        group.households[-1].residents.append(r)
    return units


def missing_list(
    user, round_: Round, node: Node, *, limit: int = 2000
) -> tuple[list[UnitGroup], int]:
    """The missing list grouped by unit and household (at most `limit` residents), and how
    many are missing in all."""
    rows = missing_residents(user, round_, node)
    total = rows.count()
    return group_by_unit(rows[:limit]), total


def excluded_residents(user, round_: Round, node: Node, *, limit: int = 500) -> QuerySet[Resident]:
    """Residents of the area not expected, with their reason (away, moved out)."""
    return (
        Resident.objects.restrict(user)
        .filter(_where(round_, node))
        .exclude(presence=Presence.HOME)
        .select_related("household", "unit", "building")
        .order_by("presence", "building__path", "unit__path", "household__room", "pk")[:limit]
    )


def home_visits(user, round_: Round, node: Node) -> list[UnitGroup]:
    """Residents who cannot come out (immobile or disabled), present and not yet sampled:
    the home-sampling team's list for a grid (or any node)."""
    rows = missing_residents(user, round_, node).filter(Q(immobile=True) | Q(disabled=True))
    return group_by_unit(rows)


# ---------------------------------------------------------------------------------- retests


def retests(user, round_: Round, node: Node | None = None) -> QuerySet[Retest]:
    """Residents marked for a single-tube retest, with the pool they came from and, once
    retested, the single tube (its result is the retest's)."""
    rows = Retest.objects.restrict(user).filter(round=round_)
    if node is not None:
        rows = rows.filter(_where(round_, node))
    return rows.select_related(
        "resident", "resident__household", "unit", "building", "grid", "source_tube", "tube"
    ).order_by(F("tube").asc(nulls_first=True), "building__path", "unit__path", "pk")


# -------------------------------------------------------------------------------- traceback


def tubes_for(user) -> QuerySet[Tube]:
    """Tubes the user may see: opened at a station in their scope, or holding a scan of
    someone in it."""
    holding = Scan.objects.restrict(user).filter(tube_id=OuterRef("pk"))
    return Tube.objects.filter(scope_q(user) | Q(Exists(holding)))


def tube_for(user, pk: int) -> Tube:
    return _one(
        tubes_for(user).select_related("round", "round__node", "station", "station__site"), pk=pk
    )


def tube_by_barcode(user, barcode: str) -> Tube:
    return _one(
        tubes_for(user).select_related("round", "station", "station__site"),
        barcode=barcode_text(barcode),
    )


@dataclass
class TracedPerson:
    scan: Scan
    resident: Resident | None
    walk_in: WalkIn | None
    retest: Retest | None = None


@dataclass
class TracedBuilding:
    building: Node
    notice: dict  # people.queries.building_notice: chiefs of street, grid, building, units
    people: list[TracedPerson] = field(default_factory=list)

    @property
    def grid_chief(self) -> Post | None:
        return self.notice["chiefs"].get(PostRole.GRID_CHIEF)

    @property
    def building_chief(self) -> Post | None:
        return self.notice["chiefs"].get(PostRole.BUILDING_CHIEF)

    def unit_chief(self, unit_id: int) -> Post | None:
        return next((post for unit, post in self.notice["units"] if unit.pk == unit_id), None)


@dataclass
class Traceback:
    tube: Tube
    buildings: list[TracedBuilding]
    walk_ins: list[TracedPerson]
    hidden: int  # people in the tube outside the user's scope
    retests: dict[int, Retest]

    @property
    def people(self) -> int:
        return sum(len(b.people) for b in self.buildings) + len(self.walk_ins)


def traceback(user, tube: Tube) -> Traceback:
    """The people in a tube with their households, units, buildings and grids, and the
    chiefs of each (building_notice per building) with phone numbers."""
    scans = list(
        Scan.objects.restrict(user)
        .filter(tube=tube)
        .select_related(
            "resident", "resident__household", "walk_in", "unit", "building", "grid", "community"
        )
        .order_by(
            "building_id",
            "unit_id",
            "resident__household__floor",
            "resident__household__room",
            "pk",
        )
    )
    total = Scan.objects.filter(tube=tube).count()
    buildings: dict[int, TracedBuilding] = {}
    walk_ins: list[TracedPerson] = []
    for scan in scans:
        person = TracedPerson(scan, scan.resident, scan.walk_in)
        if scan.kind == ScanKind.WALK_IN:
            walk_ins.append(person)
            continue
        if scan.building_id not in buildings:
            buildings[scan.building_id] = TracedBuilding(
                scan.building, building_notice(scan.building)
            )
        buildings[scan.building_id].people.append(person)
    retest_rows = {
        r.resident_id: r
        for r in Retest.objects.filter(
            round_id=tube.round_id, resident_id__in=[s.resident_id for s in scans if s.resident_id]
        ).select_related("tube")
    }
    for b in buildings.values():
        for p in b.people:
            p.retest = retest_rows.get(p.scan.resident_id)
    return Traceback(tube, list(buildings.values()), walk_ins, total - len(scans), retest_rows)


def positive_tubes(user, round_: Round) -> QuerySet[Tube]:
    return (
        tubes_for(user)
        .filter(round=round_, result=Result.POSITIVE)
        .order_by("-resulted_at", "barcode")
    )


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


# ---------------------------------------------------------------------------------- station


@dataclass
class StationState:
    station: Station
    shift: Shift | None
    tubes: list[Tube]  # open tubes, newest first
    recent: list[Scan]
    per_hour: list[tuple[dt.datetime, int]]
    today: int
    manual: int = 0  # of today's, entered by hand


def station_state(station: Station, *, recent: int = 10) -> StationState:
    """What a station's page shows: its open shift, open tubes with their fill, the last
    scans and counts per hour of the current shift."""
    shift = (
        Shift.objects.filter(station=station, closed_at__isnull=True)
        .select_related("round")
        .first()
    )
    tubes = list(
        Tube.objects.filter(station=station, status=TubeStatus.OPEN).order_by("-opened_at", "-pk")
    )
    last = (
        list(
            Scan.objects.filter(station_id=station.pk)
            .select_related("tube", "resident", "walk_in")
            .order_by("-recorded_at", "-pk")[:recent]
        )
        if shift
        else []
    )
    per_hour: list[tuple[dt.datetime, int]] = []
    today = 0
    if shift:
        counts: dict[dt.datetime, int] = defaultdict(int)
        for row in (
            Scan.objects.filter(
                round_id=shift.round_id,
                station_id=station.pk,
                at__gte=shift.opened_at - dt.timedelta(minutes=10),
            )
            .annotate(slot=EpochSlot("at", width=3600))
            .values("slot")
            .annotate(n=Count("id"))
        ):
            hour = dt.datetime.fromtimestamp(int(row["slot"]) * 3600, tz=dt.UTC)
            counts[hour] += row["n"]
        per_hour = sorted(counts.items())
        today = sum(counts.values())
        manual = Scan.objects.filter(
            round_id=shift.round_id,
            station_id=station.pk,
            at__gte=shift.opened_at - dt.timedelta(minutes=10),
            manual=True,
        ).count()
        return StationState(station, shift, tubes, last, per_hour, today, manual)
    return StationState(station, shift, tubes, last, per_hour, today)


PEOPLE_FOUND = 20


def station_people(user, station: Station, text: str) -> list[dict]:
    """Manual entry at a station: residents of its round's area (and in the user's scope)
    whose document number is `text` or whose name contains it, then the children recorded
    under them as guardian; at most PEOPLE_FOUND."""
    shift = Shift.objects.filter(station=station, closed_at__isnull=True).select_related(
        "round__node"
    )
    shift = shift.first()
    text = (text or "").strip()
    if shift is None or len(text) < 1:
        return []
    node = shift.round.node
    area = Resident.objects.restrict(user, "view").filter(**{f"{node.level}_id": node.pk})
    number = re.sub(r"\s", "", text).upper()
    exact = Q(name=text) | Q(id_number=number) | Q(doc_number=number)
    found = list(
        area.filter(exact | Q(name__contains=text))
        .select_related("household", "guardian")
        .order_by("name", "pk")[: PEOPLE_FOUND * 5]
    )
    found.sort(key=lambda r: r.name != text and number not in (r.id_number, r.doc_number))
    found = found[:PEOPLE_FOUND]
    wards: dict[int, list[Resident]] = defaultdict(list)
    shown = {r.pk for r in found}
    for ward in (
        area.filter(guardian__in=found)
        .select_related("household", "guardian")
        .order_by("name", "pk")[:PEOPLE_FOUND]
    ):
        if ward.pk not in shown:
            wards[ward.guardian_id].append(ward)
    people = [p for r in found for p in (r, *wards[r.pk])]
    sampled = set(
        Scan.objects.filter(
            round_id=shift.round_id,
            resident_id__in=[r.pk for r in people],
            voided_at__isnull=True,
            retest=False,
        ).values_list("resident_id", flat=True)
    )
    return [
        {
            "resident_id": r.pk,
            "name": r.name,
            "code": resident_code(r.pk),
            "document": mask_id_number(r.document_number) or r.get_doc_kind_display(),
            "room": f"{r.household.room}",
            "guardian": r.guardian.name if r.guardian_id else "",
            "sampled": r.pk in sampled,
        }
        for r in people
    ]


def chiefs_of(grid_ids: list[int]) -> dict[int, Post]:
    return {
        p.node_id: p
        for p in Post.objects.filter(
            node_id__in=grid_ids, role=CHIEF_OF_LEVEL["grid"], ended_on__isnull=True
        ).select_related("person")
    }
