"""Writes at checkpoints and compound gates. Both arrive as device writes: a batch of items,
each with the client id the phone made, each judged alone (one bad item is refused with the
field named and the others are stored), all the accepted ones written in one transaction
with multi-row INSERTs (`core.bulk`); an item whose client id is stored already is a replay.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    Entry,
    HealthCode,
    Occupant,
    VehicleKind,
)
from bastion.checkpoints.plates import plate_parse
from bastion.core.bulk import insert_rows, insert_rows_returning
from bastion.core.errors import DomainError, Problem
from bastion.core.levels import LEVEL_ORDER
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


def _place_check(place: Place, *kinds: str) -> None:
    if place.kind not in kinds:
        raise DomainError(_("%(place)s is not a checkpoint.") % {"place": place}, field="place")


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


def _occupant_rows(item: EntryInput, index: int) -> list[dict]:
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


def _entry_row(item: EntryInput, index: int, now: dt.datetime) -> dict:
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
        row["occupants"] = _occupant_rows(item, index)
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
        Person.objects.filter(user_id=getattr(actor, "pk", None))
        .values_list("pk", flat=True)
        .first()
    )
    located = [getattr(place, c) for c in LOCATED]
    outcomes: list[Outcome] = []
    accepted: list[tuple[Outcome, dict]] = []
    for index, item in enumerate(items):
        if item.client_id in done:
            outcomes.append(done[item.client_id])
            continue
        try:
            row = _entry_row(item, index, now)
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
