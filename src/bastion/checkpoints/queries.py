"""Reads shared by the pages, the API and the daily report, each narrowed by the scope:
the places, a plate's usual people, the residents a gate crew finds, and the boards (per hour
of a day and per day: vehicles and people checked, turned back, handed over; a gate's people
in and out and turned back)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.checkpoints.models import (
    HANDED_OVER,
    Decision,
    Direction,
    Entry,
    Occupant,
    Passage,
)
from bastion.core import scope
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Resident
from bastion.geo.queries import resident_search
from bastion.people.mobilization.models import Place
from bastion.testing.scans.codes import read_scanned

FIGURES = {
    "checkpoint_people": _("People checked at checkpoints"),
    "checkpoint_turned_back": _("Turned back at checkpoints"),
    "checkpoint_handed_over": _("Handed over at checkpoints"),
    "gate_turned_back": _("Turned back at compound gates"),
}
USUAL_ENTRIES = 5  # a plate's last entries read to find its usual people


def places_for(user, kind: str) -> QuerySet[Place]:
    return Place.objects.restrict(user).filter(kind=kind).order_by("name", "pk")


def place_for(user, pk: int, kind: str, action: str = scope.VIEW) -> Place:
    return scope.get_scoped_or_404(Place.objects.filter(kind=kind), user, action, pk=pk)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


@dataclass
class Line:
    """One hour's or one day's figures of a checkpoint."""

    at: object
    vehicles: int = 0
    people: int = 0
    turned_back: int = 0
    handed_over: int = 0


def checkpoint_hours(place: Place, day: dt.date) -> list[Line]:
    """The 24 hours of `day` (local) at `place`, every hour listed (one GROUP BY)."""
    start, end = _day_bounds(day)
    rows = _tallies(
        Entry.objects.filter(place=place, arrived_at__gte=start, arrived_at__lt=end), TruncHour
    )
    return [rows.get(h, Line(h)) for h in (start + dt.timedelta(hours=i) for i in range(24))]


def checkpoint_days(place: Place, last: dt.date, days: int = 7) -> list[Line]:
    """The `days` days up to `last` at `place`, newest first."""
    start, end = _day_bounds(last)
    start -= dt.timedelta(days=days - 1)
    rows = _tallies(
        Entry.objects.filter(place=place, arrived_at__gte=start, arrived_at__lt=end), TruncDate
    )
    return [rows.get(d, Line(d)) for d in (last - dt.timedelta(days=i) for i in range(days))]


def _tallies(entries: QuerySet[Entry], trunc) -> dict:
    zone = timezone.get_current_timezone()
    rows = (
        entries.order_by()
        .annotate(at=trunc("arrived_at", tzinfo=zone))
        .values("at")
        .annotate(
            vehicles=Count("id", filter=~Q(kind="on_foot")),
            people=Sum("people"),
            turned_back=Sum("turned_back"),
            handed_over=Sum("handed_over"),
        )
    )
    found = {}
    for r in rows:
        at = r["at"]
        if isinstance(at, dt.datetime):
            at = timezone.localtime(at)
        found[at] = Line(
            at, r["vehicles"], r["people"] or 0, r["turned_back"] or 0, r["handed_over"] or 0
        )
    return found


def handovers(place: Place, day: dt.date) -> QuerySet[Occupant]:
    """The people handed to quarantine or to a fever clinic on `day`, latest first."""
    start, end = _day_bounds(day)
    return (
        Occupant.objects.filter(
            entry__place=place, arrived_at__gte=start, arrived_at__lt=end, decision__in=HANDED_OVER
        )
        .select_related("entry")
        .order_by("-arrived_at", "-id")
    )


def handovers_waiting(user=None, place: Place | None = None) -> QuerySet[Occupant]:
    """The people handed to quarantine and not yet received by a quarantine site, oldest
    first: at `place`, or at every checkpoint `user` sees (the intake's list)."""
    waiting = Occupant.objects.filter(decision=Decision.QUARANTINE, received_at__isnull=True)
    if place is not None:
        waiting = waiting.filter(entry__place=place)
    if user is not None:
        waiting = waiting.restrict(user)
    return waiting.select_related("entry", "entry__place").order_by("arrived_at", "id")


def recent_entries(place: Place, limit: int = 20) -> list[Entry]:
    return list(Entry.objects.filter(place=place).prefetch_related("occupants")[:limit])


def occupant_shown(o: Occupant) -> dict:
    """An occupant as a crew sees them: numbers masked."""
    return {
        "known_id": o.pk,
        "driver": o.driver,
        "name": o.name,
        "doc_kind": o.doc_kind,
        "doc_number": mask_id_number(o.doc_number),  # other documents by their own length
        "phone": mask_mobile(o.phone),
        "health_code": o.health_code,
        "travel_places": o.travel_places,
    }


def plate_usual(user, plate: str) -> dict | None:
    """What a plate seen before fills in: its kind, cargo, route and usual people (those of
    its last entry, the driver first), from the entries the user sees; None if never seen.
    The numbers are masked: the form sends `known_id` and the server copies them."""
    last = list(
        Entry.objects.restrict(user)
        .filter(plate=plate)
        .order_by("-arrived_at", "-id")[:USUAL_ENTRIES]
    )
    if not last:
        return None
    newest = last[0]
    people = [occupant_shown(o) for o in newest.occupants.all()]
    return {
        "plate": newest.plate,
        "kind": newest.kind,
        "cargo": newest.cargo,
        "origin": newest.origin,
        "destination": newest.destination,
        "seen": len(last),
        "occupants": people,
    }


def known_occupants(user, ids: set[int]) -> dict[int, Occupant]:
    """Occupants a form names by `known_id`, as far as the user sees them."""
    if not ids:
        return {}
    return {o.pk: o for o in Occupant.objects.restrict(user).filter(pk__in=ids)}


# -------------------------------------------------------------------------------- gates


def gate_people(user, gate: Place, text: str, limit: int = 20) -> list[Resident]:
    """Residents of the gate's compound found by name, the last digits of an ID number (as
    far as the masks show, `core.privacy.number_search_q`) or the household's family code
    (every member)."""
    text = (text or "").strip()
    if not text:
        return []
    compound = Resident.objects.restrict(user).filter(community_id=gate.community_id)
    scanned = read_scanned(text)
    if scanned.household_id is not None:
        return list(compound.filter(household_id=scanned.household_id).order_by("pk")[:limit])
    if scanned.resident_id is not None:
        return list(compound.filter(pk=scanned.resident_id))
    found = resident_search(user, text, limit=200)
    return [r for r in found if r.community_id == gate.community_id][:limit]


@dataclass
class GateLine:
    at: object
    came_in: int = 0
    went_out: int = 0
    turned_back: int = 0


def gate_hours(gate: Place, day: dt.date) -> list[GateLine]:
    start, end = _day_bounds(day)
    zone = timezone.get_current_timezone()
    rows = (
        Passage.objects.filter(place=gate, at__gte=start, at__lt=end)
        .order_by()
        .annotate(hour=TruncHour("at", tzinfo=zone))
        .values("hour")
        .annotate(
            came_in=Count("id", filter=Q(direction=Direction.IN, refused=False)),
            went_out=Count("id", filter=Q(direction=Direction.OUT, refused=False)),
            turned_back=Count("id", filter=Q(refused=True)),
        )
    )
    found = {
        timezone.localtime(r["hour"]): GateLine(
            timezone.localtime(r["hour"]), r["came_in"], r["went_out"], r["turned_back"]
        )
        for r in rows
    }
    return [found.get(h, GateLine(h)) for h in (start + dt.timedelta(hours=i) for i in range(24))]


def recent_passages(gate: Place, limit: int = 20) -> list[Passage]:
    return list(
        Passage.objects.filter(place=gate).select_related("resident", "host", "host__unit")[:limit]
    )


# ------------------------------------------------------------------------- daily report


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid (the grid the place stands in): people checked, turned back and handed over
    at checkpoints on `day`, and people turned back at compound gates."""
    start, end = _day_bounds(day)
    out: dict[int, dict[str, int]] = {}
    rows = (
        Entry.objects.filter(grid_id__in=grid_ids, arrived_at__gte=start, arrived_at__lt=end)
        .order_by()
        .values("grid_id")
        .annotate(p=Sum("people"), t=Sum("turned_back"), h=Sum("handed_over"))
    )
    for r in rows:
        out.setdefault(r["grid_id"], {}).update(
            checkpoint_people=r["p"] or 0,
            checkpoint_turned_back=r["t"] or 0,
            checkpoint_handed_over=r["h"] or 0,
        )
    gates = (
        Passage.objects.filter(grid_id__in=grid_ids, at__gte=start, at__lt=end, refused=True)
        .order_by()
        .values("grid_id")
        .annotate(n=Count("id"))
    )
    for r in gates:
        out.setdefault(r["grid_id"], {})["gate_turned_back"] = r["n"]
    return out
