"""Writes of places on duty and their rosters: places, shifts built for a day, who is rostered
(assign, remove, swap, transfer), and check-in and check-out."""

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.geo.models import Node
from bastion.people.mobilization.models import (
    AllowanceMonth,
    Assignment,
    CheckEvent,
    CheckKind,
    MonthStatus,
    Place,
    PlaceKind,
    Shift,
    mobilization_setting,
)
from bastion.people.mobilization.services.common import (
    ancestor_ids,
    field_node_problems,
    local_time_text,
    local_today,
)
from bastion.people.models import Person

PLACE_FIELDS = (
    "name",
    "kind",
    "node_id",
    "address",
    "chief_id",
    "shifts_per_day",
    "shift_hours",
    "first_shift_at",
    "required",
    "opened_on",
    "closed_on",
)


PLACE_EDITABLE = {
    "name",
    "address",
    "chief",
    "required",
    "closed_on",
    "shifts_per_day",
    "shift_hours",
    "first_shift_at",
}


def _place_problems(place: Place) -> list[Problem]:
    problems = []
    if not place.name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if place.kind not in PlaceKind.values:
        problems.append(Problem("kind", _("Unknown kind of place.")))
    if not 1 <= place.shifts_per_day <= 6:
        problems.append(Problem("shifts_per_day", _("A day has 1 to 6 shifts.")))
    if not 1 <= place.shift_hours <= 24:
        problems.append(Problem("shift_hours", _("A shift lasts 1 to 24 hours.")))
    elif place.shifts_per_day * place.shift_hours > 24:
        problems.append(
            Problem("shift_hours", _("The shifts of a day add up to more than 24 hours."))
        )
    if not 1 <= place.required <= 50:
        problems.append(Problem("required", _("A shift needs 1 to 50 people.")))
    if place.closed_on is not None and place.closed_on < place.opened_on:
        problems.append(Problem("closed_on", _("A place cannot close before it opened.")))
    return problems


def _place_save(place: Place) -> None:
    try:
        with transaction.atomic():
            place.save()
    except IntegrityError:
        raise Conflict(
            _("This street already has a place named %(name)s.") % {"name": place.name},
            field="name",
        ) from None


@transaction.atomic
def place_create(
    *,
    node: Node,
    name: str,
    kind: str,
    address: str = "",
    chief: Person | None = None,
    shifts_per_day: int = 3,
    shift_hours: int = 8,
    first_shift_at: dt.time = dt.time(8, 0),
    required: int = 2,
    opened_on: dt.date | None = None,
    ref_type: str = "",
    ref_id: int | None = None,
    actor=None,
    source: str = "web",
) -> Place:
    """A place where people are on duty, on a community or below, with its point chief and
    its shift pattern (three 8-hour shifts of two people by default)."""
    place = Place(
        node=node,
        name=name.strip(),
        kind=kind,
        address=address.strip(),
        chief=chief,
        shifts_per_day=shifts_per_day,
        shift_hours=shift_hours,
        first_shift_at=first_shift_at,
        required=required,
        opened_on=opened_on or local_today(),
        ref_type=ref_type,
        ref_id=ref_id,
    )
    problems = field_node_problems(node, "node") + _place_problems(place)
    if problems:
        raise DomainError(problems)
    place.locate(node)
    _place_save(place)
    history.record_created(actor, place, PLACE_FIELDS, source=source)
    return place


@transaction.atomic
def place_update(*, place: Place, actor=None, source: str = "web", **changes) -> Place:
    """Change a place: its name, address, point chief (None removes it), people a shift,
    shift pattern (for shifts not yet built) or closing day."""
    unknown = set(changes) - PLACE_EDITABLE
    if unknown:
        raise DomainError(
            _("These cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    before = history.snapshot(place, PLACE_FIELDS)
    for name, value in changes.items():
        setattr(place, name, value.strip() if isinstance(value, str) else value)
    problems = _place_problems(place)
    if problems:
        raise DomainError(problems)
    _place_save(place)
    if "required" in changes:  # shifts still to come need the new number
        Shift.objects.filter(place=place, starts_at__gt=timezone.now()).update(
            required=place.required
        )
    history.record_update(actor, place, before, PLACE_FIELDS, source=source)
    return place


ASSIGNMENT_FIELDS = ("shift_id", "person_id", "starts_at", "ends_at")


def _refuse_if_paid(row, day: dt.date) -> None:
    """Refuse a change to a day whose allowances are closed over this row's place."""
    closed = (
        AllowanceMonth.objects.filter(
            node_id__in=ancestor_ids(row), month=day.replace(day=1), status=MonthStatus.CLOSED
        )
        .select_related("node")
        .first()
    )
    if closed is not None:
        raise DomainError(
            _("The allowances of %(month)s are closed for %(node)s, so its shifts cannot change.")
            % {"month": f"{closed.month:%Y-%m}", "node": closed.node.name},
            field="day",
        )


@transaction.atomic
def roster_build(*, place: Place, day: dt.date, actor=None, source: str = "web") -> list[Shift]:
    """Make the shifts of `place` for `day` that do not exist yet; returns all of that day's.
    Building twice builds nothing new."""
    if not place.open_on(day):
        raise DomainError(
            _("%(place)s is not open on %(day)s.") % {"place": place, "day": day}, field="day"
        )
    have = set(Shift.objects.filter(place=place, day=day).values_list("index", flat=True))
    new = []
    for index, starts_at, ends_at in place.shift_times(day):
        if index not in have:
            shift = Shift(
                place=place,
                day=day,
                index=index,
                starts_at=starts_at,
                ends_at=ends_at,
                required=place.required,
            )
            shift.locate(place)
            new.append(shift)
    if new:
        try:
            with transaction.atomic():
                Shift.objects.bulk_create(new)
        except IntegrityError:
            raise Conflict(
                _(
                    "The shifts of this day overlap shifts already built; change the "
                    "pattern back or build another day."
                ),
                field="day",
            ) from None
        history.record(actor, place, "update", {"roster": [None, str(day)]}, source=source)
    return list(Shift.objects.filter(place=place, day=day).order_by("index"))


def duty_problems(
    person: Person, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: Sequence[int] = ()
) -> list[str]:
    """Why `person` cannot be on duty from `starts_at` to `ends_at`: on duty elsewhere at the
    same time, or more hours in a row than allowed (shifts closer than the minimum rest
    count as one stretch). Empty when they can."""
    limit = dt.timedelta(hours=mobilization_setting("BASTION_ROSTER_MAX_HOURS_IN_A_ROW"))
    rest = dt.timedelta(hours=mobilization_setting("BASTION_ROSTER_MIN_REST_HOURS"))
    nearby = list(
        Assignment.objects.filter(
            person=person,
            starts_at__lt=ends_at + rest + limit,
            ends_at__gt=starts_at - rest - limit,
        )
        .exclude(pk__in=list(exclude))
        .select_related("shift__place")
        .order_by("starts_at")
    )
    problems = [
        _("%(person)s is already on duty at %(place)s from %(start)s to %(end)s.")
        % {
            "person": person.name,
            "place": a.shift.place.name,
            "start": local_time_text(a.starts_at),
            "end": local_time_text(a.ends_at),
        }
        for a in nearby
        if a.starts_at < ends_at and a.ends_at > starts_at
    ]
    if problems:
        return problems
    spans = sorted([(a.starts_at, a.ends_at) for a in nearby] + [(starts_at, ends_at)])
    # The stretch holding the new shift: grow it left and right while the gaps are short.
    first, last = starts_at, ends_at
    before = [sp for sp in spans if sp[1] <= starts_at]
    after = [sp for sp in spans if sp[0] >= ends_at]
    for s, e in reversed(before):
        if first - e < rest:
            first = min(first, s)
        else:
            break
    for s, e in after:
        if s - last < rest:
            last = max(last, e)
        else:
            break
    if last - first > limit:
        hours = int((last - first).total_seconds() // 3600)
        return [
            _(
                "%(person)s would be on duty %(hours)d hours in a row (%(start)s to %(end)s); "
                "the limit is %(limit)d hours, with at least %(rest)d hours of rest between."
            )
            % {
                "person": person.name,
                "hours": hours,
                "start": local_time_text(first),
                "end": local_time_text(last),
                "limit": limit.total_seconds() // 3600,
                "rest": rest.total_seconds() // 3600,
            }
        ]
    return []


def _lock_persons(*persons: Person) -> None:
    list(
        Person.objects.select_for_update()
        .filter(pk__in=[p.pk for p in persons])
        .values_list("pk", flat=True)
    )


def _checked_in(*assignments: Assignment) -> bool:
    return CheckEvent.objects.filter(assignment__in=assignments, kind=CheckKind.IN).exists()


@transaction.atomic
def shift_assign(*, shift: Shift, person: Person, actor=None, source: str = "web") -> Assignment:
    """Roster a person on a shift. Refused with the reason if they are on duty elsewhere at
    that time or would be on duty too long in a row; rostering them twice returns the first."""
    _lock_persons(person)
    existing = Assignment.objects.filter(shift=shift, person=person).first()
    if existing is not None:
        return existing
    if shift.ends_at <= timezone.now():
        raise DomainError(_("This shift is over."), field="shift")
    _refuse_if_paid(shift, shift.day)
    problems = duty_problems(person, shift.starts_at, shift.ends_at)
    if problems:
        raise Conflict([Problem("person", m) for m in problems])
    assignment = Assignment(
        shift=shift, person=person, starts_at=shift.starts_at, ends_at=shift.ends_at
    )
    assignment.locate(shift)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise Conflict(
            _("%(person)s is already on duty at that time.") % {"person": person}, field="person"
        ) from None
    history.record_created(actor, assignment, ASSIGNMENT_FIELDS, source=source)
    return assignment


@transaction.atomic
def assignment_remove(*, assignment: Assignment, actor=None, source: str = "web") -> None:
    if _checked_in(assignment):
        raise Conflict(
            _("%(person)s has already checked in; the shift cannot be taken away.")
            % {"person": assignment.person},
            field="assignment",
        )
    _refuse_if_paid(assignment, assignment.shift.day)
    history.record(
        actor,
        assignment,
        "delete",
        history.diff(
            history.snapshot(assignment, ASSIGNMENT_FIELDS), dict.fromkeys(ASSIGNMENT_FIELDS)
        ),
        source=source,
    )
    assignment.delete()


def _movable(assignment: Assignment) -> None:
    if _checked_in(assignment):
        raise Conflict(
            _("%(person)s has already checked in on this shift.") % {"person": assignment.person},
            field="assignment",
        )
    if assignment.ends_at <= timezone.now():
        raise DomainError(_("This shift is over."), field="assignment")
    _refuse_if_paid(assignment, assignment.shift.day)


@transaction.atomic
def assignment_swap(
    *, assignment: Assignment, other: Assignment, actor=None, source: str = "web"
) -> tuple[Assignment, Assignment]:
    """Two persons trade shifts: each takes the other's. Both must be able to."""
    if assignment.pk == other.pk or assignment.person_id == other.person_id:
        raise DomainError(_("Choose a shift of someone else."), field="other")
    if assignment.shift_id == other.shift_id:
        raise DomainError(_("Both are on the same shift already."), field="other")
    _lock_persons(assignment.person, other.person)
    for a in (assignment, other):
        _movable(a)
    a_person, b_person = assignment.person, other.person
    if (
        Assignment.objects.filter(shift=other.shift, person=a_person).exists()
        or Assignment.objects.filter(shift=assignment.shift, person=b_person).exists()
    ):
        raise DomainError(_("One of them is already on the other shift."), field="other")
    problems = duty_problems(
        a_person, other.starts_at, other.ends_at, exclude=[assignment.pk, other.pk]
    )
    problems += duty_problems(
        b_person, assignment.starts_at, assignment.ends_at, exclude=[assignment.pk, other.pk]
    )
    if problems:
        raise Conflict([Problem("other", m) for m in problems])
    before_a = history.snapshot(assignment, ASSIGNMENT_FIELDS)
    before_b = history.snapshot(other, ASSIGNMENT_FIELDS)
    a_shift, b_shift = assignment.shift, other.shift
    # Each row keeps its person and moves to the other shift: no moment has a person twice.
    for row, shift in ((assignment, b_shift), (other, a_shift)):
        row.shift, row.starts_at, row.ends_at = shift, shift.starts_at, shift.ends_at
        row.locate(shift)
        row.save()
    history.record_update(actor, assignment, before_a, ASSIGNMENT_FIELDS, source=source)
    history.record_update(actor, other, before_b, ASSIGNMENT_FIELDS, source=source)
    return assignment, other


@transaction.atomic
def assignment_transfer(
    *, assignment: Assignment, person: Person, actor=None, source: str = "web"
) -> Assignment:
    """Give a rostered shift to someone else (a replacement)."""
    if person.pk == assignment.person_id:
        raise DomainError(_("Choose someone else."), field="person")
    _lock_persons(assignment.person, person)
    _movable(assignment)
    if Assignment.objects.filter(shift=assignment.shift, person=person).exists():
        raise DomainError(
            _("%(person)s is already on this shift.") % {"person": person}, field="person"
        )
    problems = duty_problems(person, assignment.starts_at, assignment.ends_at)
    if problems:
        raise Conflict([Problem("person", m) for m in problems])
    before = history.snapshot(assignment, ASSIGNMENT_FIELDS)
    assignment.person = person
    assignment.save(update_fields=["person"])
    history.record_update(actor, assignment, before, ASSIGNMENT_FIELDS, source=source)
    return assignment


def _replayed_check(
    client_id: uuid.UUID | None, assignment: Assignment, kind: str
) -> CheckEvent | None:
    if client_id is None:
        return None
    found = CheckEvent.objects.filter(client_id=client_id).first()
    if found is None:
        return None
    if found.assignment_id != assignment.pk or found.kind != kind:
        raise Conflict(_("This client id was already used for another record."), field="client_id")
    return found


def _check_time(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=5):
        raise DomainError(_("The time lies in the future."), field="at")
    return at


@transaction.atomic
def duty_check_in(
    *,
    assignment: Assignment,
    actor=None,
    at: dt.datetime | None = None,
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> CheckEvent:
    """Check a rostered person in (from an hour before the start to the end of the shift).
    A retry with the same client id returns the first check-in and writes nothing."""
    if (found := _replayed_check(client_id, assignment, CheckKind.IN)) is not None:
        return found
    done = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.IN).first()
    if done is not None:
        raise Conflict(
            _("%(person)s already checked in at %(at)s.")
            % {"person": assignment.person, "at": local_time_text(done.at)},
            field="at",
        )
    at = _check_time(at)
    early = dt.timedelta(minutes=mobilization_setting("BASTION_CHECK_IN_EARLY_MINUTES"))
    if at < assignment.starts_at - early:
        raise DomainError(
            _("Too early: this shift starts at %(start)s.")
            % {"start": local_time_text(assignment.starts_at)},
            field="at",
        )
    if at >= assignment.ends_at:
        raise DomainError(_("This shift is over."), field="at")
    _refuse_if_paid(assignment, assignment.shift.day)
    event = CheckEvent(
        assignment=assignment,
        kind=CheckKind.IN,
        day=assignment.shift.day,
        at=at,
        client_id=client_id,
        by=actor if actor is not None and actor.is_authenticated else None,
    )
    event.locate(assignment)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:  # the same check-in raced in twice
        if (found := _replayed_check(client_id, assignment, CheckKind.IN)) is not None:
            return found
        raise Conflict(
            _("%(person)s already checked in.") % {"person": assignment.person}, field="at"
        ) from None
    history.record(
        actor, assignment, "update", {"checked_in": [None, at.isoformat()]}, source=source
    )
    return event


@transaction.atomic
def duty_check_out(
    *,
    assignment: Assignment,
    actor=None,
    at: dt.datetime | None = None,
    note: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> CheckEvent:
    """Check a person out, with the handover note for the next shift. Idempotent by client
    id like the check-in."""
    if (found := _replayed_check(client_id, assignment, CheckKind.OUT)) is not None:
        return found
    checked_in = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.IN).first()
    if checked_in is None:
        raise DomainError(
            _("%(person)s has not checked in.") % {"person": assignment.person}, field="at"
        )
    done = CheckEvent.objects.filter(assignment=assignment, kind=CheckKind.OUT).first()
    if done is not None:
        raise Conflict(
            _("%(person)s already checked out at %(at)s.")
            % {"person": assignment.person, "at": local_time_text(done.at)},
            field="at",
        )
    at = _check_time(at)
    if at < checked_in.at:
        raise DomainError(_("A check-out cannot come before the check-in."), field="at")
    _refuse_if_paid(assignment, assignment.shift.day)
    event = CheckEvent(
        assignment=assignment,
        kind=CheckKind.OUT,
        day=assignment.shift.day,
        at=at,
        note=note.strip()[:2000],
        client_id=client_id,
        by=actor if actor is not None and actor.is_authenticated else None,
    )
    event.locate(assignment)
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        if (found := _replayed_check(client_id, assignment, CheckKind.OUT)) is not None:
            return found
        raise Conflict(
            _("%(person)s already checked out.") % {"person": assignment.person}, field="at"
        ) from None
    history.record(
        actor, assignment, "update", {"checked_out": [None, at.isoformat()]}, source=source
    )
    return event
