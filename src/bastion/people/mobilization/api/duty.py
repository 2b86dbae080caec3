"""Places on duty and their rosters, check-in and check-out, tomorrow's gaps, my duty."""

import datetime as dt
from uuid import UUID

from django.utils import timezone
from ninja import Field, Schema, Status

from bastion.core.api_schema import Patch
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.idempotency import create_once
from bastion.geo.models import Node
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.api.common import (
    NodeRef,
    PersonRef,
    node_or_root,
    node_ref,
    person_ref,
    router,
)
from bastion.people.mobilization.models import (
    Place,
    PlaceKind,
)

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"


class PlaceIn(Schema):
    node_id: int
    name: str
    kind: PlaceKind
    address: str = ""
    chief_id: int | None = None
    shifts_per_day: int = Field(3, ge=1, le=6)
    shift_hours: int = Field(8, ge=1, le=24)
    first_shift_at: dt.time = dt.time(8, 0)
    required: int = Field(2, ge=1, le=50)
    opened_on: dt.date | None = None
    ref_type: str = Field("", description='Another module\'s record, e.g. "testing.site".')
    ref_id: int | None = None
    client_id: UUID | None = None


class PlacePatchIn(Patch):
    name: str = None
    address: str = None
    chief_id: int | None = Field(None, description="null or 0 removes the point chief.")
    required: int = Field(None, ge=1, le=50)
    closed_on: dt.date | None = Field(None, description="null: open again.")


class PlaceOut(Schema):
    id: int
    name: str
    kind: PlaceKind
    node: NodeRef
    address: str
    chief: PersonRef | None
    shifts_per_day: int
    shift_hours: int
    first_shift_at: dt.time
    required: int
    opened_on: dt.date
    closed_on: dt.date | None
    ref_type: str
    ref_id: int | None
    client_id: UUID | None


class CheckOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    note: str
    client_id: UUID | None


class DutyOut(Schema):
    assignment_id: int
    person: PersonRef
    check_in: CheckOut | None
    check_out: CheckOut | None


class ShiftOut(Schema):
    id: int
    day: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    required: int
    missing: int
    duties: list[DutyOut]
    handover: list[str] = Field(description="Notes left by the shift before.")


class PlaceRosterOut(PlaceOut):
    day: dt.date
    shifts: list[ShiftOut]


class PlaceListItemOut(PlaceOut):
    shifts: int
    rostered: int
    checked_in: int
    short: int = Field(description="Shifts of the day short of people or not built.")


class RosterIn(Schema):
    day: dt.date


class ShiftAssignIn(Schema):
    person_id: int


class AssignmentOut(Schema):
    id: int
    shift_id: int
    place_id: int
    person: PersonRef
    starts_at: dt.datetime
    ends_at: dt.datetime


class SwapIn(Schema):
    other_assignment_id: int


class TransferIn(Schema):
    person_id: int


class CheckInIn(Schema):
    client_id: UUID = Field(..., description="Made by the device; a retry changes nothing.")
    at: dt.datetime | None = Field(None, description="When, by the device's clock; now.")


class CheckOutIn(CheckInIn):
    note: str = Field("", description="Handover note for the next shift.")


class GapOut(Schema):
    place_id: int
    place: str
    day: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    required: int
    rostered: int
    built: bool


class MyDutyOut(Schema):
    assignment_id: int
    place_id: int
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    check_in: CheckOut | None
    check_out: CheckOut | None


def _place(p: Place) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "kind": p.kind,
        "node": node_ref(p.node),
        "address": p.address,
        "chief": person_ref(p.chief) if p.chief_id else None,
        "shifts_per_day": p.shifts_per_day,
        "shift_hours": p.shift_hours,
        "first_shift_at": p.first_shift_at,
        "required": p.required,
        "opened_on": p.opened_on,
        "closed_on": p.closed_on,
        "ref_type": p.ref_type,
        "ref_id": p.ref_id,
        "client_id": p.client_id,
    }


def _check(event) -> dict | None:
    if event is None:
        return None
    return {
        "id": event.pk,
        "kind": event.kind,
        "at": event.at,
        "note": event.note,
        "client_id": event.client_id,
    }


def _roster(place: Place, day: dt.date) -> dict:
    return {
        **_place(place),
        "day": day,
        "shifts": [
            {
                "id": row.shift.pk,
                "day": row.shift.day,
                "index": row.shift.index,
                "starts_at": row.shift.starts_at,
                "ends_at": row.shift.ends_at,
                "required": row.shift.required,
                "missing": row.missing,
                "duties": [
                    {
                        "assignment_id": d.assignment.pk,
                        "person": person_ref(d.person),
                        "check_in": _check(d.check_in),
                        "check_out": _check(d.check_out),
                    }
                    for d in row.duties
                ],
                "handover": [e.note for e in row.handover],
            }
            for row in queries.place_roster(place, day)
        ],
    }


def _assignment(a) -> dict:
    return {
        "id": a.pk,
        "shift_id": a.shift_id,
        "place_id": a.shift.place_id,
        "person": person_ref(a.person),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
    }


@router.get("/places", response={200: list[PlaceListItemOut], **READ_ERRORS})
def place_list(
    request, node: int | None = None, kind: PlaceKind | None = None, day: dt.date | None = None
):
    """Places on duty under a node, with the figures of `day` (today)."""
    place_node = node_or_root(request.user, node)
    day = day or timezone.localdate()
    places = list(queries.places_under(request.user, place_node, kind=kind or ""))
    figures = queries.place_figures(places, day)
    return [{**_place(p), **figures[p.pk]} for p in places]


@router.post("/places", response={201: PlaceOut, 200: PlaceOut, **WRITE_ERRORS})
def place_create(request, payload: PlaceIn):
    node = get_for_change(Node, request.user, pk=payload.node_id)
    chief = None
    if payload.chief_id is not None:
        chief = queries.duty_person(request.user, payload.chief_id)
    place, created = create_once(
        Place,
        payload.client_id,
        request.user,
        lambda: services.place_create(
            node=node,
            name=payload.name,
            kind=payload.kind,
            address=payload.address,
            chief=chief,
            shifts_per_day=payload.shifts_per_day,
            shift_hours=payload.shift_hours,
            first_shift_at=payload.first_shift_at,
            required=payload.required,
            opened_on=payload.opened_on,
            ref_type=payload.ref_type,
            ref_id=payload.ref_id,
            actor=request.user,
            source="api",
        ),
    )
    place = Place.objects.select_related("node", "chief").get(pk=place.pk)
    return Status(201 if created else 200, _place(place))


@router.get("/places/{place_id}", response={200: PlaceRosterOut, **READ_ERRORS})
def place_detail(request, place_id: int, day: dt.date | None = None):
    """A place and its roster of `day` (today): shifts, people, check-ins, handover notes."""
    place = queries.access_place(request.user, place_id)
    return _roster(place, day or timezone.localdate())


@router.patch("/places/{place_id}", response={200: PlaceOut, **WRITE_ERRORS})
def place_update(request, place_id: int, payload: PlacePatchIn):
    place = get_for_change(Place.objects.select_related("node", "chief"), request.user, pk=place_id)
    changes = payload.model_dump(exclude_unset=True)
    if "chief_id" in changes:
        chief_id = changes.pop("chief_id")
        changes["chief"] = queries.duty_person(request.user, chief_id) if chief_id else None
    place = services.place_update(place=place, actor=request.user, source="api", **changes)
    return _place(place)


@router.post("/places/{place_id}/roster", response={200: PlaceRosterOut, **WRITE_ERRORS})
def roster_build(request, place_id: int, payload: RosterIn):
    """Build the shifts of a day (those missing); answers the day's roster."""
    place = queries.access_place(request.user, place_id, act=True)
    services.roster_build(place=place, day=payload.day, actor=request.user, source="api")
    return _roster(place, payload.day)


@router.post(
    "/shifts/{shift_id}/assignments",
    response={201: AssignmentOut, 200: AssignmentOut, **WRITE_ERRORS},
)
def shift_assign(request, shift_id: int, payload: ShiftAssignIn):
    """Roster a person on a shift. Refused (409) with the reason if they are on duty
    elsewhere then, or would be on duty too long in a row. Rostering twice answers 200."""
    shift = queries.access_shift(request.user, shift_id, act=True)
    person = queries.duty_person(request.user, payload.person_id, day=shift.day)
    before = shift.assignments.filter(person=person).exists()
    assignment = services.shift_assign(shift=shift, person=person, actor=request.user, source="api")
    return Status(200 if before else 201, _assignment(assignment))


@router.delete("/assignments/{assignment_id}", response={204: None, **WRITE_ERRORS})
def assignment_remove(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    services.assignment_remove(assignment=assignment, actor=request.user, source="api")
    return Status(204, None)


@router.post(
    "/assignments/{assignment_id}/swap", response={200: list[AssignmentOut], **WRITE_ERRORS}
)
def assignment_swap(request, assignment_id: int, payload: SwapIn):
    """Two persons trade shifts; both must be free and rested for the other's."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    other = queries.access_assignment(request.user, payload.other_assignment_id, act=True)
    a, b = services.assignment_swap(
        assignment=assignment, other=other, actor=request.user, source="api"
    )
    return [_assignment(a), _assignment(b)]


@router.post("/assignments/{assignment_id}/transfer", response={200: AssignmentOut, **WRITE_ERRORS})
def assignment_transfer(request, assignment_id: int, payload: TransferIn):
    """Give a rostered shift to someone else."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    person = queries.duty_person(request.user, payload.person_id, day=assignment.shift.day)
    assignment = services.assignment_transfer(
        assignment=assignment, person=person, actor=request.user, source="api"
    )
    return _assignment(assignment)


@router.post(
    "/assignments/{assignment_id}/check-in", response={201: CheckOut, 200: CheckOut, **WRITE_ERRORS}
)
def check_in(request, assignment_id: int, payload: CheckInIn):
    """Check in (the person themself, the point chief or staff). Idempotent: a retry with the
    same `client_id` answers 200 with the first check-in."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    replay = assignment.checks.filter(client_id=payload.client_id).exists()
    event = services.duty_check_in(
        assignment=assignment,
        actor=request.user,
        at=payload.at,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _check(event))


@router.post(
    "/assignments/{assignment_id}/check-out",
    response={201: CheckOut, 200: CheckOut, **WRITE_ERRORS},
)
def check_out(request, assignment_id: int, payload: CheckOutIn):
    """Check out with the handover note. Idempotent like the check-in."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    replay = assignment.checks.filter(client_id=payload.client_id).exists()
    event = services.duty_check_out(
        assignment=assignment,
        actor=request.user,
        at=payload.at,
        note=payload.note,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _check(event))


@router.get("/gaps", response={200: list[GapOut], **READ_ERRORS})
def gaps(request, node: int | None = None, day: dt.date | None = None):
    """Shifts of `day` (tomorrow) short of people or not built, at the places under a node."""
    place_node = node_or_root(request.user, node)
    day = day or timezone.localdate() + dt.timedelta(days=1)
    return [
        {
            "place_id": g.place.pk,
            "place": g.place.name,
            "day": g.day,
            "index": g.index,
            "starts_at": g.starts_at,
            "ends_at": g.ends_at,
            "required": g.required,
            "rostered": g.rostered,
            "built": g.built,
        }
        for g in queries.roster_gaps(request.user, place_node, day)
    ]


@router.get("/my-duty", response={200: list[MyDutyOut]})
def my_duty(request):
    """The caller's own shifts from two hours ago to a day ahead."""
    return [
        {
            "assignment_id": d.assignment.pk,
            "place_id": d.assignment.shift.place_id,
            "place": d.assignment.shift.place.name,
            "starts_at": d.assignment.starts_at,
            "ends_at": d.assignment.ends_at,
            "check_in": _check(d.check_in),
            "check_out": _check(d.check_out),
        }
        for d in queries.my_duties(request.user)
    ]
