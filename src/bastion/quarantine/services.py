"""Every write of a quarantine site, one keyword-only function per use case, transactional,
refusing bad input with the field named and nothing written: the site's terms, rooms (one by
one, from a pattern or a spreadsheet, all or nothing), the intake (from a checkpoint's
hand-over, a call list, returnees, a positive response) into a room, the twice-daily health
checks, the incidents of a stay, the release (before the planned end only with a reason) with
the hand-over to the home community, and the transfer out.

A room's beds are taken under `select_for_update` and counted on the room, which the database
keeps within its capacity (`quarantine_room_not_over_full`): of two staff assigning the last
bed at once, the second waits for the first and is told the room is full."""

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.checkpoints.checks import FEVER_FROM, document_check, phone_check, temperature_check
from bastion.checkpoints.models import Decision, Occupant
from bastion.checkpoints.services import occupant_receive
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.history import record_created, record_update, snapshot
from bastion.core.idempotency import create_once, created_once
from bastion.core.sheets.columns import Column, header_index, header_key
from bastion.core.sheets.reading import cell_text, sheet_read
from bastion.geo.models import Node, Resident
from bastion.incidents.transfers.models import Destination, Reason, Transfer
from bastion.incidents.transfers.models import State as TransferState
from bastion.incidents.transfers.services import transfer_arrive, transfer_depart, transfer_plan
from bastion.people.mobilization.models import Place, PlaceKind
from bastion.quarantine.models import (
    SYMPTOMS,
    Half,
    HealthCheck,
    IncidentKind,
    Room,
    RoomState,
    Site,
    Source,
    Stay,
    StayIncident,
    StayState,
    StayStep,
)
from bastion.screening.models import CallRow

MAX_ROOMS = 2000  # rooms one call creates
HOME_LEVELS = ("community", "grid", "building", "unit")


def _site_place(place: Place) -> None:
    if place.kind != PlaceKind.QUARANTINE_SITE:
        raise DomainError(
            _("%(place)s is not a quarantine site.") % {"place": place}, field="place"
        )


def site_terms(place: Place) -> Site:
    """The site's terms, made with the defaults (14 days here, 7 at home) when first read."""
    _site_place(place)
    site = Site.objects.filter(place=place).first()
    if site is None:
        site = Site(place=place)
        site.locate(place)
        site.save()
    return site


@transaction.atomic
def site_set(
    *,
    actor,
    place: Place,
    stay_days: int,
    home_days: int,
    test_days: str = "1,4,7,10,14",
    transfer_to: str | None = None,
) -> Site:
    """Change how long a stay lasts at `place` (days here, then days of home monitoring) and
    the days a test is taken; stays admitted from now on get the new planned end."""
    site = site_terms(place)
    problems = []
    if not 1 <= stay_days <= 60:
        problems.append(Problem("stay_days", _("Between 1 and 60 days.")))
    if not 0 <= home_days <= 60:
        problems.append(Problem("home_days", _("Between 0 and 60 days.")))
    days = [d.strip() for d in test_days.split(",") if d.strip()]
    if any(not d.isdigit() or not 1 <= int(d) <= 60 for d in days):
        problems.append(Problem("test_days", _("Day numbers from 1 to 60, separated by commas.")))
    transfer_to = site.transfer_to if transfer_to is None else transfer_to.strip()
    if len(transfer_to) > 100:
        problems.append(Problem("transfer_to", _("At most 100 characters.")))
    if problems:
        raise DomainError(problems)
    fields = ["stay_days", "home_days", "test_days", "transfer_to"]
    before = snapshot(site, fields)
    site.stay_days, site.home_days, site.transfer_to = stay_days, home_days, transfer_to
    site.test_days = ",".join(str(int(d)) for d in days)
    site.save()
    record_update(actor, site, before, fields)
    return site


# ------------------------------------------------------------------------------ rooms


@dataclass(frozen=True)
class RoomInput:
    block: str
    floor: object
    number: str
    capacity: object = 1


ROOM_COLUMNS = (
    Column("block", "楼栋", "Building", required=True, example="A"),
    Column("floor", "楼层", "Floor", required=True, example="3"),
    Column("number", "房间号", "Room", required=True, example="305", aliases=("房号",)),
    Column("capacity", "床位", "Beds", example="1", aliases=("床位数",)),
)


def rooms_pattern(
    *, buildings: Sequence[str], floors: tuple[int, int], per_floor: int, capacity: int = 1
) -> list[RoomInput]:
    """A hotel's rooms from a pattern: in each building, floors `floors[0]`..`floors[1]`, rooms
    numbered floor then two digits (305 = floor 3, room 5)."""
    if not 1 <= per_floor <= 99:
        raise DomainError(_("Between 1 and 99 rooms a floor."), field="per_floor")
    low, high = floors
    if low > high:
        raise DomainError(_("The first floor is above the last."), field="floors")
    return [
        RoomInput(b.strip(), floor, f"{floor}{n:02d}", capacity)
        for b in buildings
        for floor in range(low, high + 1)
        for n in range(1, per_floor + 1)
    ]


def rooms_from_sheet(*, filename: str, content: bytes) -> list[RoomInput]:
    """Rooms read from an .xlsx or .csv (building, floor, room, beds); DomainError listing
    every bad row."""
    known = header_index(ROOM_COLUMNS)
    sheet = sheet_read(filename=filename, content=content, known=known)
    keys = [known.get(header_key(h)) for h in sheet.header]
    missing = [c for c in ROOM_COLUMNS if c.required and c.key not in keys]
    if missing:
        raise DomainError(
            _("The file has no column %(c)s.") % {"c": "、".join(c.header() for c in missing)},
            field="file",
        )
    rooms = []
    for number, cells in sheet.rows:
        values = {k: cell_text(v) for k, v in zip(keys, cells, strict=False) if k}
        rooms.append(
            (number, RoomInput(values.get("block", ""), values.get("floor", ""),
                               values.get("number", ""), values.get("capacity") or 1))
        )  # fmt: skip
    return rooms


def _int(value, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


@transaction.atomic
def rooms_create(*, actor, place: Place, rooms: Sequence, source: str = "web") -> list[Room]:
    """Rooms of a site, all or none: each checked (building, floor, number, 1–8 beds), none
    twice, none already there; DomainError listing every bad row. `rooms` holds RoomInputs or
    (row number, RoomInput) pairs (a spreadsheet's)."""
    _site_place(place)
    site_terms(place)
    if len(rooms) > MAX_ROOMS:
        raise DomainError(_("At most %(n)s rooms at once.") % {"n": MAX_ROOMS}, field="rooms")
    if not rooms:
        raise DomainError(_("No rooms to create."), field="rooms")
    existing = set(Room.objects.filter(place=place).values_list("block", "number"))
    problems: list[Problem] = []
    made: list[Room] = []
    seen = set()
    for index, item in enumerate(rooms):
        row, room = item if isinstance(item, tuple) else (index, item)
        block = (room.block or "").strip()
        number = (room.number or "").strip()
        floor = _int(room.floor, -5, 200)
        capacity = _int(room.capacity, 1, 8)
        if not block or len(block) > 20:
            problems.append(Problem("block", _("Enter the building (at most 20 characters)."), row))
        if not number or len(number) > 10:
            problems.append(
                Problem("number", _("Enter the room number (at most 10 characters)."), row)
            )
        if floor is None:
            problems.append(Problem("floor", _("The floor is a whole number from -5 to 200."), row))
        if capacity is None:
            problems.append(Problem("capacity", _("Beds: a whole number from 1 to 8."), row))
        if (block, number) in existing:
            problems.append(Problem("number", _("This room exists already."), row))
        elif (block, number) in seen:
            problems.append(Problem("number", _("This room is listed twice."), row))
        seen.add((block, number))
        r = Room(place=place, block=block, floor=floor or 0, number=number,
                 capacity=capacity or 1)  # fmt: skip
        r.locate(place)
        made.append(r)
    if problems:
        raise DomainError(problems)
    Room.objects.bulk_create(made, batch_size=1000)
    record_update(actor, place, {}, [], source=source, extra={"rooms": [None, len(made)]})
    return made


@transaction.atomic
def room_disinfected(*, actor, room: Room) -> Room:
    """An empty room disinfected: ready for the next person."""
    room = Room.objects.select_for_update().get(pk=room.pk)
    if room.state != RoomState.TO_DISINFECT:
        raise DomainError(_("This room is not waiting for disinfection."), field="state")
    before = snapshot(room, ["state"])
    room.state = RoomState.READY
    room.save(update_fields=["state"])
    record_update(actor, room, before, ["state"])
    return room


def _take_bed(room_id: int, place: Place) -> Room:
    """Lock the room and take one of its beds; DomainError naming `room_id` when it is full,
    waiting for disinfection or of another site."""
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None or room.place_id != place.pk:
        raise DomainError(_("No such room at this site."), field="room_id")
    if room.state == RoomState.TO_DISINFECT:
        raise DomainError(
            _("Room %(room)s is waiting for disinfection.") % {"room": room}, field="room_id"
        )
    if room.occupants >= room.capacity:
        raise Conflict(
            _("Room %(room)s is full (%(n)s of %(n)s beds taken): choose another room.")
            % {"room": room, "n": room.capacity},
            field="room_id",
        )
    try:
        with transaction.atomic():
            Room.objects.filter(pk=room.pk).update(
                occupants=F("occupants") + 1, state=RoomState.OCCUPIED
            )
    except IntegrityError:  # the database's own check, should the lock be missing
        raise Conflict(_("Room %(room)s is full.") % {"room": room}, field="room_id") from None
    room.occupants += 1
    room.state = RoomState.OCCUPIED
    return room


def _free_bed(room_id: int) -> None:
    room = Room.objects.select_for_update().get(pk=room_id)
    left = room.occupants - 1
    Room.objects.filter(pk=room_id).update(
        occupants=left, state=RoomState.OCCUPIED if left else RoomState.TO_DISINFECT
    )


# ----------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class PersonInput:
    name: str = ""
    doc_kind: str = "id_card"
    doc_number: str = ""
    phone: str = ""


def _home_columns(stay: Stay, node: Node | None) -> None:
    stay.home_node = node
    stay.home_community_id = getattr(node, "community_id", None)
    stay.home_grid_id = getattr(node, "grid_id", None)


def _person_checked(person: PersonInput) -> tuple[str, str, str, str]:
    problems = []
    name = (person.name or "").strip()
    if not name or len(name) > 50:
        problems.append(Problem("name", _("Enter the name (at most 50 characters).")))
    number = phone = ""
    try:
        number = document_check(person.doc_kind, person.doc_number)
    except ValidationError as error:
        problems.extend(Problem("doc_number", m) for m in error.messages)
    try:
        phone = phone_check(person.phone)
    except ValidationError as error:
        problems.extend(Problem("phone", m) for m in error.messages)
    if problems:
        raise DomainError(problems)
    return name, person.doc_kind, number, phone


STAY_FIELDS = ["place", "room", "source", "admitted_at", "planned_end", "state"]


@created_once(Stay)
@transaction.atomic
def stay_admit(
    *,
    actor,
    place: Place,
    room_id: int,
    source: str,
    person: PersonInput | None = None,
    occupant: Occupant | None = None,
    call_row: CallRow | None = None,
    transfer: Transfer | None = None,
    resident: Resident | None = None,
    home_node: Node | None = None,
    travel_no: str = "",
    arrival_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> Stay:
    """Admit one person to a room of a quarantine site. From a checkpoint's hand-over the
    person is the `occupant` (and the checkpoint learns they were received); from a call list
    the `call_row` (its matched resident); a returnee brings the flight or train and the
    arrival; a positive response names the person, or is the `transfer` (incidents') that
    brings them here, marked arrived if it was on the way. The person's home (a resident's,
    or `home_node`) sees the stay. The planned end is the site's days from today."""
    _site_place(place)
    site = site_terms(place)
    at = at or timezone.now()
    if source not in Source.values:
        raise DomainError(_("Choose where the person came from."), field="source")
    if source == Source.CHECKPOINT:
        if occupant is None:
            raise DomainError(_("Choose the person handed over."), field="occupant_id")
        if occupant.decision != Decision.QUARANTINE or occupant.received_at is not None:
            raise DomainError(_("This person is not waiting to be received."), field="occupant_id")
        person = PersonInput(occupant.name, occupant.doc_kind, occupant.doc_number, occupant.phone)
    elif source == Source.CALL_LIST:
        if call_row is None:
            raise DomainError(_("Choose the row of the call list."), field="call_row_id")
        resident = resident or call_row.resident
        person = PersonInput(
            call_row.name,
            "id_card" if call_row.id_number else (person.doc_kind if person else "id_card"),
            call_row.id_number or (person.doc_number if person else ""),
            call_row.phone or (person.phone if person else ""),
        )
    elif transfer is not None:
        if source != Source.POSITIVE:
            raise DomainError(_("A transfer brings a positive response."), field="source")
        transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
        if (
            transfer.destination != Destination.QUARANTINE
            or transfer.to_place_id != place.pk
            or transfer.state not in (TransferState.ON_THE_WAY, TransferState.ARRIVED)
            or Stay.objects.filter(transfer_in=transfer).exists()
        ):
            raise DomainError(
                _("This transfer is not on its way to this site."), field="transfer_id"
            )
        resident = resident or transfer.resident
        if transfer.resident_id is None:
            person = PersonInput(transfer.name, transfer.doc_kind, transfer.doc_number,
                                 transfer.phone)  # fmt: skip
    if resident is not None and person is None:
        person = PersonInput(resident.name, resident.doc_kind or "id_card",
                             resident.id_number or resident.doc_number, resident.phone)  # fmt: skip
    name, doc_kind, doc_number, phone = _person_checked(person or PersonInput())
    travel_no = re.sub(r"\s", "", travel_no or "").upper()
    if source == Source.RETURNEE:
        problems = []
        if not re.fullmatch(r"[A-Z0-9]{2,8}", travel_no):
            problems.append(
                Problem("travel_no", _("Enter the flight or train number (CA1234, G123)."))
            )
        if arrival_at is None:
            problems.append(Problem("arrival_at", _("Enter when the person arrived.")))
        elif arrival_at > at + dt.timedelta(minutes=5):
            problems.append(Problem("arrival_at", _("This time is in the future.")))
        if problems:
            raise DomainError(problems)
    if home_node is not None and home_node.level not in HOME_LEVELS:
        raise DomainError(
            _("The home is a community, grid, building or unit."), field="home_node_id"
        )
    if Stay.objects.filter(doc_kind=doc_kind, doc_number=doc_number, state=StayState.IN).exists():
        raise Conflict(_("This person is in quarantine already."), field="doc_number")
    room = _take_bed(room_id, place)
    stay = Stay(
        place=place, room=room, name=name, doc_kind=doc_kind, doc_number=doc_number,
        phone=phone, resident=resident, source=source, occupant=occupant, call_row=call_row,
        transfer_in=transfer,
        travel_no=travel_no, arrival_at=arrival_at, admitted_at=at,
        planned_end=timezone.localdate(at) + dt.timedelta(days=site.stay_days),
        admitted_by=actor if getattr(actor, "pk", None) else None, client_id=client_id,
    )  # fmt: skip
    stay.locate(place)
    _home_columns(stay, resident.unit if resident is not None else home_node)
    try:
        with transaction.atomic():
            stay.save()
    except IntegrityError:
        raise Conflict(_("This person is in quarantine already."), field="doc_number") from None
    if occupant is not None:
        occupant_receive(occupant=occupant, at=at)
    if transfer is not None and transfer.state == TransferState.ON_THE_WAY:
        transfer_arrive(actor=actor, transfer=transfer, at=max(at, transfer.departed_at))
    record_created(actor, stay, STAY_FIELDS)
    return stay


def _locked_in(stay: Stay) -> Stay:
    """The stay locked, refused (naming `stay_id`) unless the person is still here."""
    stay = Stay.objects.select_for_update().get(pk=stay.pk)
    if stay.state != StayState.IN:
        raise Conflict(
            _("%(name)s is no longer here (%(state)s).")
            % {"name": stay.name, "state": stay.get_state_display()},
            field="stay_id",
        )
    return stay


# ------------------------------------------------------------------------- the checks


def symptoms_check(symptoms: Sequence[str]) -> str:
    unknown = [s for s in symptoms if s not in SYMPTOMS]
    if unknown:
        raise DomainError(
            _("Unknown symptom: %(s)s.") % {"s": ", ".join(unknown)}, field="symptoms"
        )
    return ",".join(s for s in SYMPTOMS if s in symptoms)


def half_of(at: dt.datetime) -> str:
    """The check of the moment: the morning's until noon, then the afternoon's."""
    return Half.MORNING if timezone.localtime(at).hour < 12 else Half.AFTERNOON


def reading_check(
    *, temperature, symptoms: Sequence[str], half: str, problems: Sequence[Problem] = ()
) -> tuple[Decimal, str, bool]:
    """A twice-daily reading (at a site or at home): the temperature (34–43 °C), the symptoms
    coded and whether it is abnormal (from 37.3 °C or any symptom); every problem, the
    caller's own among them, refused at once."""
    problems = list(problems)
    reading = None
    try:
        reading = temperature_check(temperature)
    except ValidationError as error:
        problems.extend(Problem("temperature", m) for m in error.messages)
    if half not in Half.values:
        problems.append(Problem("half", _("Choose the morning or the afternoon check.")))
    try:
        coded = symptoms_check(symptoms)
    except DomainError as error:
        problems.extend(error.problems)
    if problems:
        raise DomainError(problems)
    return reading, coded, reading >= FEVER_FROM or bool(coded)


@created_once(HealthCheck, caller=lambda kw: kw["actor"])
@transaction.atomic
def check_record(
    *,
    actor,
    stay: Stay,
    temperature,
    symptoms: Sequence[str] = (),
    day: dt.date | None = None,
    half: str | None = None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> HealthCheck:
    """One of the twice-daily checks of a person here: temperature (34–43 °C) and symptoms;
    abnormal from 37.3 °C or with any symptom. Refused for someone released or transferred,
    and for a check of that half-day entered already."""
    at = at or timezone.now()
    day = day or timezone.localdate(at)
    half = half or half_of(at)
    reading, coded, abnormal = reading_check(temperature=temperature, symptoms=symptoms, half=half)
    stay = _locked_in(stay)
    if day < timezone.localdate(stay.admitted_at) or day > timezone.localdate(at):
        raise DomainError(_("The day is outside this stay."), field="day")
    if HealthCheck.objects.filter(stay=stay, day=day, half=half).exists():
        raise Conflict(_("This check was entered already."), field="half")
    check = HealthCheck.objects.create(
        stay=stay, day=day, half=half, temperature=reading, symptoms=coded,
        abnormal=abnormal, checked_at=at,
        checked_by=actor if getattr(actor, "pk", None) else None, client_id=client_id,
    )  # fmt: skip
    if check.abnormal:
        transfer_due(
            actor=actor, stay=stay, reason=Reason.ABNORMAL_CHECK, source=CHECK_SOURCE,
            source_id=check.pk, at=at,
        )  # fmt: skip
    return check


CHECK_SOURCE = "quarantine_check"  # a transfer planned by an abnormal check (its id)
TEST_SOURCE = "quarantine_test"  # a transfer planned by a positive test (its sample's id)
OPEN_TRANSFER = (TransferState.PLANNED, TransferState.ON_THE_WAY)


def transfer_destination(site: Site) -> str:
    """Where the site sends an abnormal case: its own setting, or the default."""
    return site.transfer_to or _("Designated hospital fever clinic")


def _who(stay: Stay) -> dict:
    return {"resident": stay.resident} if stay.resident_id else {
        "name": stay.name, "doc_kind": stay.doc_kind, "doc_number": stay.doc_number,
        "phone": stay.phone,
    }  # fmt: skip


def transfer_due(
    *, actor, stay: Stay, reason: str, source: str, source_id: int, at: dt.datetime
) -> Transfer | None:
    """Plan the transfer out of a person with an abnormal check or a positive test (in
    incidents' transfers: planned, to the site's hospital), once per stay while one is open;
    the staff add the vehicle and escort and mark it departed (`stay_transfer`). The stay
    must be locked by the caller. None when one is open already."""
    if stay.transfer_out_id is not None and stay.transfer_out.state in OPEN_TRANSFER:
        return None
    before = snapshot(stay, ["transfer_out"])
    out = transfer_plan(
        actor=None, destination=Destination.HOSPITAL, reason=reason, from_place=stay.place,
        to_hospital=transfer_destination(site_terms(stay.place)), source=source,
        source_id=source_id, planned_at=at, **_who(stay),
    )  # fmt: skip
    stay.transfer_out = out
    stay.save(update_fields=["transfer_out"])
    record_update(actor, stay, before, ["transfer_out"])
    return out


# ------------------------------------------------------------------------- incidents


@created_once(StayIncident, caller=lambda kw: kw["actor"])
@transaction.atomic
def incident_record(
    *,
    actor,
    stay: Stay,
    kind: str,
    what: str,
    done: str,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
) -> StayIncident:
    """An incident of a stay (a refusal, an illness, someone leaving) and what was done."""
    problems = []
    if kind not in IncidentKind.values:
        problems.append(Problem("kind", _("Choose the kind of incident.")))
    what, done = (what or "").strip(), (done or "").strip()
    if not what or len(what) > 300:
        problems.append(Problem("what", _("Say what happened (at most 300 characters).")))
    if not done or len(done) > 300:
        problems.append(Problem("done", _("Say what was done (at most 300 characters).")))
    if problems:
        raise DomainError(problems)
    return StayIncident.objects.create(
        stay=stay, kind=kind, what=what, done=done, at=at or timezone.now(),
        by=actor if getattr(actor, "pk", None) else None, client_id=client_id,
    )  # fmt: skip


# ----------------------------------------------------------------------- the way out


@transaction.atomic
def stay_release(*, actor, stay: Stay, reason: str = "", at: dt.datetime | None = None) -> Stay:
    """Release a person at the planned end; before it only with a reason. The room's bed is
    freed (the room waits for disinfection when it is empty)."""
    at = at or timezone.now()
    stay = _locked_in(stay)
    reason = (reason or "").strip()
    if timezone.localdate(at) < stay.planned_end and not reason:
        raise DomainError(
            _("The planned end is %(day)s: say why this person is released before it.")
            % {"day": stay.planned_end.isoformat()},
            field="reason",
        )
    if len(reason) > 200:
        raise DomainError(_("At most 200 characters."), field="reason")
    before = snapshot(stay, ["state", "ended_at", "early_reason"])
    stay.state, stay.ended_at, stay.early_reason = StayState.RELEASED, at, reason
    stay.save(update_fields=["state", "ended_at", "early_reason"])
    _free_bed(stay.room_id)
    record_update(actor, stay, before, ["state", "ended_at", "early_reason"])
    return stay


# Called in the hand-over's transaction as `hook(actor=, stay=, at=)`; a DomainError refuses it.
HANDED_OVER: list = []


@transaction.atomic
def stay_hand_over(
    *, actor, stay: Stay, home_node: Node | None = None, at: dt.datetime | None = None
) -> Stay:
    """Hand a released person over to their home community for home health monitoring: the
    home (their own, or `home_node`) and when."""
    stay = Stay.objects.select_for_update().get(pk=stay.pk)
    if stay.state != StayState.RELEASED:
        raise DomainError(_("Only a released person is handed over."), field="stay_id")
    if stay.handed_over_at is not None:
        raise Conflict(_("This person was handed over already."), field="stay_id")
    node = home_node or stay.home_node
    if node is None:
        raise DomainError(_("Choose the home community."), field="home_node_id")
    if node.level not in HOME_LEVELS:
        raise DomainError(
            _("The home is a community, grid, building or unit."), field="home_node_id"
        )
    before = snapshot(stay, ["home_node", "handed_over_at"])
    _home_columns(stay, node)
    stay.handed_over_at = at or timezone.now()
    stay.save(update_fields=["home_node", "home_community", "home_grid", "handed_over_at"])
    record_update(actor, stay, before, ["home_node", "handed_over_at"])
    for hook in HANDED_OVER:  # home monitoring (`quarantine.home`) starts here
        hook(actor=actor, stay=stay, at=stay.handed_over_at)
    return stay


@transaction.atomic
def stay_transfer(
    *,
    actor,
    stay: Stay,
    to: str,
    vehicle: str = "",
    escort: str = "",
    reason: str = "abnormal_check",
    at: dt.datetime | None = None,
) -> Stay:
    """Transfer a person out (转运: an abnormal check, a positive test) to a hospital: to
    where, by which vehicle (its plate), with which escort, when. The transfer is planned in
    incidents' transfers (from this site, `source` "quarantine") and departs now; the bed is
    freed."""
    at = at or timezone.now()
    to, vehicle, escort = (to or "").strip(), (vehicle or "").strip(), (escort or "").strip()
    problems = []
    if not to or len(to) > 100:
        problems.append(Problem("to", _("Say where to (at most 100 characters).")))
    if len(vehicle) > 20:
        problems.append(Problem("vehicle", _("At most 20 characters.")))
    if len(escort) > 50:
        problems.append(Problem("escort", _("At most 50 characters.")))
    if problems:
        raise DomainError(problems)
    stay = _locked_in(stay)
    fields = ["state", "ended_at", "transfer_to", "transfer_vehicle", "transfer_escort"]
    before = snapshot(stay, fields)
    # Planned without the actor: incidents asks a role on the site's place, and the site's
    # staff hold theirs through this stay (checked by the caller); the stay's change record
    # names the actor. A transfer planned by an abnormal check or a positive test is the one
    # that departs (the staff add the vehicle and the escort).
    planned = stay.transfer_out if stay.transfer_out_id else None
    try:
        if planned is not None and planned.state == TransferState.PLANNED:
            out = planned
            if vehicle:
                transfer_depart(actor=None, transfer=out, at=at, plate=vehicle, escort=escort)
        else:
            out = transfer_plan(
                actor=None, destination=Destination.HOSPITAL, reason=reason,
                from_place=stay.place, to_hospital=to, source="quarantine", source_id=stay.pk,
                plate=vehicle, escort=escort, planned_at=at, **_who(stay),
            )  # fmt: skip
            if vehicle:
                transfer_depart(actor=None, transfer=out, at=at)
    except DomainError as error:  # the plate is this form's vehicle
        named = {"plate": "vehicle", "to_hospital": "to"}
        raise DomainError(
            [Problem(named.get(p.field, p.field), p.message, p.row) for p in error.problems]
        ) from None
    stay.transfer_out = out
    fields.append("transfer_out")
    stay.state, stay.ended_at = StayState.TRANSFERRED, at
    stay.transfer_to, stay.transfer_vehicle, stay.transfer_escort = to, vehicle, escort
    stay.save(update_fields=fields)
    _free_bed(stay.room_id)
    record_update(actor, stay, before, fields)
    return stay


def stay_step_once(
    *, actor, stay: Stay, action: str, client_id: uuid.UUID | None, step: Callable[[], Stay]
) -> Stay:
    """Run a step of a stay's way out (`step`: a release, a transfer, a hand-over) once per
    client-made id: a retry gets the stay back and writes nothing; the same id sent with
    another request is refused (409). Without an id the step simply runs."""
    if client_id is None:
        return step()

    def run() -> StayStep:
        done = step()
        return StayStep.objects.create(
            stay=done, action=action, at=timezone.now(),
            by=actor if getattr(actor, "pk", None) else None, client_id=client_id,
        )  # fmt: skip

    row, _created = create_once(StayStep, client_id, actor, run)
    return Stay.objects.get(pk=row.stay_id)
