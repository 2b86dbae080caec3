"""Reads shared by the pages, the API and the daily report, each narrowed by the rule of
`models` (the site's staff, the command above it, the person's home): the sites, a site's
rooms and stays, who is still due a check this half-day, the releases and tests due, the
board, the hand-overs waiting at checkpoints, and the daily figures."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.checkpoints.queries import handovers_waiting
from bastion.core import scope
from bastion.incidents.transfers.models import Destination, Transfer
from bastion.incidents.transfers.models import State as TransferState
from bastion.people.mobilization.models import Place, PlaceKind
from bastion.quarantine.models import (
    SITE_LEVELS,
    HealthCheck,
    Room,
    RoomState,
    Site,
    Stay,
    StayIncident,
    StayState,
    staffed_places_q,
)
from bastion.screening.models import CallRow, RowStatus

FIGURES = {
    "quarantine_now": _("In quarantine now"),
    "quarantine_admitted": _("Admitted to quarantine"),
    "quarantine_released": _("Released from quarantine"),
    "quarantine_transferred": _("Transferred out of quarantine"),
}


def sites_for(user, action: str = scope.VIEW) -> QuerySet[Place]:
    """The quarantine sites a login works at or commands (not the ones that merely stand in
    its community or grid)."""
    places = Place.objects.filter(kind=PlaceKind.QUARANTINE_SITE)
    if not (user.is_authenticated and user.is_superuser):
        places = places.filter(
            scope.scope_q(user, action, levels=SITE_LEVELS) | staffed_places_q(user, field="")
        )
    return places.order_by("name", "pk").distinct()


def site_for(user, pk: int, action: str = scope.VIEW) -> Place:
    """One site the login may act on; 404 for any other place."""
    place = sites_for(user, action).filter(pk=pk).first()
    if place is None:
        raise scope.NotFound(Place, {"pk": pk})
    return place


def site_terms(place: Place) -> Site | None:
    return Site.objects.filter(place=place).first()


def rooms_of(place: Place) -> QuerySet[Room]:
    return Room.objects.filter(place=place).order_by("block", "floor", "number")


def free_rooms(place: Place) -> QuerySet[Room]:
    """Rooms with a free bed, ready or partly taken."""
    return rooms_of(place).filter(occupants__lt=F("capacity")).exclude(state=RoomState.TO_DISINFECT)


def stays_in(place: Place) -> QuerySet[Stay]:
    return Stay.objects.filter(place=place, state=StayState.IN).select_related("room")


def due_checks(place: Place, day: dt.date, half: str) -> QuerySet[Stay]:
    """The people here who have no check for `half` of `day` yet, by room."""
    done = HealthCheck.objects.filter(stay=OuterRef("pk"), day=day, half=half)
    return (
        stays_in(place)
        .filter(admitted_at__lt=_day_end(day))
        .exclude(Exists(done))
        .order_by("room__block", "room__floor", "room__number", "pk")
    )


def releases_due(place: Place, day: dt.date) -> QuerySet[Stay]:
    """The people whose planned end is `day` or past, still here."""
    return stays_in(place).filter(planned_end__lte=day).order_by("planned_end", "room__number")


def tests_due(place: Place, day: dt.date) -> list[Stay]:
    """The people whose day of stay (the day of admission is day 1) is a test day."""
    site = site_terms(place)
    days = set(site.test_day_numbers()) if site else set()
    if not days:
        return []
    starts = [day - dt.timedelta(days=n - 1) for n in days]
    bounds = Q()
    for start in starts:
        bounds |= Q(admitted_at__gte=_day_start(start), admitted_at__lt=_day_end(start))
    return list(stays_in(place).filter(bounds).order_by("room__number"))


def call_rows_to_take(user, search: str = "") -> QuerySet[CallRow]:
    """The call-list rows `user` may take into quarantine: rows of the call lists in their
    scope (a call list has no closed state: every list counts) that are in the area and
    from which nobody was admitted yet, newest list first. `search` narrows by name or the
    last digits of the ID number or mobile."""
    rows = (
        CallRow.objects.restrict(user)
        .exclude(status=RowStatus.OUTSIDE)
        .exclude(Exists(Stay.objects.filter(call_row=OuterRef("pk"))))
        .select_related("call_list")
        .order_by("-call_list__created_at", "-call_list_id", "row")
    )
    search = search.strip()[:30]
    if search.isdigit():
        rows = rows.filter(Q(id_number__endswith=search) | Q(phone__endswith=search))
    elif search:
        rows = rows.filter(name__contains=search)
    return rows


def to_transfer(place: Place) -> QuerySet[Stay]:
    """The people here whose transfer out is planned (by an abnormal check or a positive
    test) and waits for its vehicle."""
    return (
        stays_in(place)
        .filter(transfer_out__state="planned")
        .select_related("transfer_out")
        .order_by("transfer_out__planned_at", "pk")
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _day_end(day: dt.date) -> dt.datetime:
    return _day_start(day) + dt.timedelta(days=1)


@dataclass
class Board:
    rooms: int = 0
    beds: int = 0
    occupied_beds: int = 0
    states: dict = field(default_factory=dict)
    people: int = 0
    due: int = 0
    releases_due: int = 0
    abnormal_today: int = 0
    admitted_today: int = 0
    incidents_today: int = 0


def board(place: Place, day: dt.date, half: str) -> Board:
    """The site's figures: rooms per state, beds taken, people here, checks due this half-day,
    releases due, abnormal checks and admissions today (a handful of aggregate queries)."""
    out = Board()
    totals = (
        rooms_of(place)
        .order_by()
        .aggregate(rooms=Count("id"), beds=Sum("capacity"), taken=Sum("occupants"))
    )
    out.rooms, out.beds, out.occupied_beds = (
        totals["rooms"],
        totals["beds"] or 0,
        totals["taken"] or 0,
    )
    out.states = dict(
        rooms_of(place)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    out.people = stays_in(place).count()
    out.due = due_checks(place, day, half).count()
    out.releases_due = releases_due(place, day).count()
    out.abnormal_today = HealthCheck.objects.filter(
        stay__place=place, day=day, abnormal=True
    ).count()
    out.admitted_today = Stay.objects.filter(
        place=place, admitted_at__gte=_day_start(day), admitted_at__lt=_day_end(day)
    ).count()
    out.incidents_today = StayIncident.objects.filter(
        stay__place=place, at__gte=_day_start(day), at__lt=_day_end(day)
    ).count()
    return out


def room_grid(place: Place) -> list[tuple[str, int, list[Room]]]:
    """The rooms by building and floor, for the board's plan."""
    rows: dict[tuple[str, int], list[Room]] = {}
    for room in rooms_of(place):
        rows.setdefault((room.block, room.floor), []).append(room)
    return [(b, f, rooms) for (b, f), rooms in rows.items()]


def stays_for(user, *, place: Place | None = None, state: str | None = None) -> QuerySet[Stay]:
    """The stays a login sees (a site's, or its residents' at any site)."""
    stays = Stay.objects.restrict(user).select_related("room", "place")
    if place is not None:
        stays = stays.filter(place=place)
    if state:
        stays = stays.filter(state=state)
    return stays


def stay_for(user, pk: int, action: str = scope.VIEW) -> Stay:
    return scope.get_scoped_or_404(
        Stay.objects.select_related("room", "place"), user, action, pk=pk
    )


def home_stays(user) -> QuerySet[Stay]:
    """The login's residents in quarantine or released to it (seen through their home)."""
    home = scope.scope_q(user, scope.VIEW, levels=("community", "grid"), prefix="home_")
    return Stay.objects.filter(home).select_related("place", "room").order_by("-admitted_at")


def waiting_handovers(place: Place):
    """People handed to quarantine at the checkpoints of the site's district, not received
    yet (a district's checkpoints hand over to its quarantine sites), oldest first."""
    return handovers_waiting().filter(district_id=place.district_id)


def transfers_arriving(place: Place) -> QuerySet[Transfer]:
    """Transfers (incidents') to this site on the way or arrived, nobody admitted from them
    yet: the positive response's people to take in, oldest first."""
    taken = Stay.objects.filter(transfer_in=OuterRef("pk"))
    return (
        Transfer.objects.filter(
            destination=Destination.QUARANTINE,
            to_place=place,
            state__in=[TransferState.ON_THE_WAY, TransferState.ARRIVED],
        )
        .exclude(Exists(taken))
        .order_by("departed_at", "pk")
    )


# ------------------------------------------------------------------------- daily report


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid the site stands in: people in quarantine at the end of `day`, admitted,
    released and transferred that day (one GROUP BY)."""
    start, end = _day_start(day), _day_end(day)
    rows = (
        Stay.objects.filter(grid_id__in=grid_ids, admitted_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .order_by()
        .values("grid_id")
        .annotate(
            now=Count("id", filter=Q(ended_at__isnull=True) | Q(ended_at__gte=end)),
            admitted=Count("id", filter=Q(admitted_at__gte=start)),
            released=Count(
                "id", filter=Q(state=StayState.RELEASED, ended_at__gte=start, ended_at__lt=end)
            ),
            transferred=Count(
                "id", filter=Q(state=StayState.TRANSFERRED, ended_at__gte=start, ended_at__lt=end)
            ),
        )
    )
    return {
        r["grid_id"]: {
            "quarantine_now": r["now"],
            "quarantine_admitted": r["admitted"],
            "quarantine_released": r["released"],
            "quarantine_transferred": r["transferred"],
        }
        for r in rows
    }
