"""Writes at checkpoints and compound gates. Both arrive as device writes: a batch of items,
each with the client id the phone made, each judged alone (one bad item is refused with the
field named and the others are stored), all the accepted ones written in one transaction
with multi-row INSERTs (`core.bulk`); an item whose client id is stored already is a replay.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.checkpoints.checks import (
    FEVER_FROM,
    document_check,
    phone_check,
    temperature_check,
)
from bastion.checkpoints.models import (
    HANDED_OVER,
    Decision,
    Direction,
    Entry,
    GateRule,
    HealthCode,
    Occupant,
    Passage,
    VehicleKind,
)
from bastion.checkpoints.queries import known_occupants
from bastion.core.bulk import insert_rows, insert_rows_returning
from bastion.core.errors import DomainError, Problem
from bastion.core.levels import LEVEL_ORDER
from bastion.core.plates import plate_parse
from bastion.geo.models import Household, Resident
from bastion.incidents.models import AREA_LEVELS, ControlLevel
from bastion.incidents.queries import active_levels, strictest_of
from bastion.people.mobilization.models import Place, PlaceKind
from bastion.people.models import Person

MAX_BATCH = 100  # entries (or passages) per batch call
MAX_OCCUPANTS = 60  # a coach full
FUTURE_GRACE = dt.timedelta(minutes=5)  # a phone's clock running ahead
LOCATED = [f"{level}_id" for level in LEVEL_ORDER]


@dataclass(frozen=True)
class OccupantInput:
    name: str
    doc_kind: str
    doc_number: str
    health_code: str
    temperature: object
    decision: str
    driver: bool = False
    phone: str = ""
    travel_places: str = ""
    last_test_at: dt.datetime | None = None
    # A person of a plate seen before (`queries.plate_usual`): their numbers, shown masked
    # on the phone, are copied from that row when `doc_number` (or `phone`) is left empty.
    known_id: int | None = None


@dataclass(frozen=True)
class EntryInput:
    client_id: uuid.UUID
    kind: str
    occupants: Sequence[OccupantInput]
    plate: str = ""
    cargo: str = ""
    origin: str = ""
    destination: str = ""
    arrived_at: dt.datetime | None = None
    left_at: dt.datetime | None = None


@dataclass
class Outcome:
    """One item's fate: accepted (stored now), replayed (stored before) or refused."""

    client_id: uuid.UUID
    status: str
    id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    message: str = ""  # a gate's refusal, shown to the crew


def _place_check(place: Place, kind: str) -> None:
    if place.kind != kind:
        raise DomainError(
            _("%(place)s is not a %(kind)s.") % {"place": place, "kind": PlaceKind(kind).label},
            field="place",
        )


def _when(value: dt.datetime | None, now: dt.datetime, name: str, row: int) -> dt.datetime:
    value = value or now
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + FUTURE_GRACE:
        raise DomainError([Problem(name, _("This time is in the future."), row)])
    return value


def decision_check(*, decision: str, temperature, health_code: str) -> None:
    """The rules a crew cannot override: a fever or a red code does not pass freely."""
    if decision not in Decision.values:
        raise ValidationError(_("Choose a decision."))
    free = decision in (Decision.PASS, Decision.ESCORT)
    if free and temperature >= FEVER_FROM:
        raise ValidationError(
            _("%(t)s °C is a fever: send the person to a fever clinic or turn them back.")
            % {"t": temperature}
        )
    if decision == Decision.PASS and health_code == HealthCode.RED:
        raise ValidationError(
            _("A red code does not pass: hand the person to quarantine or turn them back.")
        )


def _known(o: OccupantInput, known: dict[int, Occupant]) -> OccupantInput:
    """`o` with the numbers of the person it names by `known_id` where it left them empty."""
    if o.known_id is None:
        return o
    if o.known_id not in known:
        raise DomainError(_("This person is not among those seen here before."), field="known_id")
    before = known[o.known_id]
    return replace(
        o,
        doc_kind=o.doc_kind if o.doc_number else before.doc_kind,
        doc_number=o.doc_number or before.doc_number,
        phone=o.phone or before.phone,
    )


def _occupant_rows(item: EntryInput, index: int, known: dict[int, Occupant]) -> list[dict]:
    """The item's people, checked and normalised; DomainError listing every bad field."""
    problems: list[Problem] = []
    rows: list[dict] = []
    if not item.occupants:
        problems.append(Problem("occupants", _("Enter at least one person."), index))
    if len(item.occupants) > MAX_OCCUPANTS:
        problems.append(
            Problem("occupants", _("At most %(n)s people an entry.") % {"n": MAX_OCCUPANTS}, index)
        )
    if sum(1 for o in item.occupants if o.driver) > 1:
        problems.append(Problem("occupants", _("One driver a vehicle."), index))
    seen = set()
    for j, o in enumerate(item.occupants[:MAX_OCCUPANTS]):
        at = f"occupants[{j}]."
        try:
            o = _known(o, known)
        except DomainError:
            problems.append(Problem(at + "known_id", _("Unknown person: enter them."), index))
            continue
        row = {"driver": bool(o.driver), "travel_places": (o.travel_places or "").strip()[:200]}
        name = (o.name or "").strip()
        if not name or len(name) > 50:
            problems.append(
                Problem(at + "name", _("Enter the name (at most 50 characters)."), index)
            )
        row["name"] = name
        checks = (
            ("doc_number", lambda o=o: document_check(o.doc_kind, o.doc_number)),
            ("phone", lambda o=o: phone_check(o.phone)),
            ("temperature", lambda o=o: temperature_check(o.temperature)),
        )
        for name_, check in checks:
            try:
                row[name_] = check()
            except ValidationError as error:
                problems.extend(Problem(at + name_, m, index) for m in error.messages)
        row["doc_kind"] = o.doc_kind
        if (o.doc_kind, row.get("doc_number")) in seen:
            problems.append(Problem(at + "doc_number", _("This person is entered twice."), index))
        seen.add((o.doc_kind, row.get("doc_number")))
        if o.health_code not in HealthCode.values:
            problems.append(
                Problem(at + "health_code", _("Choose the health code's colour."), index)
            )
        row["health_code"] = o.health_code
        if "temperature" in row:
            try:
                decision_check(
                    decision=o.decision, temperature=row["temperature"], health_code=o.health_code
                )
            except ValidationError as error:
                problems.extend(Problem(at + "decision", m, index) for m in error.messages)
        row["decision"] = o.decision
        row["last_test_at"] = o.last_test_at
        rows.append(row)
    if problems:
        raise DomainError(problems)
    return rows


def _entry_row(item: EntryInput, index: int, now: dt.datetime, known: dict) -> dict:
    problems: list[Problem] = []
    row: dict = {"kind": item.kind}
    if item.kind not in VehicleKind.values:
        problems.append(Problem("kind", _("Choose the kind of vehicle."), index))
    plate = (item.plate or "").strip()
    row["plate"] = ""
    if plate or item.kind not in (VehicleKind.ON_FOOT, VehicleKind.TWO_WHEELER):
        try:
            row["plate"] = plate_parse(plate).number
        except ValidationError as error:
            problems.extend(Problem("plate", m, index) for m in error.messages)
    for name in ("cargo", "origin", "destination"):
        value = (getattr(item, name) or "").strip()
        if len(value) > 100:
            problems.append(Problem(name, _("At most 100 characters."), index))
        row[name] = value
    try:
        row["arrived_at"] = _when(item.arrived_at, now, "arrived_at", index)
        row["left_at"] = item.left_at and _when(item.left_at, now, "left_at", index)
    except DomainError as error:
        problems.extend(error.problems)
    if row.get("left_at") and row.get("arrived_at") and row["left_at"] < row["arrived_at"]:
        problems.append(Problem("left_at", _("Out cannot be before in."), index))
    try:
        row["occupants"] = _occupant_rows(item, index, known)
    except DomainError as error:
        problems.extend(error.problems)
    if problems:
        raise DomainError(problems)
    return row


def _shift_index(place: Place, at: dt.datetime) -> int:
    for index, start, end in place.shift_times(place.duty_day(at)):
        if start <= at < end:
            return index
    return 0


def _replays(model, items, place: Place) -> dict[uuid.UUID, Outcome]:
    """The items whose client id is stored: a replay at the same place, else refused."""
    ids = [i.client_id for i in items]
    found = {}
    for pk, client_id, place_id in model.objects.filter(client_id__in=ids).values_list(
        "pk", "client_id", "place_id"
    ):
        if place_id == place.pk:
            found[client_id] = Outcome(client_id, "replayed", pk)
        else:
            problem = Problem("client_id", _("This client id was used for another write."))
            found[client_id] = Outcome(client_id, "refused", None, [problem])
    return found


@transaction.atomic
def entries_record(
    *, actor, place: Place, items: Sequence[EntryInput], at: dt.datetime | None = None
) -> list[Outcome]:
    """A batch of checkpoint entries at `place` (its vehicles and their people), each item
    judged alone; the accepted ones written together. The crew member is the actor's person
    and the shift the place's shift at the vehicle's arrival."""
    _place_check(place, PlaceKind.CHECKPOINT)
    if len(items) > MAX_BATCH:
        raise DomainError(_("At most %(n)s entries a batch.") % {"n": MAX_BATCH}, field="entries")
    now = at or timezone.now()
    done = _replays(Entry, items, place)
    crew_id = (
        Person.objects.filter(user_id=getattr(actor, "pk", -1)).values_list("pk", flat=True).first()
    )
    located = [getattr(place, c) for c in LOCATED]
    known = known_occupants(actor, {o.known_id for i in items for o in i.occupants if o.known_id})
    outcomes: list[Outcome] = []
    accepted: list[tuple[Outcome, dict]] = []
    for index, item in enumerate(items):
        if item.client_id in done:
            outcomes.append(done[item.client_id])
            continue
        try:
            row = _entry_row(item, index, now, known)
        except DomainError as error:
            outcomes.append(Outcome(item.client_id, "refused", None, error.problems))
            continue
        outcome = Outcome(item.client_id, "accepted")
        done[item.client_id] = Outcome(item.client_id, "replayed")  # twice in one batch
        outcomes.append(outcome)
        accepted.append((outcome, row))
    if not accepted:
        return outcomes
    fields = (
        "place", "plate", "kind", "cargo", "origin", "destination", "arrived_at", "left_at",
        "crew", "shift", "entered_by", "client_id", "people", "turned_back", "handed_over",
        *LOCATED,
    )  # fmt: skip
    entry_rows = []
    for outcome, row in accepted:
        people = row["occupants"]
        entry_rows.append(
            (
                place.pk,
                row["plate"],
                row["kind"],
                row["cargo"],
                row["origin"],
                row["destination"],
                row["arrived_at"],
                row["left_at"],
                crew_id,
                _shift_index(place, row["arrived_at"]),
                getattr(actor, "pk", None),
                outcome.client_id,
                len(people),
                sum(1 for p in people if p["decision"] == Decision.TURNED_BACK),
                sum(1 for p in people if p["decision"] in HANDED_OVER),
                *located,
            )  # fmt: skip
        )
    ids = insert_rows_returning(Entry, fields, entry_rows)
    occupant_fields = (
        "entry", "driver", "name", "doc_kind", "doc_number", "phone", "health_code",
        "travel_places", "temperature", "last_test_at", "decision", "arrived_at", *LOCATED,
    )  # fmt: skip
    occupant_rows = []
    for entry_id, (outcome, row) in zip(ids, accepted, strict=True):
        outcome.id = entry_id
        for p in row["occupants"]:
            occupant_rows.append(
                (
                    entry_id,
                    p["driver"],
                    p["name"],
                    p["doc_kind"],
                    p["doc_number"],
                    p["phone"],
                    p["health_code"],
                    p["travel_places"],
                    p["temperature"],
                    p["last_test_at"],
                    p["decision"],
                    row["arrived_at"],
                    *located,
                )  # fmt: skip
            )
    insert_rows(Occupant, occupant_fields, occupant_rows)
    for index, item in enumerate(items):  # a client id twice in the batch: the first's row
        if outcomes[index].status == "replayed" and outcomes[index].id is None:
            first = next(o for o in outcomes if o.client_id == item.client_id and o.id)
            outcomes[index].id = first.id
    return outcomes


def entry_leave(*, actor, entry: Entry, at: dt.datetime | None = None) -> Entry:
    """The vehicle left the checkpoint (once)."""
    at = at or timezone.now()
    if entry.left_at is not None:
        raise DomainError(_("This vehicle has left already."), field="left_at")
    if at < entry.arrived_at:
        raise DomainError(_("Out cannot be before in."), field="left_at")
    Entry.objects.filter(pk=entry.pk, left_at__isnull=True).update(left_at=at)
    entry.left_at = at
    return entry


# ------------------------------------------------------------------------ compound gates


@dataclass(frozen=True)
class PassageInput:
    client_id: uuid.UUID
    direction: str
    resident_id: int | None = None
    visitor_name: str = ""
    phone: str = ""
    purpose: str = ""
    host_id: int | None = None
    temperature: object = None
    at: dt.datetime | None = None
    refused: bool = False  # turned back by the crew, with `reason`
    reason: str = ""


def gate_refusal(*, level: str | None, direction: str) -> str:
    """The `GateRule` by which a resident under `level` may not pass the gate in `direction`
    ("" if they may): a sealed unit's residents stay at home, a controlled area's inside."""
    if level == ControlLevel.SEALED:
        return GateRule.SEALED
    if level == ControlLevel.CONTROLLED and direction == Direction.OUT:
        return GateRule.CONTROLLED
    return ""


def _residents_at(gate: Place, ids: set[int]) -> dict[int, tuple[Resident, str | None]]:
    """The gate's community's residents among `ids`, each with the control level over them
    (the strictest area on their unit or above: one query for all)."""
    residents = {
        r.pk: r for r in Resident.objects.filter(pk__in=ids, community_id=gate.community_id)
    }
    columns = [f"{level}_id" for level in AREA_LEVELS]
    node_ids = {getattr(r, c) for r in residents.values() for c in columns}
    levels = active_levels(node_ids)
    return {
        pk: (r, strictest_of([getattr(r, c) for c in columns], levels))
        for pk, r in residents.items()
    }


def _passage_row(item: PassageInput, index, gate, residents, hosts, now) -> dict:
    problems: list[Problem] = []
    row = {"direction": item.direction, "refused": bool(item.refused), "resident": None}
    if item.direction not in Direction.values:
        problems.append(Problem("direction", _("Choose in or out."), index))
    try:
        row["at"] = _when(item.at, now, "at", index)
    except DomainError as error:
        problems.extend(error.problems)
    row["temperature"] = None
    if item.temperature not in (None, ""):
        try:
            row["temperature"] = temperature_check(item.temperature)
        except ValidationError as error:
            problems.extend(Problem("temperature", m, index) for m in error.messages)
    try:
        row["phone"] = phone_check(item.phone)
    except ValidationError as error:
        problems.extend(Problem("phone", m, index) for m in error.messages)
    row["visitor_name"] = (item.visitor_name or "").strip()[:50]
    row["purpose"] = (item.purpose or "").strip()[:100]
    row["host"] = None
    level = None
    if item.resident_id is not None:
        if item.resident_id not in residents:
            problems.append(Problem("resident_id", _("No such resident in this compound."), index))
        else:
            resident, level = residents[item.resident_id]
            row["resident"] = resident.pk
            row["visitor_name"] = ""
    else:
        if not row["visitor_name"]:
            problems.append(Problem("visitor_name", _("Enter the visitor's name."), index))
        if item.direction == Direction.IN and not row["purpose"]:
            problems.append(Problem("purpose", _("Enter the reason for the visit."), index))
        if item.host_id is not None and item.host_id not in hosts:
            problems.append(Problem("host_id", _("No such household in this compound."), index))
        row["host"] = item.host_id
    reason = (item.reason or "").strip()[:200]
    if item.refused and not reason:
        problems.append(Problem("reason", _("Say why the person is turned back."), index))
    if problems:
        raise DomainError(problems)
    rule = gate_refusal(level=level, direction=item.direction)
    fever = row["temperature"] is not None and row["temperature"] >= FEVER_FROM
    if not rule and fever and item.direction == Direction.IN:
        rule = GateRule.FEVER
    row["rule"] = rule
    row["refused"] = row["refused"] or bool(rule)
    row["reason"] = reason if row["refused"] and not rule else ""
    return row


@transaction.atomic
def passages_record(
    *, actor, gate: Place, items: Sequence[PassageInput], at: dt.datetime | None = None
) -> list[Outcome]:
    """A batch of people through a compound's gate, each judged alone. A resident of a
    sealed unit (or leaving a controlled area) is stored as turned back with the reason,
    which the outcome's `message` carries for the crew to show."""
    _place_check(gate, PlaceKind.GUARD_POINT)
    if len(items) > MAX_BATCH:
        raise DomainError(_("At most %(n)s entries a batch.") % {"n": MAX_BATCH}, field="entries")
    now = at or timezone.now()
    done = _replays(Passage, items, gate)
    residents = _residents_at(gate, {i.resident_id for i in items if i.resident_id is not None})
    hosts = set(
        Household.objects.filter(
            pk__in=[i.host_id for i in items if i.host_id is not None],
            community_id=gate.community_id,
        ).values_list("pk", flat=True)
    )
    located = [getattr(gate, c) for c in LOCATED]
    outcomes: list[Outcome] = []
    accepted: list[tuple[Outcome, dict]] = []
    for index, item in enumerate(items):
        if item.client_id in done:
            outcomes.append(done[item.client_id])
            continue
        try:
            row = _passage_row(item, index, gate, residents, hosts, now)
        except DomainError as error:
            outcomes.append(Outcome(item.client_id, "refused", None, error.problems))
            continue
        why = str(GateRule(row["rule"]).label) if row["rule"] else row["reason"]
        outcome = Outcome(item.client_id, "accepted", message=why)
        done[item.client_id] = outcome
        outcomes.append(outcome)
        accepted.append((outcome, row))
    fields = (
        "place", "direction", "at", "resident", "visitor_name", "phone", "purpose", "host",
        "temperature", "refused", "reason", "rule", "entered_by", "client_id", *LOCATED,
    )  # fmt: skip
    ids = insert_rows_returning(
        Passage,
        fields,
        [
            (
                gate.pk,
                r["direction"],
                r["at"],
                r["resident"],
                r["visitor_name"],
                r["phone"],
                r["purpose"],
                r["host"],
                r["temperature"],
                r["refused"],
                r["reason"],
                r["rule"],
                getattr(actor, "pk", None),
                o.client_id,
                *located,
            )  # fmt: skip
            for o, r in accepted
        ],
    )
    for pk, (outcome, _row) in zip(ids, accepted, strict=True):
        outcome.id = pk
    return outcomes


# ------------------------------------------------------------------ hand-overs received


def occupant_receive(*, occupant: Occupant, at: dt.datetime | None = None) -> Occupant:
    """The quarantine site confirmed receiving a person handed over to quarantine here (the
    quarantine module calls it in its intake's transaction), so the checkpoint's board lists
    only the ones still waiting. Refused for a person not handed to quarantine or received
    already."""
    at = at or timezone.now()
    if occupant.decision != Decision.QUARANTINE:
        raise DomainError(_("This person was not handed to quarantine."), field="occupant_id")
    updated = Occupant.objects.filter(pk=occupant.pk, received_at__isnull=True).update(
        received_at=at
    )
    if not updated:
        raise DomainError(_("This person was received already."), field="occupant_id")
    occupant.received_at = at
    return occupant
