"""Rounds, their coverage, projection, missing list and throughput, and the sampling sites over
JSON (mounted at /api/v1/testing).

Thin: rows are fetched through the scope (`queries` / `get_for_change`), reads come from the
queries modules, writes go through the services. ID and phone numbers are masked; only the
chiefs' numbers the building notice publishes are shown (`people.models.post_phone`)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    get_for_change,
)
from bastion.core.errors import DomainError
from bastion.geo import queries as geo_queries
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import CommandZone, Node
from bastion.people.models import Person, post_phone
from bastion.testing.rounds import coverage, queries, services
from bastion.testing.rounds.models import DEFAULT_TUBE_PATTERN, Round, Site, StaffRole, Station
from bastion.testing.rounds.projection import deadline_projection

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_testing_api"
router = Router(tags=["testing"])


# --------------------------------------------------------------------------------- schemas


class NodeRef(Schema):
    id: int
    name: str
    level: str


class RoundIn(Schema):
    node_id: int = Field(description="The area: a grid or larger.")
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    pool_size: Literal[1, 5, 10, 20] = 10
    deadline: dt.datetime | None = Field(None, description="24 hours after the start if left out.")
    sealed_tube: Literal["single", "household"] = Field(
        "single", description="Tubes in sealed areas: one per person or one per household."
    )
    controlled_pool_size: Literal[1, 5, 10, 20] = 10
    precaution_pool_size: Literal[1, 5, 10, 20] = 20
    pack_within: int = Field(1, description="Hours before a closed tube not packed is overdue.")
    seal_within: int = Field(2, description="Hours before an open bag not sealed is overdue.")
    receive_within: int = Field(
        2, description="Hours before a sealed bag the lab has not received is overdue."
    )
    tube_pattern: str = Field(
        DEFAULT_TUBE_PATTERN,
        max_length=100,
        description="The lab's tube labels: a regular expression over the whole barcode; a "
        "new tube whose barcode does not match is refused.",
    )
    client_id: UUID | None = None


class RoundOut(Schema):
    id: int
    name: str
    node: NodeRef
    starts_at: dt.datetime
    ends_at: dt.datetime
    pool_size: int
    deadline: dt.datetime
    sealed_tube: str
    controlled_pool_size: int
    precaution_pool_size: int
    pack_within: int
    seal_within: int
    receive_within: int
    tube_pattern: str
    state: Literal["planned", "running", "ended"]


class FiguresOut(Schema):
    expected: int = Field(description="Residents present in the area.")
    sampled: int
    resulted: int
    positive: int
    missing: int
    away: int = Field(description="Not expected: away.")
    moved_out: int = Field(description="Not expected: moved out.")
    percent: int


class ChildFiguresOut(FiguresOut):
    node: NodeRef


class CoverageOut(Schema):
    round_id: int
    node: NodeRef
    totals: FiguresOut
    walk_ins: int
    children: list[ChildFiguresOut]


class PlaceOut(Schema):
    building: str
    unit: str
    room: str
    floor: int


class PersonRowOut(Schema):
    resident_id: int
    name: str
    id_number: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    household_id: int
    place: PlaceOut
    immobile: bool
    disabled: bool


class MissingOut(Schema):
    round_id: int
    node: NodeRef
    total: int
    listed: int
    residents: list[PersonRowOut]


class SiteIn(Schema):
    node_id: int
    name: str
    address: str
    opens_at: dt.time
    closes_at: dt.time
    plan: str = ""
    building_ids: list[int] = []
    zone_ids: list[int] = []
    stations: list[str] = Field([], description="Names of the stations to add.")
    client_id: UUID | None = None


class StationOut(Schema):
    id: int
    name: str
    kind: str
    site_id: int | None
    round_id: int | None = Field(description="The round of its open shift; null when closed.")


class PostOut(Schema):
    id: int
    role: str
    role_label: str
    person_id: int
    person_name: str
    phone: str = Field(description="Masked; POST people/persons/{person_id}/reveal (logged).")
    station_id: int | None


class VacanciesOut(Schema):
    leader: bool = Field(description="True when the site has no leader.")
    heads_needed: int
    heads: int
    stations_without_head: list[int]


class SiteOut(Schema):
    id: int
    name: str
    address: str
    node: NodeRef
    opens_at: dt.time
    closes_at: dt.time
    plan: str
    stations: list[StationOut]
    posts: list[PostOut]
    building_ids: list[int]
    zone_ids: list[int]
    vacancies: VacanciesOut


class SiteSummaryOut(Schema):
    id: int
    name: str
    address: str
    node: NodeRef
    opens_at: dt.time
    closes_at: dt.time
    stations: int
    vacancies: VacanciesOut


class StationIn(Schema):
    name: str
    client_id: UUID | None = None


class SitePostIn(Schema):
    person_id: int
    role: StaffRole
    station_id: int | None = None
    client_id: UUID | None = None


class ThroughputSeries(Schema):
    id: int | None
    name: str
    counts: list[int]
    total: int


class StationSeries(ThroughputSeries):
    site_id: int | None


class ThroughputOut(Schema):
    bucket_minutes: int
    buckets: list[str]
    sites: list[ThroughputSeries]
    stations: list[StationSeries]


# --------------------------------------------------------------------------------- helpers


def node_ref(node: Node | None) -> dict | None:
    return {"id": node.pk, "name": node.name, "level": node.level} if node else None


def round_out(r: Round) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "node": node_ref(r.node),
        "starts_at": r.starts_at,
        "ends_at": r.ends_at,
        "pool_size": r.pool_size,
        "deadline": r.due,
        "sealed_tube": r.sealed_tube,
        "controlled_pool_size": r.controlled_pool_size,
        "precaution_pool_size": r.precaution_pool_size,
        "pack_within": r.pack_within,
        "seal_within": r.seal_within,
        "receive_within": r.receive_within,
        "tube_pattern": r.tube_pattern,
        "state": queries.round_state(r),
    }


def station_out(st: Station, shift=None) -> dict:
    return {
        "id": st.pk,
        "name": st.name,
        "kind": st.kind,
        "site_id": st.site_id,
        "round_id": shift.round_id if shift else None,
    }


def place_of(resident) -> dict:
    h = resident.household
    return {
        "building": resident.building.name,
        "unit": resident.unit.name,
        "room": h.room,
        "floor": h.floor,
    }


def round_of(request, round_id: int) -> Round:
    return queries.round_for(request.auth, round_id)


# ---------------------------------------------------------------------------------- rounds


@router.get("/rounds", response=list[RoundOut])
def round_list(request):
    return [round_out(r) for r in queries.rounds_for(request.auth)[:200]]


@router.post("/rounds", response={201: RoundOut, **WRITE_ERRORS})
def round_create(request, payload: RoundIn):
    node = get_for_change(Node, request.auth, pk=payload.node_id)
    round_ = services.round_open(
        actor=request.auth,
        node=node,
        name=payload.name,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        pool_size=payload.pool_size,
        deadline=payload.deadline,
        sealed_tube=payload.sealed_tube,
        controlled_pool_size=payload.controlled_pool_size,
        precaution_pool_size=payload.precaution_pool_size,
        pack_within=payload.pack_within,
        seal_within=payload.seal_within,
        receive_within=payload.receive_within,
        tube_pattern=payload.tube_pattern,
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, round_out(round_))


@router.get("/rounds/{round_id}", response={200: RoundOut, **READ_ERRORS})
def round_detail(request, round_id: int):
    return round_out(round_of(request, round_id))


@router.get("/rounds/{round_id}/coverage", response={200: CoverageOut, **READ_ERRORS})
def round_coverage(request, round_id: int, node_id: int | None = None):
    """Expected, sampled, resulted, positive and missing at a node (default: the round's
    area) and at each of its children."""
    round_ = round_of(request, round_id)
    node = geo_queries.area_focus(request.auth, round_.node, node_id)
    cov = coverage.coverage(request.auth, round_, node)
    return {
        "round_id": round_.pk,
        "node": node_ref(node),
        "totals": cov.totals,
        "walk_ins": cov.walk_ins,
        "children": [{"node": node_ref(kid), **figures} for kid, figures in cov.children],
    }


class LateOut(Schema):
    node: NodeRef
    expected: int
    sampled: int
    remaining: int
    finish: dt.datetime | None = Field(description="Projected finish; null: no site is at it.")


class LateBuildingOut(LateOut):
    units: list[LateOut]


class ProjectionOut(Schema):
    round_id: int
    node: NodeRef
    now: dt.datetime
    deadline: dt.datetime
    finish: dt.datetime | None = Field(description="When the whole area is projected done.")
    late_total: int = Field(description="Your buildings under the node projected to miss.")
    buildings: list[LateBuildingOut] = Field(description="Yours under the node, latest first.")


def _late(row) -> dict:
    return {
        "node": node_ref(row.node),
        "expected": row.expected,
        "sampled": row.sampled,
        "remaining": row.remaining,
        "finish": row.finish,
    }


@router.get("/rounds/{round_id}/projection", response={200: ProjectionOut, **READ_ERRORS})
def round_projection(request, round_id: int, node_id: int | None = None):
    """Which buildings and units will miss the round's deadline at each site's sampling
    rate of the last hour (see testing.projection)."""
    round_ = round_of(request, round_id)
    node = geo_queries.area_focus(request.auth, round_.node, node_id)
    p = deadline_projection(request.auth, round_, node)
    return {
        "round_id": round_.pk,
        "node": node_ref(node),
        "now": p.now,
        "deadline": p.deadline,
        "finish": p.finish,
        "late_total": p.late_total,
        "buildings": [{**_late(b), "units": [_late(u) for u in b.units]} for b in p.buildings],
    }


def _person_row(r) -> dict:
    return {
        "resident_id": r.pk,
        "name": r.name,
        "id_number": mask_id_number(r.id_number),
        "phone": mask_mobile(r.phone),
        "household_id": r.household_id,
        "place": place_of(r),
        "immobile": r.immobile,
        "disabled": r.disabled,
    }


@router.get("/rounds/{round_id}/missing", response={200: MissingOut, **READ_ERRORS})
def round_missing(
    request, round_id: int, node_id: int | None = None, limit: int = Query(1000, ge=1, le=10_000)
):
    """The missing list (漏检): residents present and not sampled, by unit and household."""
    round_ = round_of(request, round_id)
    node = geo_queries.area_focus(request.auth, round_.node, node_id)
    rows = coverage.missing_residents(request.auth, round_, node)
    listed = list(rows[:limit])
    return {
        "round_id": round_.pk,
        "node": node_ref(node),
        "total": rows.count(),
        "listed": len(listed),
        "residents": [_person_row(r) for r in listed],
    }


@router.get("/rounds/{round_id}/home-visits", response={200: list[PersonRowOut], **READ_ERRORS})
def round_home_visits(request, round_id: int, node_id: int):
    """Immobile or disabled residents present and not yet sampled: a home team's list."""
    round_ = round_of(request, round_id)
    node = geo_queries.area_focus(request.auth, round_.node, node_id)
    return [
        _person_row(r)
        for unit in coverage.home_visits(request.auth, round_, node)
        for h in unit.households
        for r in h.residents
    ]


@router.get("/rounds/{round_id}/throughput", response={200: ThroughputOut, **READ_ERRORS})
def round_throughput(request, round_id: int, hours: float = Query(6, gt=0, le=72)):
    """Scans per 10 minutes per site and station, for a chart."""
    round_ = round_of(request, round_id)
    until = timezone.now()
    return queries.throughput(
        request.auth, round_, since=until - dt.timedelta(hours=hours), until=until
    )


# ----------------------------------------------------------------------------------- sites


def _site_out(site: Site) -> dict:
    plan = queries.site_plan(None, site)
    v = plan.vacancies
    return {
        "id": site.pk,
        "name": site.name,
        "address": site.address,
        "node": node_ref(site.node),
        "opens_at": site.opens_at,
        "closes_at": site.closes_at,
        "plan": site.plan,
        "stations": [station_out(st, plan.open_shifts.get(st.pk)) for st in plan.stations],
        "posts": [
            {
                "id": p.pk,
                "role": p.role,
                "role_label": p.get_role_display(),
                "person_id": p.person_id,
                "person_name": p.person.name,
                "phone": post_phone(p),
                "station_id": p.station_id,
            }
            for p in plan.posts
        ],
        "building_ids": [b.pk for b in plan.buildings],
        "zone_ids": [z.pk for z in plan.zones],
        "vacancies": _vacancies_out(v),
    }


def _vacancies_out(v) -> dict:
    return {
        "leader": v.leader,
        "heads_needed": v.heads_needed,
        "heads": v.heads,
        "stations_without_head": [st.pk for st in v.stations_without_head],
    }


@router.get("/sites", response=list[SiteSummaryOut])
def site_list(request):
    sites = list(
        queries.sites_for(request.auth)
        .annotate(n_stations=Count("stations"))
        .order_by("name")[:500]
    )
    vacancies = queries.site_vacancies(sites)
    return [
        {
            "id": s.pk,
            "name": s.name,
            "address": s.address,
            "node": node_ref(s.node),
            "opens_at": s.opens_at,
            "closes_at": s.closes_at,
            "stations": s.n_stations,
            "vacancies": _vacancies_out(vacancies[s.pk]),
        }
        for s in sites
    ]


@router.post("/sites", response={201: SiteOut, **WRITE_ERRORS})
def site_create(request, payload: SiteIn):
    user = request.auth
    node = get_for_change(Node, user, pk=payload.node_id)
    buildings = list(Node.objects.restrict(user).filter(pk__in=payload.building_ids))
    zones = list(CommandZone.objects.restrict(user).filter(pk__in=payload.zone_ids))
    if len(buildings) != len(set(payload.building_ids)):
        raise DomainError(_("Unknown building."), field="building_ids")
    if len(zones) != len(set(payload.zone_ids)):
        raise DomainError(_("Unknown command zone."), field="zone_ids")
    site = services.site_create(
        actor=user,
        node=node,
        name=payload.name,
        address=payload.address,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        plan=payload.plan,
        buildings=buildings,
        zones=zones,
        client_id=payload.client_id,
        source="api",
    )
    for name in payload.stations:
        if not site.stations.filter(name=name.strip()).exists():
            services.station_add(actor=user, site=site, name=name, source="api")
    return Status(201, _site_out(site))


@router.get("/sites/{site_id}", response={200: SiteOut, **READ_ERRORS})
def site_detail(request, site_id: int):
    """The site's plan: hours, stations, staff, vacancies, the buildings and zones served."""
    return _site_out(queries.site_for(request.auth, site_id))


@router.post("/sites/{site_id}/stations", response={201: StationOut, **WRITE_ERRORS})
def station_create(request, site_id: int, payload: StationIn):
    site = get_for_change(Site, request.auth, pk=site_id)
    station = services.station_add(
        actor=request.auth, site=site, name=payload.name, client_id=payload.client_id, source="api"
    )
    return Status(201, station_out(station))


@router.post("/sites/{site_id}/posts", response={201: PostOut, **WRITE_ERRORS})
def site_post_create(request, site_id: int, payload: SitePostIn):
    user = request.auth
    site = get_for_change(Site, user, pk=site_id)
    person = scope.get_scoped_or_404(Person, user, pk=payload.person_id)
    station = None
    if payload.station_id is not None:
        station = queries.one_or_404(Station.objects.filter(site=site), pk=payload.station_id)
    post = services.site_post_assign(
        actor=user,
        person=person,
        role=payload.role,
        site=site,
        station=station,
        client_id=payload.client_id,
        source="api",
    )
    return Status(
        201,
        {
            "id": post.pk,
            "role": post.role,
            "role_label": post.get_role_display(),
            "person_id": person.pk,
            "person_name": person.name,
            "phone": post_phone(post),
            "station_id": post.station_id,
        },
    )
