"""Stations, tubes and scans over JSON (mounted at /api/v1/testing): a station's state and its
shift, tubes opened and closed, scans one by one or in batches, the codes on a household's
slips."""

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    DetailOut,
    ProblemOut,
    get_for_change,
)
from bastion.geo.identity import mask_id_number
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds import services as round_services
from bastion.testing.rounds.api import (
    RoundOut,
    StationOut,
    round_of,
    round_out,
    station_out,
)
from bastion.testing.rounds.models import Station
from bastion.testing.scans import batch, codes, queries, services, shifts
from bastion.testing.scans.codes import family_code, resident_code
from bastion.testing.scans.models import Tube
from bastion.testing.scans.services import scans_record

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_testing_api"
router = Router(tags=["testing"])

# The stations' scans, mounted first: URL resolution tries the API's paths in order, and these
# are most of its requests on a testing day.
scan_router = Router(tags=["testing"])


MAX_BATCH = batch.MAX_BATCH


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
    judged_per_item: ClassVar[bool] = True  # batch.item_unreadable refuses a poison item alone

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
        "unknown_document, no_document, family_too_big, bad_text (a NUL character in "
        "the named field), bad_data (a value the database cannot store)."
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
    retest: bool = Field(
        description="Accepted: a retest in a single tube. Refused: the person is on the retest "
        "list (sample them in a single tube)."
    )
    scan_id: int | None
    at: dt.datetime | None
    manual: bool = False
    members: list["ScanOut"] = Field(
        default_factory=list, description="A family code's scans, one per member."
    )


class ScanRefusedOut(Schema):
    errors: list[ProblemOut]
    scan: ScanOut | None = Field(
        None, description="The scan refused; absent when the request itself could not be read."
    )


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
    current: TubeStateOut | None = Field(
        None, description="The open tube the crew fills now (kept for every device)."
    )
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


class CodeOut(Schema):
    resident_id: int
    name: str
    code: str


def tube_out(t: Tube) -> dict:
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


def _scan_out(o: batch.ScanOutcome) -> ScanOut:
    """The answer to one scan, built without validation: its values are typed by the service,
    and validating them through ninja cost a tenth of a scan's time (fifty in a batch)."""
    return ScanOut.model_construct(**{**o.__dict__, "members": [_scan_out(m) for m in o.members]})


def station_for_change(request, station_id: int) -> Station:
    return get_for_change(Station.objects.select_related("site"), request.auth, pk=station_id)


def _station_for_scan(request, station_id: int, scans: list[batch.ScanInput]) -> Station:
    """The station `scans` arrive at, answered as `get_for_change` answers (404 outside the
    caller's scope, 403 for a role that may only look), from one plain statement (with the
    station's shifts around the scans) and the caller's grants (`scope.allows`) instead of
    a compiled scoped query per scan."""
    station = shifts.station_for_scans(station_id, [s.at for s in scans])
    if station is None or not scope.allows(request.auth, scope.VIEW, station):
        raise Http404
    if not scope.allows(request.auth, scope.CHANGE, station):
        raise PermissionDenied(_("Your role may not change this."))
    return station


def _input(s: ScanIn) -> batch.ScanInput:
    return batch.ScanInput(
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
    tubes = [
        {"barcode": t.barcode, "filled": t.filled, "capacity": t.capacity, "kind": t.kind}
        for t in state.tubes
    ]
    current_id = state.shift.current_tube_id if state.shift else None
    return {
        "station": station_out(station, state.shift),
        "round": round_out(state.shift.round) if state.shift else None,
        "current": next((tubes[i] for i, t in enumerate(state.tubes) if t.pk == current_id), None),
        "tubes": tubes,
        "recent": recent,
        "per_hour": state.per_hour,
        "today": state.today,
        "manual_today": state.manual,
    }


@router.get("/stations/{station_id}", response={200: StationStateOut, **READ_ERRORS})
def station_detail(request, station_id: int):
    """What a station shows: its round, open tubes with their fill, last scans, per hour."""
    return station_state_out(round_queries.station_for(request.auth, station_id))


@router.post("/stations/{station_id}/open", response={200: ShiftOut, **WRITE_ERRORS})
def station_open(request, station_id: int, payload: OpenIn):
    station = station_for_change(request, station_id)
    round_ = round_of(request, payload.round_id)
    shift = round_services.station_open(
        actor=request.auth, station=station, round=round_, source="api"
    )
    return {
        "station_id": station.pk,
        "round_id": shift.round_id,
        "opened_at": shift.opened_at,
        "closed_at": shift.closed_at,
    }


@router.post("/stations/{station_id}/close", response={200: ShiftOut | None, **WRITE_ERRORS})
def station_close(request, station_id: int):
    station = station_for_change(request, station_id)
    shift = round_services.station_close(actor=request.auth, station=station, source="api")
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
    station = station_for_change(request, station_id)
    tube = services.tube_open(
        actor=request.auth, station=station, barcode=payload.barcode, single=payload.single
    )
    return tube_out(tube)


@router.post(
    "/stations/{station_id}/tubes/{barcode}/close", response={200: TubeOut, **WRITE_ERRORS}
)
def tube_close(request, station_id: int, barcode: str):
    """Close a tube before it is full."""
    station = station_for_change(request, station_id)
    tube = round_queries.one_or_404(
        Tube.objects.filter(station=station), barcode=codes.barcode_text(barcode)
    )
    return tube_out(services.tube_close(actor=request.auth, tube=tube))


@router.get("/stations/{station_id}/people", response={200: list[PersonFoundOut], **READ_ERRORS})
def station_people(request, station_id: int, q: str):
    """Manual entry when a code will not scan: residents of the station's round area found by
    a document number (exact) or a name (part), with the children under them as guardian.
    Send the chosen one's `code` as a scan with `manual` set."""
    station = station_for_change(request, station_id)
    return queries.station_people(request.auth, station, q)


@scan_router.post(
    "/stations/{station_id}/scans",
    response={
        201: ScanOut,
        200: ScanOut,
        409: ScanRefusedOut,
        422: ScanRefusedOut,
        403: DetailOut,
        404: DetailOut,
    },
)
def scan_create(request, station_id: int, payload: ScanIn):
    """One scan: 201 accepted, 200 replayed (this client id was stored before), 422 refused
    with the reason (for `already_sampled`, `scan.tube` is the tube they are in), 409 when
    the client id was used for another scan (`client_id_reused`)."""
    item = _input(payload)
    station = _station_for_scan(request, station_id, [item])
    try:
        outcome = services.scan_record(actor=request.auth, station=station, item=item)
    except batch.ScanRefused as refused:
        status = 409 if refused.outcome.reason == "client_id_reused" else 422
        return Status(status, {"errors": refused.as_list(), "scan": _scan_out(refused.outcome)})
    return Status(201 if outcome.status == "accepted" else 200, _scan_out(outcome))


@scan_router.post("/stations/{station_id}/scans/batch", response={200: BatchOut, **WRITE_ERRORS})
def scan_batch(request, station_id: int, payload: ScanBatchIn):
    """Up to 200 scans in one transaction, in order; one result per scan (accepted, replayed
    or refused with its reason). A refused scan does not stop the others."""
    items = [_input(s) for s in payload.scans]
    station = _station_for_scan(request, station_id, items)
    outcomes = scans_record(actor=request.auth, station=station, items=items)
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
