"""Reads of places on duty and their rosters, and access to one place, shift or assignment:
the row fetched with the user in the same breath (404 outside the scope; 403 when the user
may see it but not act on it)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.scope import CHANGE, VIEW, can, get_scoped_or_404
from bastion.geo.models import (
    Node,
)
from bastion.people.mobilization.models import (
    Assignment,
    CheckEvent,
    CheckKind,
    Place,
    Shift,
)
from bastion.people.mobilization.queries.common import within
from bastion.people.models import Person


def places_under(user, node: Node, *, kind: str = "", action: str = "view") -> QuerySet[Place]:
    rows = Place.objects.restrict(user, action).filter(**within(node))
    if kind:
        rows = rows.filter(kind=kind)
    return rows.select_related("chief", "node").order_by("kind", "name", "id")


@dataclass
class DutyRow:
    assignment: Assignment
    check_in: CheckEvent | None = None
    check_out: CheckEvent | None = None

    @property
    def person(self) -> Person:
        return self.assignment.person


@dataclass
class ShiftRow:
    shift: Shift
    duties: list[DutyRow]
    handover: list[CheckEvent]  # the notes left by the shift before

    @property
    def missing(self) -> int:
        return max(self.shift.required - len(self.duties), 0)

    @property
    def checked_in(self) -> int:
        return sum(1 for d in self.duties if d.check_in)


def _duty_rows(assignments: Sequence[Assignment]) -> dict[int, DutyRow]:
    rows = {a.pk: DutyRow(a) for a in assignments}
    for event in CheckEvent.objects.filter(assignment_id__in=list(rows)):
        row = rows[event.assignment_id]
        event.assignment = row.assignment
        if event.kind == CheckKind.IN:
            row.check_in = event
        else:
            row.check_out = event
    return rows


def place_roster(place: Place, day: dt.date) -> list[ShiftRow]:
    """The shifts of a place on a day (those built), each with its people, their check-ins
    and check-outs, and the handover notes of the shift before. The caller has checked the
    user may see the place."""
    shifts = list(Shift.objects.filter(place=place, day=day).order_by("index"))
    previous = (
        Shift.objects.filter(place=place, starts_at__lt=shifts[0].starts_at)
        .order_by("-starts_at")
        .first()
        if shifts
        else None
    )
    chain = ([previous] if previous else []) + shifts
    assignments = list(
        Assignment.objects.filter(shift__in=chain)
        .select_related("person")
        .order_by("person__name", "id")
    )
    duties = _duty_rows(assignments)
    by_shift = defaultdict(list)
    for a in assignments:
        by_shift[a.shift_id].append(duties[a.pk])
    rows = []
    for prior, shift in zip([previous, *shifts], shifts, strict=False):
        notes = (
            [d.check_out for d in by_shift.get(prior.pk, []) if d.check_out and d.check_out.note]
            if prior
            else []
        )
        rows.append(ShiftRow(shift, by_shift.get(shift.pk, []), notes))
    return rows


@dataclass(frozen=True)
class Gap:
    place: Place
    day: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    required: int
    rostered: int
    built: bool

    @property
    def missing(self) -> int:
        return self.required - self.rostered


def roster_gaps(user, node: Node, day: dt.date) -> list[Gap]:
    """The shifts of `day` at the places of `node`'s subtree open that day with fewer people
    rostered than needed; a shift not built yet is a gap of all its people."""
    places = [p for p in places_under(user, node) if p.open_on(day)]
    counts = {
        (s["place_id"], s["index"]): s
        for s in Shift.objects.filter(place__in=places, day=day)
        .values("place_id", "index", "starts_at", "ends_at", "required")
        .annotate(rostered=Count("assignments"))
    }
    gaps = []
    for place in places:
        for index, starts_at, ends_at in place.shift_times(day):
            s = counts.get((place.pk, index))
            if s is None:
                gaps.append(Gap(place, day, index, starts_at, ends_at, place.required, 0, False))
            elif s["rostered"] < s["required"]:
                gaps.append(
                    Gap(
                        place,
                        day,
                        index,
                        s["starts_at"],
                        s["ends_at"],
                        s["required"],
                        s["rostered"],
                        True,
                    )
                )
    return sorted(gaps, key=lambda g: (g.starts_at, g.place.name))


def my_duties(user, *, now: dt.datetime | None = None) -> list[DutyRow]:
    """The login's own shifts from two hours ago to a day ahead."""
    person = Person.objects.filter(user=user).first() if user.is_authenticated else None
    if person is None:
        return []
    now = now or timezone.now()
    assignments = list(
        Assignment.objects.filter(
            person=person,
            ends_at__gte=now - dt.timedelta(hours=2),
            starts_at__lte=now + dt.timedelta(hours=24),
        )
        .select_related("shift__place", "person")
        .order_by("starts_at")
    )
    return list(_duty_rows(assignments).values())


def places_led(user) -> QuerySet[Place]:
    """The open places whose point chief is the login's person, that the login may see."""
    today = timezone.localdate()
    return (
        Place.objects.restrict(user)
        .filter(chief__user=user, opened_on__lte=today)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=today))
        .select_related("node")
        .order_by("name")
    )


def place_figures(places: Sequence[Place], day: dt.date | None = None) -> dict[int, dict[str, int]]:
    """For each place on `day` (without one: on each place's duty day now, so the night
    shift counts until the morning shift starts): shifts built, people rostered, checked in,
    shifts short."""
    now = timezone.now()
    days = {p.pk: day or p.duty_day(now) for p in places}
    figures = {p.pk: {"shifts": 0, "rostered": 0, "checked_in": 0, "short": 0} for p in places}
    for s in (
        Shift.objects.filter(place__in=places, day__in=set(days.values()))
        .values("place_id", "day", "required")
        .annotate(n=Count("assignments"))
    ):
        if s["day"] != days[s["place_id"]]:
            continue
        f = figures[s["place_id"]]
        f["shifts"] += 1
        f["rostered"] += s["n"]
        f["short"] += s["n"] < s["required"]
    for place_id, on, n in (
        CheckEvent.objects.filter(
            assignment__shift__place__in=places, day__in=set(days.values()), kind=CheckKind.IN
        )
        .values("assignment__shift__place_id", "day")
        .annotate(n=Count("id"))
        .values_list("assignment__shift__place_id", "day", "n")
    ):
        if on == days[place_id]:
            figures[place_id]["checked_in"] = n
    for p in places:
        if p.open_on(days[p.pk]):
            figures[p.pk]["short"] += p.shifts_per_day - figures[p.pk]["shifts"]
    return figures


def may_run(user, place: Place) -> bool:
    """Whether the user may run a place's roster: change scope over it, or being the
    person who is its point chief."""
    if place.chief_id is not None and place.chief.user_id == user.pk and user.is_authenticated:
        return True
    return can(user, CHANGE, place)


def access_place(user, place_id, *, act: bool = False) -> Place:
    place = get_scoped_or_404(
        Place.objects.select_related("node", "chief"), user, VIEW, pk=place_id
    )
    if act and not may_run(user, place):
        raise PermissionDenied(_("Only the point chief or staff of this place may do this."))
    return place


def access_shift(user, shift_id, *, act: bool = False) -> Shift:
    shift = get_scoped_or_404(
        Shift.objects.select_related("place__chief", "place__node"), user, VIEW, pk=shift_id
    )
    if act and not may_run(user, shift.place):
        raise PermissionDenied(_("Only the point chief or staff of this place may do this."))
    return shift


def access_assignment(user, assignment_id, *, act: bool = False, own: bool = False) -> Assignment:
    """A rostered duty the user may see; with `act`, one the user may change (the point
    chief, staff with change scope, or — with `own` — the person on duty themself)."""
    assignment = get_scoped_or_404(
        Assignment.objects.select_related("shift__place__chief", "shift__place__node", "person"),
        user,
        VIEW,
        pk=assignment_id,
    )
    if (
        act
        and not (own and assignment.person.user_id == user.pk and user.is_authenticated)
        and not may_run(user, assignment.shift.place)
    ):
        raise PermissionDenied(_("Only the point chief or staff of this place may do this."))
    return assignment
