"""Checkpoints and compound gates over JSON (mounted at /api/v1/checkpoints): the places a
login works at, batches of entries and of gate passages as device writes (client ids; one
result per item: accepted, replayed or refused with the fields named), a plate's usual people,
the residents a gate finds, the boards. Thin: reads in `queries`, writes in `services`."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from bastion.checkpoints import queries, services
from bastion.checkpoints.models import Entry
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, ProblemOut, get_for_change
from bastion.core.plates import plate_parse
from bastion.geo.identity import mask_id_number, mask_name
from bastion.people.mobilization.models import Place, PlaceKind

router = Router(tags=["checkpoints"])

MAX_BATCH = services.MAX_BATCH


class PlaceOut(Schema):
    id: int
    name: str
    kind: str
    node_id: int
    address: str


class OccupantIn(Schema):
    name: str = Field(max_length=50)
    doc_kind: str = Field("id_card", max_length=16)
    doc_number: str = Field(
        "", max_length=30, description="Empty with `known_id`: the number seen before."
    )
    phone: str = Field("", max_length=20)
    health_code: Literal["green", "yellow", "red"]
    temperature: float = Field(description="°C, 34–43.")
    decision: Literal["pass", "escort", "turned_back", "quarantine", "fever_clinic"]
    driver: bool = False
    travel_places: str = Field("", max_length=200)
    last_test_at: dt.datetime | None = None
    known_id: int | None = Field(
        None, description="A person of this plate seen before (GET .../plates/{plate})."
    )


class EntryIn(Schema):
    client_id: UUID = Field(description="Made by the device; a retry with it replays.")
    kind: Literal["truck", "car", "bus", "van", "two_wheeler", "on_foot"]
    plate: str = Field("", max_length=12)
    cargo: str = Field("", max_length=100)
    origin: str = Field("", max_length=100)
    destination: str = Field("", max_length=100)
    arrived_at: dt.datetime | None = Field(None, description="Default: now.")
    left_at: dt.datetime | None = None
    occupants: list[OccupantIn] = Field(max_length=services.MAX_OCCUPANTS)


class EntryBatchIn(Schema):
    entries: list[EntryIn] = Field(max_length=MAX_BATCH)


class ResultOut(Schema):
    client_id: UUID
    status: Literal["accepted", "replayed", "refused"]
    id: int | None
    errors: list[ProblemOut]
    message: str = Field("", description="A gate's reason for turning the person back.")


class BatchOut(Schema):
    accepted: int
    replayed: int
    refused: int
    results: list[ResultOut]


class UsualOccupantOut(Schema):
    known_id: int
    driver: bool
    name: str
    doc_kind: str
    doc_number: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    health_code: str
    travel_places: str


class PlateOut(Schema):
    plate: str
    kind: str
    cargo: str
    origin: str
    destination: str
    seen: int
    occupants: list[UsualOccupantOut]


class LineOut(Schema):
    at: dt.datetime | dt.date
    vehicles: int
    people: int
    turned_back: int
    handed_over: int


class BoardOut(Schema):
    day: dt.date
    hours: list[LineOut]
    days: list[LineOut]
    handed_over_today: int


class PassageIn(Schema):
    client_id: UUID
    direction: Literal["in", "out"]
    resident_id: int | None = None
    visitor_name: str = Field("", max_length=50)
    phone: str = Field("", max_length=20)
    purpose: str = Field("", max_length=100)
    host_id: int | None = Field(None, description="The household visited.")
    temperature: float | None = None
    at: dt.datetime | None = None
    refused: bool = False
    reason: str = Field("", max_length=200)


class PassageBatchIn(Schema):
    passages: list[PassageIn] = Field(max_length=MAX_BATCH)


class GateResidentOut(Schema):
    resident_id: int
    name: str = Field(description="Masked: the family name shown.")
    id_number: str = Field(description="Masked.")
    household_id: int
    room: str


class GateLineOut(Schema):
    at: dt.datetime
    came_in: int
    went_out: int
    turned_back: int


def _batch(outcomes: list[services.Outcome]) -> dict:
    counts = {"accepted": 0, "replayed": 0, "refused": 0}
    results = []
    for o in outcomes:
        counts[o.status] += 1
        results.append(
            {
                "client_id": o.client_id,
                "status": o.status,
                "id": o.id,
                "errors": [p.as_dict() for p in o.problems],
                "message": o.message,
            }
        )
    return counts | {"results": results}


def _place(request, place_id: int, kind: str) -> Place:
    return queries.place_for(request.auth, place_id, kind)


@router.get("/places", response={200: list[PlaceOut], **READ_ERRORS})
def checkpoint_places(request, kind: Literal["checkpoint", "guard_point"] = "checkpoint"):
    """The checkpoints (or compound gates: guard points) the login sees."""
    return [
        {"id": p.pk, "name": p.name, "kind": p.kind, "node_id": p.node_id, "address": p.address}
        for p in queries.places_for(request.auth, kind)
    ]


@router.post("/places/{checkpoint_id}/entries/batch", response={200: BatchOut, **WRITE_ERRORS})
def entry_batch(request, checkpoint_id: int, payload: EntryBatchIn):
    """Up to 100 vehicles (or people on foot) checked at a checkpoint, in one transaction;
    one result per entry. A refused entry names its fields (`occupants[1].temperature`) and
    does not stop the others; a client id stored before replays."""
    place = get_for_change(
        Place.objects.filter(kind=PlaceKind.CHECKPOINT), request.auth, pk=checkpoint_id
    )
    items = [
        services.EntryInput(
            **e.dict(exclude={"occupants"}),
            occupants=[services.OccupantInput(**o.dict()) for o in e.occupants],
        )
        for e in payload.entries
    ]
    return _batch(services.entries_record(actor=request.auth, place=place, items=items))


@router.post("/entries/{entry_id}/leave", response={200: dict, **WRITE_ERRORS})
def entry_leave(request, entry_id: int):
    """The vehicle left the checkpoint now."""
    entry = get_for_change(Entry, request.auth, pk=entry_id)
    entry = services.entry_leave(actor=request.auth, entry=entry)
    return {"id": entry.pk, "left_at": entry.left_at.isoformat()}


@router.get("/places/{checkpoint_id}/plates/{plate}", response={200: PlateOut, **READ_ERRORS})
def plate_usual(request, checkpoint_id: int, plate: str):
    """What a plate seen before fills in: its route and its last entry's people (masked;
    send their `known_id` with the number left empty). 404 for a plate never seen."""
    _place(request, checkpoint_id, PlaceKind.CHECKPOINT)
    try:
        number = plate_parse(plate).number
    except ValidationError:
        raise Http404("Not a plate.") from None
    usual = queries.plate_usual(request.auth, number)
    if usual is None:
        raise Http404("This plate was not seen here.")
    return usual


@router.get("/places/{checkpoint_id}/board", response={200: BoardOut, **READ_ERRORS})
def checkpoint_board(request, checkpoint_id: int, day: dt.date | None = None):
    """A checkpoint's figures per hour of `day` (today by default) and per day of the week
    up to it: vehicles and people checked, turned back, handed over."""
    place = _place(request, checkpoint_id, PlaceKind.CHECKPOINT)
    day = day or timezone.localdate()
    return {
        "day": day,
        "hours": [vars(line) for line in queries.checkpoint_hours(place, day)],
        "days": [vars(line) for line in queries.checkpoint_days(place, day)],
        "handed_over_today": queries.handovers(place, day).count(),
    }


@router.post("/gates/{gate_id}/passages/batch", response={200: BatchOut, **WRITE_ERRORS})
def passage_batch(request, gate_id: int, payload: PassageBatchIn):
    """Up to 100 people through a compound's gate. A resident of a sealed unit (or leaving a
    controlled area) is stored as turned back and the result's `message` says why."""
    gate = get_for_change(
        Place.objects.filter(kind=PlaceKind.GUARD_POINT), request.auth, pk=gate_id
    )
    items = [services.PassageInput(**p.dict()) for p in payload.passages]
    return _batch(services.passages_record(actor=request.auth, gate=gate, items=items))


@router.get("/gates/{gate_id}/people", response={200: list[GateResidentOut], **READ_ERRORS})
def gate_people(request, gate_id: int, q: str = Query(..., max_length=50)):
    """Residents of the gate's compound by name, the last digits of their ID number, or their
    household's family code."""
    gate = _place(request, gate_id, PlaceKind.GUARD_POINT)
    return [
        {
            "resident_id": r.pk,
            "name": mask_name(r.name),
            "id_number": mask_id_number(r.id_number or r.doc_number),
            "household_id": r.household_id,
            "room": str(r.household),
        }
        for r in queries.gate_people(request.auth, gate, q)
    ]


@router.get("/gates/{gate_id}/hours", response={200: list[GateLineOut], **READ_ERRORS})
def gate_hours(request, gate_id: int, day: dt.date | None = None):
    """A gate's people in, out and turned back per hour of `day` (today by default)."""
    gate = _place(request, gate_id, PlaceKind.GUARD_POINT)
    return [vars(line) for line in queries.gate_hours(gate, day or timezone.localdate())]
