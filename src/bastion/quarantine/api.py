"""Quarantine sites over JSON (mounted at /api/v1/quarantine): the sites a login works at,
a site's board and the checks still due, and every write the pages do — rooms, terms, the
intake, a check, an incident, release, transfer, hand-over home, a room disinfected. Creating
writes carry a client id (a retry replays; the same id with another body is 409). Thin:
reads in `queries`, writes in `services`; the scope is the stays' own (`models`)."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from bastion.checkpoints.models import Occupant
from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS
from bastion.core.errors import DomainError, Problem
from bastion.geo.identity import mask_id_number, mask_name
from bastion.geo.models import Node
from bastion.incidents.transfers.models import Transfer
from bastion.quarantine import queries, services
from bastion.quarantine.models import Room
from bastion.screening.models import CallRow

router = Router(tags=["quarantine"])


class SiteOut(Schema):
    id: int
    name: str
    node_id: int
    address: str


class BoardOut(Schema):
    day: dt.date
    half: str
    rooms: int
    beds: int
    occupied_beds: int
    rooms_by_state: dict[str, int]
    people: int
    checks_due: int
    releases_due: int
    admitted_today: int
    abnormal_today: int
    incidents_today: int


class StayOut(Schema):
    id: int
    name: str = Field(description="Masked.")
    doc_number: str = Field(description="Masked.")
    room_id: int
    room: str
    source: str
    state: str
    admitted_at: dt.datetime
    planned_end: dt.date
    ended_at: dt.datetime | None
    handed_over_at: dt.datetime | None


class RoomIn(Schema):
    block: str = Field(max_length=20, description="The hotel's building (楼栋).")
    floor: int = Field(ge=-5, le=200)
    number: str = Field(max_length=10)
    capacity: int = Field(1, ge=1, le=8)


class PatternIn(Schema):
    blocks: list[str] = Field(max_length=20)
    floor_from: int = Field(ge=-5, le=200)
    floor_to: int = Field(ge=-5, le=200)
    per_floor: int = Field(ge=1, le=99)
    capacity: int = Field(1, ge=1, le=8)


class RoomsIn(Schema):
    rooms: list[RoomIn] = Field([], max_length=services.MAX_ROOMS)
    pattern: PatternIn | None = None


class RoomsOut(Schema):
    created: int


class TermsIn(Schema):
    stay_days: int = Field(ge=1, le=60)
    home_days: int = Field(ge=0, le=60)
    test_days: str = Field("1,4,7,10,14", max_length=60)


class TermsOut(Schema):
    stay_days: int
    home_days: int
    test_days: str


class IntakeIn(Schema):
    client_id: UUID = Field(description="Made by the device; a retry with it replays.")
    room_id: int
    source: Literal["checkpoint", "call_list", "returnee", "positive"]
    occupant_id: int | None = Field(None, description="A checkpoint's hand-over waiting.")
    call_row_id: int | None = None
    transfer_id: int | None = Field(
        None, description="A transfer on its way to this site (`positive`)."
    )
    name: str = Field("", max_length=50)
    doc_kind: str = Field("id_card", max_length=16)
    doc_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=20)
    home_node_id: int | None = None
    travel_no: str = Field("", max_length=12)
    arrival_at: dt.datetime | None = None


class CheckIn(Schema):
    client_id: UUID
    temperature: float = Field(description="°C, 34–43.")
    symptoms: list[
        Literal["fever", "cough", "sore_throat", "fatigue", "taste_smell_loss", "diarrhoea"]
    ] = Field([], max_length=6)
    half: Literal["am", "pm"] | None = Field(None, description="Default: the half-day now.")


class CheckOut(Schema):
    id: int
    stay_id: int
    day: dt.date
    half: str
    temperature: float
    abnormal: bool


class IncidentIn(Schema):
    client_id: UUID
    kind: Literal["refusal", "illness", "leaving", "other"]
    what: str = Field(max_length=300)
    done: str = Field(max_length=300)


class IncidentOut(Schema):
    id: int
    stay_id: int
    kind: str
    at: dt.datetime


class ReleaseIn(Schema):
    reason: str = Field("", max_length=200, description="Required before the planned end.")


class TransferIn(Schema):
    to: str = Field(max_length=100, description="The hospital.")
    vehicle: str = Field("", max_length=20, description="The vehicle's plate: it departs now.")
    reason: Literal["abnormal_check", "fever", "positive", "other"] = "abnormal_check"
    escort: str = Field("", max_length=50)


class HandOverIn(Schema):
    home_node_id: int | None = Field(None, description="Default: the person's home.")


class WaitingOut(Schema):
    occupant_id: int
    name: str = Field(description="Masked.")
    doc_number: str = Field(description="Masked.")
    checkpoint: str
    arrived_at: dt.datetime


def _stay(s) -> dict:
    return {
        "id": s.pk,
        "name": mask_name(s.name),
        "doc_number": mask_id_number(s.doc_number),
        "room_id": s.room_id,
        "room": str(s.room),
        "source": s.source,
        "state": s.state,
        "admitted_at": s.admitted_at,
        "planned_end": s.planned_end,
        "ended_at": s.ended_at,
        "handed_over_at": s.handed_over_at,
    }


def _site_for_change(request, quarantine_id: int):
    place = queries.site_for(request.auth, quarantine_id)
    if not queries.sites_for(request.auth, scope.CHANGE).filter(pk=place.pk).exists():
        raise PermissionDenied("Your role may not change this.")
    return place


def _stay_for_change(request, stay_id: int):
    stay = queries.stay_for(request.auth, stay_id)
    if not scope.allows(request.auth, scope.CHANGE, stay):
        raise PermissionDenied("Your role may not change this.")
    return stay


def _node(request, pk: int | None) -> Node | None:
    return None if pk is None else scope.get_scoped_or_404(Node, request.auth, pk=pk)


@router.get("/sites", response={200: list[SiteOut], **READ_ERRORS})
def quarantine_sites(request):
    """The quarantine sites the login works at (staff) or commands (street and above)."""
    return [
        {"id": p.pk, "name": p.name, "node_id": p.node_id, "address": p.address}
        for p in queries.sites_for(request.auth)
    ]


@router.get("/sites/{quarantine_id}/board", response={200: BoardOut, **READ_ERRORS})
def quarantine_board(request, quarantine_id: int):
    """A site's figures now: rooms and beds, people here, checks due this half-day,
    releases due today, admissions, abnormal checks and incidents today."""
    place = queries.site_for(request.auth, quarantine_id)
    now = timezone.localtime()
    half = services.half_of(now)
    b = queries.board(place, now.date(), half)
    return {
        "day": now.date(),
        "half": half,
        "rooms": b.rooms,
        "beds": b.beds,
        "occupied_beds": b.occupied_beds,
        "rooms_by_state": b.states,
        "people": b.people,
        "checks_due": b.due,
        "releases_due": b.releases_due,
        "admitted_today": b.admitted_today,
        "abnormal_today": b.abnormal_today,
        "incidents_today": b.incidents_today,
    }


@router.get("/sites/{quarantine_id}/due", response={200: list[StayOut], **READ_ERRORS})
def quarantine_due(request, quarantine_id: int, half: Literal["am", "pm"] | None = None):
    """The people still due this half-day's check (or `half`'s today), by room."""
    place = queries.site_for(request.auth, quarantine_id)
    now = timezone.localtime()
    return [_stay(s) for s in queries.due_checks(place, now.date(), half or services.half_of(now))]


@router.get("/sites/{quarantine_id}/stays", response={200: list[StayOut], **READ_ERRORS})
def quarantine_stays(
    request, quarantine_id: int, state: Literal["in", "released", "transferred"] = "in"
):
    """A site's stays in `state` (the people here by default), latest first, at most 1,000."""
    place = queries.site_for(request.auth, quarantine_id)
    return [_stay(s) for s in queries.stays_for(request.auth, place=place, state=state)[:1000]]


@router.get("/sites/{quarantine_id}/waiting", response={200: list[WaitingOut], **READ_ERRORS})
def quarantine_waiting(request, quarantine_id: int):
    """People handed to quarantine at the checkpoints of the site's district, not yet
    received, oldest first."""
    place = queries.site_for(request.auth, quarantine_id)
    return [
        {
            "occupant_id": o.pk,
            "name": mask_name(o.name),
            "doc_number": mask_id_number(o.doc_number),
            "checkpoint": o.entry.place.name,
            "arrived_at": o.arrived_at,
        }
        for o in queries.waiting_handovers(place)[:500]
    ]


@router.post("/sites/{quarantine_id}/rooms", response={200: RoomsOut, **WRITE_ERRORS})
def quarantine_rooms_create(request, quarantine_id: int, payload: RoomsIn):
    """Rooms listed, or a `pattern` (blocks × floors × rooms a floor), all or none."""
    place = _site_for_change(request, quarantine_id)
    wanted = [services.RoomInput(r.block, r.floor, r.number, r.capacity) for r in payload.rooms]
    if payload.pattern is not None:
        p = payload.pattern
        wanted += services.rooms_pattern(
            buildings=p.blocks,
            floors=(p.floor_from, p.floor_to),
            per_floor=p.per_floor,
            capacity=p.capacity,
        )
    made = services.rooms_create(actor=request.auth, place=place, rooms=wanted, source="api")
    return {"created": len(made)}


@router.post("/sites/{quarantine_id}/terms", response={200: TermsOut, **WRITE_ERRORS})
def quarantine_terms(request, quarantine_id: int, payload: TermsIn):
    """How long stays last at the site and at home afterwards; the days tests are taken."""
    place = _site_for_change(request, quarantine_id)
    site = services.site_set(actor=request.auth, place=place, **payload.dict())
    return {"stay_days": site.stay_days, "home_days": site.home_days, "test_days": site.test_days}


@router.post("/rooms/{room_id}/disinfected", response={200: dict, **WRITE_ERRORS})
def quarantine_room_disinfected(request, room_id: int):
    """An empty room disinfected: ready again."""
    room = scope.get_scoped_or_404(Room, request.auth, scope.CHANGE, pk=room_id)
    room = services.room_disinfected(actor=request.auth, room=room)
    return {"id": room.pk, "state": room.state}


@router.post("/sites/{quarantine_id}/stays", response={200: StayOut, **WRITE_ERRORS})
def quarantine_admit(request, quarantine_id: int, payload: IntakeIn):
    """Admit one person to a room. `checkpoint`: the `occupant_id` of a hand-over waiting
    (the checkpoint then lists them as received); `call_list`: the `call_row_id`;
    `returnee`: the flight or train and the arrival; `positive`: the person. A full room is
    refused (409 naming `room_id`)."""
    place = _site_for_change(request, quarantine_id)
    kw = {}
    belongs = {"occupant_id": "checkpoint", "call_row_id": "call_list", "transfer_id": "positive"}
    stray = [
        Problem(name, _("Not for a person who came from %(source)s.") % {"source": payload.source})
        for name, source in belongs.items()
        if getattr(payload, name) is not None and payload.source != source
    ]
    if stray:
        raise DomainError(stray)
    if payload.occupant_id is not None:
        occupant = queries.waiting_handovers(place).filter(pk=payload.occupant_id).first()
        if occupant is None:
            raise scope.NotFound(Occupant, {"occupant_id": payload.occupant_id})
        kw["occupant"] = occupant
    if payload.transfer_id is not None:
        transfer = queries.transfers_arriving(place).filter(pk=payload.transfer_id).first()
        if transfer is None:
            raise scope.NotFound(Transfer, {"transfer_id": payload.transfer_id})
        kw["transfer"] = transfer
    if payload.call_row_id is not None:
        kw["call_row"] = scope.get_scoped_or_404(CallRow, request.auth, pk=payload.call_row_id)
    stay = services.stay_admit(
        actor=request.auth,
        place=place,
        room_id=payload.room_id,
        source=payload.source,
        person=services.PersonInput(
            payload.name, payload.doc_kind, payload.doc_number, payload.phone
        ),
        home_node=_node(request, payload.home_node_id),
        travel_no=payload.travel_no,
        arrival_at=payload.arrival_at,
        client_id=payload.client_id,
        **kw,
    )
    return _stay(stay)


@router.get("/stays/{stay_id}", response={200: StayOut, **READ_ERRORS})
def quarantine_stay(request, stay_id: int):
    return _stay(queries.stay_for(request.auth, stay_id))


@router.post("/stays/{stay_id}/checks", response={200: CheckOut, **WRITE_ERRORS})
def quarantine_check(request, stay_id: int, payload: CheckIn):
    """One of the twice-daily checks: temperature (34–43 °C) and symptoms. Refused (409) for
    someone no longer here or a half-day checked already."""
    stay = _stay_for_change(request, stay_id)
    check = services.check_record(
        actor=request.auth,
        stay=stay,
        temperature=payload.temperature,
        symptoms=payload.symptoms,
        half=payload.half,
        client_id=payload.client_id,
    )
    return {
        "id": check.pk,
        "stay_id": stay.pk,
        "day": check.day,
        "half": check.half,
        "temperature": float(check.temperature),
        "abnormal": check.abnormal,
    }


@router.post("/stays/{stay_id}/incidents", response={200: IncidentOut, **WRITE_ERRORS})
def quarantine_incident(request, stay_id: int, payload: IncidentIn):
    """An incident of a stay (refusal, illness, leaving) with what was done."""
    stay = _stay_for_change(request, stay_id)
    incident = services.incident_record(actor=request.auth, stay=stay, **payload.dict())
    return {"id": incident.pk, "stay_id": stay.pk, "kind": incident.kind, "at": incident.at}


@router.post("/stays/{stay_id}/release", response={200: StayOut, **WRITE_ERRORS})
def quarantine_release(request, stay_id: int, payload: ReleaseIn):
    """Release at the planned end; before it only with a `reason`."""
    stay = _stay_for_change(request, stay_id)
    return _stay(services.stay_release(actor=request.auth, stay=stay, reason=payload.reason))


@router.post("/stays/{stay_id}/transfer", response={200: StayOut, **WRITE_ERRORS})
def quarantine_transfer(request, stay_id: int, payload: TransferIn):
    """Transfer out to a hospital (an abnormal check, a positive test): incidents' transfer
    is planned from the site and departs now when the plate is given."""
    stay = _stay_for_change(request, stay_id)
    return _stay(services.stay_transfer(actor=request.auth, stay=stay, **payload.dict()))


@router.post("/stays/{stay_id}/hand-over", response={200: StayOut, **WRITE_ERRORS})
def quarantine_hand_over(request, stay_id: int, payload: HandOverIn):
    """Hand a released person over to the home community for home health monitoring."""
    stay = _stay_for_change(request, stay_id)
    node = _node(request, payload.home_node_id)
    return _stay(services.stay_hand_over(actor=request.auth, stay=stay, home_node=node))
