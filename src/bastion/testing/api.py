"""Mass testing over JSON (mounted at /api/v1/testing).

Thin: rows are fetched through the scope (`testing.queries` / `get_for_change`), reads come
from testing.queries, writes go through testing.services. ID and phone numbers of residents
are masked; chiefs' phone numbers (published on every building) are shown.

Scanning is per station: POST /stations/{id}/scans (one) or /stations/{id}/scans/batch (up to
200, one transaction). Each scan carries a client-made `client_id`; sending it again returns
the stored answer ("replayed") and writes nothing, so a device can retry blindly.
"""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from bastion.core import scope
from bastion.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    DetailOut,
    ProblemOut,
    get_for_change,
)
from bastion.core.errors import DomainError
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import CommandZone, Node
from bastion.people.models import Person
from bastion.testing import queries, services
from bastion.testing.codes import family_code, resident_code
from bastion.testing.models import (
    Result,
    Round,
    Site,
    StaffRole,
    Station,
    Tube,
)
from bastion.testing.projection import deadline_projection

router = Router(tags=["testing"])
# The stations' scans, mounted first: URL resolution tries the API's paths in order, and these
# are most of its requests on a testing day.
scan_router = Router(tags=["testing"])
MAX_BATCH = services.MAX_BATCH


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
    phone: str
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


class OpenIn(Schema):
    round_id: int


class ShiftOut(Schema):
    station_id: int
    round_id: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class TubeIn(Schema):
    """A tube opened empty (not single) takes the pooling of its first person's control
    level: kind and capacity are set by that scan."""

    barcode: str
    single: bool = Field(False, description="A single tube (one person), e.g. for a retest.")


class TubeOut(Schema):
    id: int
    barcode: str
    round_id: int
    station_id: int
    kind: str
    capacity: int
    filled: int
    status: str
    result: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class ScanIn(Schema):
    client_id: UUID = Field(description="Made by the device; a retry with it replays.")
    tube: str = Field(description="Barcode of the tube; a new one is opened at this station.")
    code: str = Field(
        description="ID number, another document's number (passport, permit, residence card), "
        "the resident code printed per household, or the household's family code."
    )
    at: dt.datetime | None = Field(None, description="When it was scanned (default: now).")
    walk_in: bool = Field(False, description="Take an ID number unknown here as a walk-in.")
    name: str = Field("", max_length=50, description="A walk-in's name.")
    phone: str = Field("", max_length=20, description="A walk-in's mobile.")
    single: bool = Field(False, description="A new tube opened by this scan holds one person.")
    manual: bool = Field(
        False, description="Typed in or picked by name at the station (the code would not scan)."
    )


class ScanBatchIn(Schema):
    scans: list[ScanIn] = Field(max_length=MAX_BATCH)


class ScanOut(Schema):
    client_id: UUID
    status: Literal["accepted", "replayed", "refused"]
    reason: str = Field(
        description="Why refused: station_closed, round_not_open, bad_time, "
        "bad_tube, tube_full, tube_closed, tube_other_round, "
        "tube_other_station, bad_id_number, unknown_code, unknown_person, "
        "already_sampled, bad_phone, client_id_reused, wrong_tube_kind (the tube does "
        "not match the person's control level, see testing.pooling), tube_other_household, "
        "unknown_document, no_document, family_too_big."
    )
    field: str | None
    message: str
    tube: str = Field(description="The tube the person is in (already_sampled: the earlier tube).")
    filled: int | None
    capacity: int | None
    tube_closed: bool
    kind: str
    resident_id: int | None
    name: str
    id_number: str = Field(description="Masked.")
    retest: bool
    scan_id: int | None
    at: dt.datetime | None
    manual: bool = False
    members: list["ScanOut"] = Field(
        default_factory=list, description="A family code's scans, one per member."
    )


class ScanRefusedOut(Schema):
    errors: list[ProblemOut]
    scan: ScanOut


class BatchOut(Schema):
    accepted: int
    replayed: int
    refused: int
    results: list[ScanOut]


class TubeStateOut(Schema):
    barcode: str
    filled: int
    capacity: int
    kind: str


class StationStateOut(Schema):
    station: StationOut
    round: RoundOut | None
    tubes: list[TubeStateOut]
    recent: list[ScanOut]
    per_hour: list[tuple[dt.datetime, int]]
    today: int
    manual_today: int = Field(0, description="Of today's scans, those entered by hand.")


class PersonFoundOut(Schema):
    resident_id: int
    name: str
    code: str = Field(description="The resident code to send as the scan's code.")
    document: str = Field(description="Masked document number, or the document kind.")
    room: str
    guardian: str = Field(description="For a child under a guardian: the guardian's name.")
    sampled: bool = Field(description="Already sampled in the station's round.")


class ResultIn(Schema):
    tube: str
    result: str = Field(description="negative, positive or invalid (阴性, 阳性, 无效).")


class ResultsIn(Schema):
    results: list[ResultIn] = Field(max_length=50_000)
    client_id: UUID | None = None


class ResultImportOut(Schema):
    id: int
    tubes: int
    positive: int
    invalid: int
    positive_tube_ids: list[int]


class ChiefOut(Schema):
    role: str
    node_name: str
    name: str
    phone: str


class TracedPersonOut(Schema):
    kind: str
    resident_id: int | None
    name: str
    id_number: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    household_id: int | None
    room: str
    unit: str
    retest: str = Field(description="'', 'due', 'sampled', or the retest's result.")


class TracedBuildingOut(Schema):
    building: NodeRef
    grid: NodeRef | None
    community: NodeRef | None
    chiefs: list[ChiefOut]
    people: list[TracedPersonOut]


class TracebackOut(Schema):
    tube: TubeOut
    round: RoundOut
    station: str
    site: str
    people: int
    hidden: int = Field(description="People in the tube outside the caller's scope.")
    buildings: list[TracedBuildingOut]
    walk_ins: list[TracedPersonOut]


class RetestOut(Schema):
    resident_id: int
    name: str
    id_number: str
    place: PlaceOut
    source_tube: str
    tube: str | None
    result: str


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


class CodeOut(Schema):
    resident_id: int
    name: str
    code: str


# --------------------------------------------------------------------------------- helpers


def _node_ref(node: Node | None) -> dict | None:
    return {"id": node.pk, "name": node.name, "level": node.level} if node else None


def _round_out(r: Round) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "node": _node_ref(r.node),
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
        "state": queries.round_state(r),
    }


def _station_out(st: Station, shift=None) -> dict:
    return {
        "id": st.pk,
        "name": st.name,
        "kind": st.kind,
        "site_id": st.site_id,
        "round_id": shift.round_id if shift else None,
    }


def _tube_out(t: Tube) -> dict:
    return {
        "id": t.pk,
        "barcode": t.barcode,
        "round_id": t.round_id,
        "station_id": t.station_id,
        "kind": t.kind,
        "capacity": t.capacity,
        "filled": t.filled,
        "status": t.status,
        "result": t.result,
        "opened_at": t.opened_at,
        "closed_at": t.closed_at,
    }


def _scan_out(o: services.ScanOutcome) -> ScanOut:
    """The answer to one scan, built without validation: its values are typed by the service,
    and validating them through ninja cost a tenth of a scan's time (fifty in a batch)."""
    return ScanOut.model_construct(**{**o.__dict__, "members": [_scan_out(m) for m in o.members]})


def _place(resident) -> dict:
    h = resident.household
    return {
        "building": resident.building.name,
        "unit": resident.unit.name,
        "room": h.room,
        "floor": h.floor,
    }


def _round(request, round_id: int) -> Round:
    return queries.round_for(request.auth, round_id)


def _station_for_change(request, station_id: int) -> Station:
    return get_for_change(Station.objects.select_related("site"), request.auth, pk=station_id)


def _station_for_scan(request, station_id: int, scans: list[services.ScanInput]) -> Station:
    """The station `scans` arrive at, answered as `get_for_change` answers (404 outside the
    caller's scope, 403 for a role that may only look), from one plain statement (with the
    station's shifts around the scans) and the caller's grants (`scope.allows`) instead of
    a compiled scoped query per scan."""
    station = services.station_for_scans(station_id, [s.at for s in scans])
    if station is None or not scope.allows(request.auth, scope.VIEW, station):
        raise Http404
    if not scope.allows(request.auth, scope.CHANGE, station):
        raise PermissionDenied(_("Your role may not change this."))
    return station


def _input(s: ScanIn) -> services.ScanInput:
    return services.ScanInput(
        client_id=s.client_id,
        tube=s.tube,
        code=s.code,
        at=s.at,
        walk_in=s.walk_in,
        name=s.name,
        phone=s.phone,
        single=s.single,
        manual=s.manual,
    )


# ---------------------------------------------------------------------------------- rounds


@router.get("/rounds", response=list[RoundOut])
def round_list(request):
    return [_round_out(r) for r in queries.rounds_for(request.auth)[:200]]


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
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, _round_out(round_))


@router.get("/rounds/{round_id}", response={200: RoundOut, **READ_ERRORS})
def round_detail(request, round_id: int):
    return _round_out(_round(request, round_id))


@router.get("/rounds/{round_id}/coverage", response={200: CoverageOut, **READ_ERRORS})
def round_coverage(request, round_id: int, node_id: int | None = None):
    """Expected, sampled, resulted, positive and missing at a node (default: the round's
    area) and at each of its children."""
    round_ = _round(request, round_id)
    node = queries.area_node(request.auth, round_, node_id)
    cov = queries.coverage(request.auth, round_, node)
    return {
        "round_id": round_.pk,
        "node": _node_ref(node),
        "totals": cov.totals,
        "walk_ins": cov.walk_ins,
        "children": [{"node": _node_ref(kid), **figures} for kid, figures in cov.children],
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
        "node": _node_ref(row.node),
        "expected": row.expected,
        "sampled": row.sampled,
        "remaining": row.remaining,
        "finish": row.finish,
    }


@router.get("/rounds/{round_id}/projection", response={200: ProjectionOut, **READ_ERRORS})
def round_projection(request, round_id: int, node_id: int | None = None):
    """Which buildings and units will miss the round's deadline at each site's sampling
    rate of the last hour (see testing.projection)."""
    round_ = _round(request, round_id)
    node = queries.area_node(request.auth, round_, node_id)
    p = deadline_projection(request.auth, round_, node)
    return {
        "round_id": round_.pk,
        "node": _node_ref(node),
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
        "place": _place(r),
        "immobile": r.immobile,
        "disabled": r.disabled,
    }


@router.get("/rounds/{round_id}/missing", response={200: MissingOut, **READ_ERRORS})
def round_missing(
    request, round_id: int, node_id: int | None = None, limit: int = Query(1000, ge=1, le=10_000)
):
    """The missing list (漏检): residents present and not sampled, by unit and household."""
    round_ = _round(request, round_id)
    node = queries.area_node(request.auth, round_, node_id)
    rows = queries.missing_residents(request.auth, round_, node)
    listed = list(rows[:limit])
    return {
        "round_id": round_.pk,
        "node": _node_ref(node),
        "total": rows.count(),
        "listed": len(listed),
        "residents": [_person_row(r) for r in listed],
    }


@router.get("/rounds/{round_id}/home-visits", response={200: list[PersonRowOut], **READ_ERRORS})
def round_home_visits(request, round_id: int, node_id: int):
    """Immobile or disabled residents present and not yet sampled: a home team's list."""
    round_ = _round(request, round_id)
    node = queries.area_node(request.auth, round_, node_id)
    return [
        _person_row(r)
        for unit in queries.home_visits(request.auth, round_, node)
        for h in unit.households
        for r in h.residents
    ]


def _retest_state(retest) -> str:
    if retest is None:
        return ""
    if retest.tube_id is None:
        return "due"
    return retest.tube.result or "sampled"


@router.get("/rounds/{round_id}/retests", response={200: list[RetestOut], **READ_ERRORS})
def round_retests(request, round_id: int, node_id: int | None = None):
    round_ = _round(request, round_id)
    node = queries.area_node(request.auth, round_, node_id) if node_id else None
    return [
        {
            "resident_id": r.resident_id,
            "name": r.resident.name,
            "id_number": mask_id_number(r.resident.id_number),
            "place": _place(r.resident),
            "source_tube": r.source_tube.barcode,
            "tube": r.tube.barcode if r.tube else None,
            "result": _retest_state(r),
        }
        for r in queries.retests(request.auth, round_, node)
    ]


@router.get("/rounds/{round_id}/throughput", response={200: ThroughputOut, **READ_ERRORS})
def round_throughput(request, round_id: int, hours: float = Query(6, gt=0, le=72)):
    """Scans per 10 minutes per site and station, for a chart."""
    round_ = _round(request, round_id)
    until = timezone.now()
    return queries.throughput(
        request.auth, round_, since=until - dt.timedelta(hours=hours), until=until
    )


def _import_out(batch, request) -> dict:
    positives = (
        queries.tubes_for(request.auth)
        .filter(result_import=batch, result=Result.POSITIVE)
        .values_list("pk", flat=True)
    )
    return {
        "id": batch.pk,
        "tubes": batch.tubes,
        "positive": batch.positive,
        "invalid": batch.invalid,
        "positive_tube_ids": sorted(positives),
    }


def _round_for_results(request, round_id: int) -> Round:
    return get_for_change(Round.objects.select_related("node"), request.auth, pk=round_id)


@router.post("/rounds/{round_id}/results", response={201: ResultImportOut, **WRITE_ERRORS})
def results_post(request, round_id: int, payload: ResultsIn):
    """Lab results per tube, all or nothing (a bad row is named, nothing changes)."""
    round_ = _round_for_results(request, round_id)
    rows = [services.ResultRow(None, r.tube, r.result) for r in payload.results]
    batch = services.results_import(
        actor=request.auth, round=round_, rows=rows, client_id=payload.client_id, source="api"
    )
    return Status(201, _import_out(batch, request))


@router.post("/rounds/{round_id}/results/file", response={201: ResultImportOut, **WRITE_ERRORS})
def results_file(request, round_id: int, file: File[UploadedFile]):
    """A lab's result file (.xlsx or .csv with a tube and a result column)."""
    round_ = _round_for_results(request, round_id)
    content = file.read()
    rows = services.result_rows_read(filename=file.name or "", content=content)
    batch = services.results_import(
        actor=request.auth, round=round_, rows=rows, filename=file.name or "", source="api"
    )
    return Status(201, _import_out(batch, request))


# ------------------------------------------------------------------------------ traceback


def _traced_person(p, retests: dict) -> dict:
    r, w = p.resident, p.walk_in
    if p.scan.kind == "walk_in":
        return {
            "kind": "walk_in",
            "resident_id": p.scan.resident_id,
            "name": w.name,
            "id_number": mask_id_number(w.id_number),
            "phone": mask_mobile(w.phone),
            "household_id": None,
            "room": "",
            "unit": "",
            "retest": "",
        }
    return {
        "kind": "resident",
        "resident_id": r.pk,
        "name": r.name,
        "id_number": mask_id_number(r.id_number),
        "phone": mask_mobile(r.phone),
        "household_id": r.household_id,
        "room": r.household.room,
        "unit": p.scan.unit.name if p.scan.unit else "",
        "retest": _retest_state(retests.get(r.pk)),
    }


def _chief(post, label_node: str) -> dict:
    return {
        "role": post.role,
        "node_name": label_node,
        "name": post.person.name,
        "phone": post.person.phone,
    }


def traceback_out(request, tube: Tube) -> dict:
    tb = queries.traceback(request.auth, tube)
    buildings = []
    for b in tb.buildings:
        chiefs = [_chief(p, p.node.name) for p in b.notice["chiefs"].values()]
        units = {p.scan.unit_id for p in b.people}
        chiefs += [
            _chief(post, unit.name) for unit, post in b.notice["units"] if post and unit.pk in units
        ]
        first = b.people[0].scan
        buildings.append(
            {
                "building": _node_ref(b.building),
                "grid": _node_ref(first.grid),
                "community": _node_ref(first.community),
                "chiefs": chiefs,
                "people": [_traced_person(p, tb.retests) for p in b.people],
            }
        )
    station = tube.station
    return {
        "tube": _tube_out(tube),
        "round": _round_out(tube.round),
        "station": station.name,
        "site": station.site.name if station.site else "",
        "people": tb.people,
        "hidden": tb.hidden,
        "buildings": buildings,
        "walk_ins": [_traced_person(p, tb.retests) for p in tb.walk_ins],
    }


@router.get("/tubes/{tube_id}", response={200: TubeOut, **READ_ERRORS})
def tube_detail(request, tube_id: int):
    return _tube_out(queries.tube_for(request.auth, tube_id))


@router.get("/tubes/by-barcode/{barcode}", response={200: TubeOut, **READ_ERRORS})
def tube_by_barcode(request, barcode: str):
    return _tube_out(queries.tube_by_barcode(request.auth, barcode))


@router.get("/tubes/{tube_id}/traceback", response={200: TracebackOut, **READ_ERRORS})
def tube_traceback(request, tube_id: int):
    """Who is in the tube, where they live, and the chiefs to call (with phone numbers)."""
    return traceback_out(request, queries.tube_for(request.auth, tube_id))


# ----------------------------------------------------------------------------------- sites


def _site_out(site: Site) -> dict:
    plan = queries.site_plan(None, site)
    v = plan.vacancies
    return {
        "id": site.pk,
        "name": site.name,
        "address": site.address,
        "node": _node_ref(site.node),
        "opens_at": site.opens_at,
        "closes_at": site.closes_at,
        "plan": site.plan,
        "stations": [_station_out(st, plan.open_shifts.get(st.pk)) for st in plan.stations],
        "posts": [
            {
                "id": p.pk,
                "role": p.role,
                "role_label": p.get_role_display(),
                "person_id": p.person_id,
                "person_name": p.person.name,
                "phone": p.person.phone,
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
            "node": _node_ref(s.node),
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
    return Status(201, _station_out(station))


@router.post("/sites/{site_id}/posts", response={201: PostOut, **WRITE_ERRORS})
def site_post_create(request, site_id: int, payload: SitePostIn):
    user = request.auth
    site = get_for_change(Site, user, pk=site_id)
    person = scope.get_scoped_or_404(Person, user, pk=payload.person_id)
    station = None
    if payload.station_id is not None:
        station = queries._one(Station.objects.filter(site=site), pk=payload.station_id)
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
            "phone": person.phone,
            "station_id": post.station_id,
        },
    )


# -------------------------------------------------------------------------------- stations


def station_state_out(station: Station) -> dict:
    """What a station shows, as JSON: its round, open tubes with their fill, last scans and
    counts per hour (the API's answer, also embedded in the station page)."""
    state = queries.station_state(station)
    recent = []
    for s in state.recent:
        person = s.resident or s.walk_in
        recent.append(
            {
                "client_id": s.client_id,
                "status": "accepted",
                "reason": "",
                "field": None,
                "message": "",
                "tube": s.tube.barcode,
                "filled": s.tube.filled,
                "capacity": s.tube.capacity,
                "tube_closed": s.tube.status == "closed",
                "kind": s.kind,
                "resident_id": s.resident_id,
                "name": person.name,
                "id_number": mask_id_number(person.id_number or getattr(person, "doc_number", "")),
                "retest": s.retest,
                "scan_id": s.pk,
                "at": s.at,
                "manual": s.manual,
            }
        )
    return {
        "station": _station_out(station, state.shift),
        "round": _round_out(state.shift.round) if state.shift else None,
        "tubes": [
            {"barcode": t.barcode, "filled": t.filled, "capacity": t.capacity, "kind": t.kind}
            for t in state.tubes
        ],
        "recent": recent,
        "per_hour": state.per_hour,
        "today": state.today,
        "manual_today": state.manual,
    }


@router.get("/stations/{station_id}", response={200: StationStateOut, **READ_ERRORS})
def station_detail(request, station_id: int):
    """What a station shows: its round, open tubes with their fill, last scans, per hour."""
    return station_state_out(queries.station_for(request.auth, station_id))


@router.post("/stations/{station_id}/open", response={200: ShiftOut, **WRITE_ERRORS})
def station_open(request, station_id: int, payload: OpenIn):
    station = _station_for_change(request, station_id)
    round_ = _round(request, payload.round_id)
    shift = services.station_open(actor=request.auth, station=station, round=round_, source="api")
    return {
        "station_id": station.pk,
        "round_id": shift.round_id,
        "opened_at": shift.opened_at,
        "closed_at": shift.closed_at,
    }


@router.post("/stations/{station_id}/close", response={200: ShiftOut | None, **WRITE_ERRORS})
def station_close(request, station_id: int):
    station = _station_for_change(request, station_id)
    shift = services.station_close(actor=request.auth, station=station, source="api")
    if shift is None:
        return None
    return {
        "station_id": station.pk,
        "round_id": shift.round_id,
        "opened_at": shift.opened_at,
        "closed_at": shift.closed_at,
    }


@router.post("/stations/{station_id}/tubes", response={200: TubeOut, **WRITE_ERRORS})
def tube_open(request, station_id: int, payload: TubeIn):
    """Open a tube by its barcode (again: the same tube)."""
    station = _station_for_change(request, station_id)
    tube = services.tube_open(
        actor=request.auth, station=station, barcode=payload.barcode, single=payload.single
    )
    return _tube_out(tube)


@router.post(
    "/stations/{station_id}/tubes/{barcode}/close", response={200: TubeOut, **WRITE_ERRORS}
)
def tube_close(request, station_id: int, barcode: str):
    """Close a tube before it is full."""
    station = _station_for_change(request, station_id)
    tube = queries._one(
        Tube.objects.filter(station=station), barcode=services.barcode_text(barcode)
    )
    return _tube_out(services.tube_close(actor=request.auth, tube=tube))


@router.get("/stations/{station_id}/people", response={200: list[PersonFoundOut], **READ_ERRORS})
def station_people(request, station_id: int, q: str):
    """Manual entry when a code will not scan: residents of the station's round area found by
    a document number (exact) or a name (part), with the children under them as guardian.
    Send the chosen one's `code` as a scan with `manual` set."""
    station = _station_for_change(request, station_id)
    return queries.station_people(request.auth, station, q)


@scan_router.post(
    "/stations/{station_id}/scans",
    response={201: ScanOut, 200: ScanOut, 422: ScanRefusedOut, 403: DetailOut, 404: DetailOut},
)
def scan_create(request, station_id: int, payload: ScanIn):
    """One scan: 201 accepted, 200 replayed (this client id was stored before), 422 refused
    with the reason (for `already_sampled`, `scan.tube` is the tube they are in)."""
    item = _input(payload)
    station = _station_for_scan(request, station_id, [item])
    try:
        outcome = services.scan_record(actor=request.auth, station=station, item=item)
    except services.ScanRefused as refused:
        return Status(422, {"errors": refused.as_list(), "scan": _scan_out(refused.outcome)})
    return Status(201 if outcome.status == "accepted" else 200, _scan_out(outcome))


@scan_router.post("/stations/{station_id}/scans/batch", response={200: BatchOut, **WRITE_ERRORS})
def scan_batch(request, station_id: int, payload: ScanBatchIn):
    """Up to 200 scans in one transaction, in order; one result per scan (accepted, replayed
    or refused with its reason). A refused scan does not stop the others."""
    items = [_input(s) for s in payload.scans]
    station = _station_for_scan(request, station_id, items)
    outcomes = services.scans_record(actor=request.auth, station=station, items=items)
    counts = {"accepted": 0, "replayed": 0, "refused": 0}
    for o in outcomes:
        counts[o.status] += 1
    return BatchOut.model_construct(**counts, results=[_scan_out(o) for o in outcomes])


# ---------------------------------------------------------------------------------- codes


@router.get("/households/{household_id}/codes", response={200: list[CodeOut], **READ_ERRORS})
def household_codes(request, household_id: int):
    """The resident codes of a household, to print (one per member)."""
    from bastion.geo.models import Household, Resident

    household = scope.get_scoped_or_404(Household, request.auth, pk=household_id)
    residents = Resident.objects.restrict(request.auth).filter(household=household).order_by("pk")
    return [{"resident_id": r.pk, "name": r.name, "code": resident_code(r.pk)} for r in residents]


# ------------------------------------------------------------------ the public site finder


class QueueReportIn(Schema):
    queue_length: int = Field(ge=0, le=services.QUEUE_MAX, description="People waiting now.")


class QueueReportOut(Schema):
    station_id: int
    queue_length: int
    queue_reported_at: dt.datetime


@router.post("/stations/{station_id}/queue", response={200: QueueReportOut, **WRITE_ERRORS})
def station_queue(request, station_id: int, payload: QueueReportIn):
    """A crew's count of the people waiting in front of its open station; the public site
    finder bases its wait band on it for 15 minutes."""
    station = _station_for_change(request, station_id)
    station = services.station_queue_report(
        actor=request.auth, station=station, length=payload.queue_length, source="api"
    )
    return {
        "station_id": station.pk,
        "queue_length": station.queue_length,
        "queue_reported_at": station.queue_reported_at,
    }


class FinderCommunityOut(Schema):
    id: int
    name: str
    street: str
    district: str


class FinderQueueOut(Schema):
    band: Literal["under_25", "25_50", "over_50"]
    minutes: float
    basis: Literal["reported", "scans"]
    waiting: int | None
    saturated: bool


class FinderSiteOut(Schema):
    id: int
    name: str
    address: str
    community: str
    serves_community: bool
    distance_km: float | None
    opens_at: str
    closes_at: str
    all_day: bool
    within_hours: bool
    open_now: bool
    next_open_at: dt.datetime | None
    open_stations: int
    queue: FinderQueueOut | None


class FinderOut(Schema):
    community: FinderCommunityOut
    computed_at: dt.datetime
    window_minutes: int
    sites: list[FinderSiteOut]


@router.get(
    "/finder/{community_id}",
    auth=None,
    response={200: FinderOut, 404: DetailOut},
    url_name="finder",
)
def finder_public(request, community_id: int, response: HttpResponse):
    """Public, no login: the sampling sites near a community (those serving it first), with
    hours, open now or the next opening, open stations and a wait band (the same figures as
    the page /find/{community_id}/, cached per community; see `testing.finder`)."""
    from django.http import Http404
    from django.utils.cache import patch_cache_control

    from bastion.testing import finder

    data = finder.finder_data(community_id)
    if data is None:
        raise Http404
    patch_cache_control(response, public=True, max_age=finder.CACHE_SECONDS)
    return data


class FamilyCodeOut(Schema):
    household_id: int
    room: str
    code: str


@router.get("/households/{household_id}/family-code", response={200: FamilyCodeOut, **READ_ERRORS})
def household_family_code(request, household_id: int):
    """The household's family code, printed with its resident codes: scanned at a station, it
    samples every member at home not yet sampled into the open tube (all or nobody)."""
    from bastion.geo.models import Household

    household = scope.get_scoped_or_404(Household, request.auth, pk=household_id)
    return {"household_id": household.pk, "room": household.room, "code": family_code(household.pk)}
