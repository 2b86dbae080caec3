"""Lab results over JSON (mounted at /api/v1/testing): results posted or uploaded for a
round, a tube and its traceback, the retest list."""

from uuid import UUID

from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from bastion.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    get_for_change,
)
from bastion.geo import queries as geo_queries
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.people.models import post_phone
from bastion.testing.results import queries, services
from bastion.testing.rounds.api import (
    NodeRef,
    PlaceOut,
    RoundOut,
    node_ref,
    place_of,
    round_of,
    round_out,
)
from bastion.testing.rounds.models import Round
from bastion.testing.scans import queries as scan_queries
from bastion.testing.scans.api import TubeOut, tube_out
from bastion.testing.scans.models import Result, Tube

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_testing_api"
router = Router(tags=["testing"])


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
    phone: str = Field(
        description="In full for a current five chief (the building notice publishes it), "
        "else masked."
    )


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


class OutsidePersonOut(Schema):
    name: str = Field(description="Masked: the person lives outside the caller's scope.")
    id_number: str = Field(description="Masked.")


class TracebackOut(Schema):
    tube: TubeOut
    round: RoundOut
    station: str
    site: str
    people: int
    hidden: int = Field(description="People in the tube outside the caller's scope.")
    outside: list[OutsidePersonOut] = Field(
        description="Those people, as a station's scan reply shows them: masked, nothing more."
    )
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


def _retest_state(retest) -> str:
    if retest is None:
        return ""
    if retest.tube_id is None:
        return "due"
    return retest.tube.result or "sampled"


@router.get("/rounds/{round_id}/retests", response={200: list[RetestOut], **READ_ERRORS})
def round_retests(request, round_id: int, node_id: int | None = None):
    round_ = round_of(request, round_id)
    node = geo_queries.area_focus(request.auth, round_.node, node_id) if node_id else None
    return [
        {
            "resident_id": r.resident_id,
            "name": r.resident.name,
            "id_number": mask_id_number(r.resident.id_number),
            "place": place_of(r.resident),
            "source_tube": r.source_tube.barcode,
            "tube": r.tube.barcode if r.tube else None,
            "result": _retest_state(r),
        }
        for r in queries.retests(request.auth, round_, node)
    ]


def _import_out(batch, request) -> dict:
    positives = (
        scan_queries.tubes_for(request.auth)
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
        "phone": post_phone(post),
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
                "building": node_ref(b.building),
                "grid": node_ref(first.grid),
                "community": node_ref(first.community),
                "chiefs": chiefs,
                "people": [_traced_person(p, tb.retests) for p in b.people],
            }
        )
    station = tube.station
    return {
        "tube": tube_out(tube),
        "round": round_out(tube.round),
        "station": station.name,
        "site": station.site.name if station.site else "",
        "people": tb.people,
        "hidden": tb.hidden,
        "outside": [{"name": p.name, "id_number": p.id_number} for p in tb.outside],
        "buildings": buildings,
        "walk_ins": [_traced_person(p, tb.retests) for p in tb.walk_ins],
    }


@router.get("/tubes/{tube_id}", response={200: TubeOut, **READ_ERRORS})
def tube_detail(request, tube_id: int):
    return tube_out(scan_queries.tube_for(request.auth, tube_id))


@router.get("/tubes/by-barcode/{barcode}", response={200: TubeOut, **READ_ERRORS})
def tube_by_barcode(request, barcode: str):
    return tube_out(scan_queries.tube_by_barcode(request.auth, barcode))


@router.get("/tubes/{tube_id}/traceback", response={200: TracebackOut, **READ_ERRORS})
def tube_traceback(request, tube_id: int):
    """Who is in the tube, where they live, and the chiefs to call (their numbers as every
    answer shows them: the five chiefs' in full, as the building notice publishes them)."""
    return traceback_out(request, scan_queries.tube_for(request.auth, tube_id))
