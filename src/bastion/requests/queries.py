"""Reads of the requests module that pages, API, reports and the household's page share.
Staff reads take the user and go through the scope; the household's reads take its link and
see that household only."""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bastion.core import scope
from bastion.core.scope import get_scoped_or_404
from bastion.geo.models import LEVEL_ORDER, Household, Node, Resident, child_level
from bastion.people.mobilization.models import Assignment, Availability, AvailabilityStatus
from bastion.people.models import Person, PersonKind
from bastion.requests.models import (
    ERRAND_OPEN,
    Errand,
    ErrandStatus,
    ErrandUrgency,
    HouseholdLink,
    Meeting,
    Photo,
    Request,
    Status,
    Track,
)

# A search over the places lists at most this many (a phone's select stays short).
PLACES_SHOWN = 200


def unit_places(user, *, q: str = "") -> QuerySet:
    """The units a user may order an errand to, in tree order, each with the names of its
    community, grid and building (`.address`: grid · building · unit). `q` keeps the units
    whose address holds every word of it ("112号楼 2单元", "网格1-1")."""

    def name_of(column: str) -> Subquery:
        return Subquery(Node.objects.filter(pk=OuterRef(column)).values("name")[:1])

    units = (
        Node.objects.restrict(user, scope.CHANGE)
        .filter(level="unit")
        .annotate(
            community_name=name_of("community_id"),
            grid_name=name_of("grid_id"),
            building_name=name_of("building_id"),
        )
    )
    for word in q.split()[:6]:
        units = units.filter(
            Q(name__icontains=word)
            | Q(building_name__icontains=word)
            | Q(grid_name__icontains=word)
            | Q(community_name__icontains=word)
        )
    return units.order_by("path")


def place_address(node: Node) -> str:
    """A unit's address as a clerk reads it: grid · building · unit (names annotated by
    `unit_places`); any other node by its level and name."""
    parts = [getattr(node, f"{level}_name", None) for level in ("grid", "building")]
    if node.level == "unit" and all(parts):
        return " · ".join([*parts, node.name])
    return f"{node.get_level_display()} · {node.name}"


# How long things may take before they are overdue.
TRIAGE_WITHIN = dt.timedelta(hours=24)  # a new request is triaged within a day
HANDLE_NOW_WITHIN = dt.timedelta(hours=24)  # handle-now: done the same day it was triaged
ERRAND_WITHIN = {  # ordered → delivered
    ErrandUrgency.MEDICINE: dt.timedelta(hours=2),
    ErrandUrgency.URGENT: dt.timedelta(hours=4),
    ErrandUrgency.NORMAL: dt.timedelta(hours=24),
}
SATISFIED_FROM = 4  # a rating of 4 or 5 counts as satisfied

REQUEST_RELATED = (
    "node",
    "household",
    "household__unit",
    "household__building",
    "grid",
    "community",
    "meeting",
    "claimed_by__person",
)


# --------------------------------------------------------------------------- requests


def requests_for(user, action: str = scope.VIEW) -> QuerySet[Request]:
    return Request.objects.restrict(user, action)


def request_for(user, pk: int, action: str = scope.VIEW) -> Request:
    return get_scoped_or_404(Request.objects.select_related(*REQUEST_RELATED), user, action, pk=pk)


INBOXES = {
    "triage": Q(status=Status.NEW),
    "claim": Q(status=Status.WAITING),
    "claimed": Q(status=Status.CLAIMED),
    "agenda": Q(status=Status.ON_AGENDA),
    "assigned": Q(status=Status.ASSIGNED),
    "report": Q(status=Status.DONE, track=Track.CONSULT),
    "rating": Q(status=Status.DONE, track=Track.HANDLE_NOW) | Q(status=Status.REPORTED),
    "closed": Q(status=Status.CLOSED),
}
INBOX_LABELS = {
    "triage": gettext_lazy("To triage"),
    "claim": gettext_lazy("To claim"),
    "claimed": gettext_lazy("Being handled"),
    "agenda": gettext_lazy("On the agenda"),
    "assigned": gettext_lazy("Assigned"),
    "report": gettext_lazy("To report back"),
    "rating": gettext_lazy("Awaiting rating"),
    "closed": gettext_lazy("Closed"),
}


def inbox_counts(user) -> dict[str, int]:
    """How many of the user's requests sit in each inbox (one query)."""
    qs = requests_for(user)
    return qs.aggregate(**{key: Count("id", filter=q) for key, q in INBOXES.items()})


def request_list(
    user,
    *,
    inbox: str = "",
    category: str = "",
    node: Node | None = None,
    text: str = "",
    mine: bool = False,
) -> QuerySet[Request]:
    qs = requests_for(user).select_related(
        "node", "household", "household__unit", "household__building", "grid"
    )
    if inbox in INBOXES:
        qs = qs.filter(INBOXES[inbox])
    if category:
        qs = qs.filter(category=category)
    if node is not None:
        qs = qs.filter(**{f"{node.level}_id": node.pk})
    if text.strip():
        qs = qs.filter(Q(title__contains=text.strip()) | Q(description__contains=text.strip()))
    if mine:
        qs = qs.filter(claimed_by=user)
    if inbox == "closed":
        return qs.order_by("-closed_at", "-pk")
    urgent_first = Case(When(urgency="urgent", then=0), default=1)
    return qs.order_by(urgent_first, "-created_at", "-pk")


def request_photos(request: Request) -> list[Photo]:
    return list(request.photos.order_by("uploaded_at", "pk"))


def photo_for(user, pk: int) -> Photo:
    return get_scoped_or_404(Photo, user, scope.VIEW, pk=pk)


# --------------------------------------------------------------------------- overdue


def _day_end(day: dt.date) -> dt.datetime:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start + dt.timedelta(days=1)


def request_overdue_q(now: dt.datetime) -> Q:
    """Requests overdue at `now`: not triaged within a day; handle-now not done within a day
    of triage; consult-and-assign past the due date its taker gave."""
    today = timezone.localdate(now)
    return (
        Q(status=Status.NEW, created_at__lt=now - TRIAGE_WITHIN)
        | Q(status__in=[Status.WAITING, Status.CLAIMED], triaged_at__lt=now - HANDLE_NOW_WITHIN)
        | Q(status=Status.ASSIGNED, due_on__lt=today)
    )


def request_due_at(request: Request) -> dt.datetime | None:
    """When the request's current step falls due (None: nothing is due from staff)."""
    if request.status == Status.NEW:
        return request.created_at + TRIAGE_WITHIN
    if request.status in (Status.WAITING, Status.CLAIMED) and request.triaged_at:
        return request.triaged_at + HANDLE_NOW_WITHIN
    if request.status == Status.ASSIGNED and request.due_on:
        return _day_end(request.due_on)
    return None


def errand_overdue_q(now: dt.datetime) -> Q:
    """Errands not delivered in time: medicine within 2 hours, urgent 4, others a day."""
    late = Q(pk__in=[])
    for urgency, within in ERRAND_WITHIN.items():
        late |= Q(urgency=urgency, created_at__lt=now - within)
    return Q(status__in=ERRAND_OPEN) & late


def errand_due_at(errand: Errand) -> dt.datetime:
    return errand.created_at + ERRAND_WITHIN[ErrandUrgency(errand.urgency)]


def overdue_requests(user, now: dt.datetime | None = None) -> QuerySet[Request]:
    now = now or timezone.now()
    return (
        requests_for(user)
        .filter(request_overdue_q(now))
        .select_related(
            "node",
            "household",
            "household__unit",
            "household__building",
            "grid",
            "claimed_by__person",
        )
        .order_by("created_at", "pk")
    )


def overdue_errands(user, now: dt.datetime | None = None) -> QuerySet[Errand]:
    now = now or timezone.now()
    return (
        errands_for(user)
        .filter(errand_overdue_q(now))
        .select_related("household", "household__unit", "household__building", "grid", "courier")
        .order_by("priority", "created_at", "pk")
    )


# --------------------------------------------------------------------------- meetings


def meetings_for(user, action: str = scope.VIEW) -> QuerySet[Meeting]:
    return Meeting.objects.restrict(user, action).select_related("node")


def meeting_for(user, pk: int, action: str = scope.VIEW) -> Meeting:
    return get_scoped_or_404(Meeting.objects.select_related("node"), user, action, pk=pk)


def meeting_agenda(meeting: Meeting) -> list[Request]:
    """The consult-and-assign items on the meeting's agenda (with those taken there)."""
    return list(
        meeting.agenda.select_related(
            "node", "household", "household__unit", "household__building"
        ).order_by("created_at", "pk")
    )


def meeting_report_backs(meeting: Meeting) -> list[Request]:
    """Results to report back at this meeting: items assigned at an earlier meeting of the
    community and done (waiting), and those already reported here."""
    earlier = Q(meeting__starts_at__lt=meeting.starts_at, status__in=[Status.ASSIGNED, Status.DONE])
    return list(
        Request.objects.filter(community_id=meeting.community_id, track=Track.CONSULT)
        .filter(earlier | Q(report_meeting=meeting))
        .select_related("node", "household", "household__unit", "household__building", "meeting")
        .order_by("meeting__starts_at", "created_at", "pk")
    )


def meeting_attendees(meeting: Meeting) -> list[tuple[str, list]]:
    """(category label, attendees) in the order of the categories, empty ones left out."""
    from bastion.requests.models import AttendeeCategory

    by_category = defaultdict(list)
    for a in meeting.attendees.order_by("pk"):
        by_category[a.category].append(a)
    return [(c.label, by_category[c.value]) for c in AttendeeCategory if by_category[c.value]]


def meetings_of(meeting: Meeting) -> QuerySet[Meeting]:
    return Meeting.objects.filter(community_id=meeting.community_id)


def communities_for(user, action: str = scope.CHANGE) -> QuerySet[Node]:
    return Node.objects.restrict(user, action).filter(level="community").order_by("path")


# --------------------------------------------------------------------------- errands


def errands_for(user, action: str = scope.VIEW) -> QuerySet[Errand]:
    return Errand.objects.restrict(user, action)


ERRAND_RELATED = (
    "household",
    "household__unit",
    "household__building",
    "grid",
    "courier",
    "community",
)


def errand_for(user, pk: int, action: str = scope.VIEW) -> Errand:
    return get_scoped_or_404(Errand.objects.select_related(*ERRAND_RELATED), user, action, pk=pk)


def is_courier(user, errand: Errand) -> bool:
    return errand.courier_id is not None and errand.courier.user_id == user.pk


def errand_contact(errand: Errand) -> Resident | None:
    """Whom to call about an errand: the resident who ordered it, else the household's head,
    else its first resident with a mobile."""
    if errand.raised_by_id and errand.raised_by.phone:
        return errand.raised_by
    residents = Resident.objects.filter(household_id=errand.household_id).exclude(phone="")
    return residents.order_by(Case(When(relation="head", then=0), default=1), "pk").first()


def errand_for_courier(user, pk: int) -> Errand:
    """An errand for a courier's step (pick up, deliver): its own courier may, whatever their
    role; others need the right to change it. Outside the scope it is a 404."""
    errand = errand_for(user, pk)
    if is_courier(user, errand) or scope.can(user, scope.CHANGE, errand):
        return errand
    raise PermissionDenied(_("Only the errand's courier or community staff may do this."))


@dataclass
class Board:
    """Open errands, medicine first: by grid, and by courier (those nobody carries yet
    under None)."""

    errands: list[Errand]
    by_grid: list[tuple[Node, list[Errand]]] = field(default_factory=list)
    by_courier: list[tuple[Person | None, list[Errand]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def errand_board(user, node: Node | None = None, now: dt.datetime | None = None) -> Board:
    now = now or timezone.now()
    qs = errands_for(user).filter(status__in=ERRAND_OPEN)
    if node is not None:
        qs = qs.filter(**{f"{node.level}_id": node.pk})
    late = set(qs.filter(errand_overdue_q(now)).values_list("pk", flat=True))
    errands = list(
        qs.select_related(*ERRAND_RELATED)
        .prefetch_related("items")
        .order_by("priority", "created_at", "pk")[:1000]
    )
    grids: dict[int, list[Errand]] = defaultdict(list)
    couriers: dict[int | None, list[Errand]] = defaultdict(list)
    for e in errands:
        e.overdue = e.pk in late
        e.due_at = errand_due_at(e)
        grids[e.grid_id].append(e)
        couriers[e.courier_id].append(e)
    grid_nodes = {n.pk: n for n in Node.objects.filter(pk__in=grids).order_by("path")}
    by_grid = [(grid_nodes[g], grids[g]) for g in sorted(grids, key=lambda g: grid_nodes[g].path)]
    people = {e.courier_id: e.courier for e in errands if e.courier_id}
    by_courier = [(None, couriers[None])] if couriers.get(None) else []
    by_courier += [
        (people[c], couriers[c])
        for c in sorted((c for c in couriers if c), key=lambda c: people[c].name)
    ]
    counts = {s: 0 for s in ERRAND_OPEN}
    for e in errands:
        counts[e.status] += 1
    counts["overdue"] = len(late)
    counts["medicine"] = sum(1 for e in errands if e.urgency == ErrandUrgency.MEDICINE)
    return Board(errands, by_grid, by_courier, counts)


def courier_errands(user) -> list[Errand]:
    """A courier's own open errands (the login's person), medicine first."""
    return list(
        Errand.objects.filter(
            courier__user=user, status__in=[ErrandStatus.ASSIGNED, ErrandStatus.PICKED_UP]
        )
        .select_related(*ERRAND_RELATED)
        .prefetch_related("items")
        .order_by("priority", "created_at", "pk")
    )


def courier_delivered_today(user, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    start = _day_end(timezone.localdate(now)) - dt.timedelta(days=1)
    return Errand.objects.filter(courier__user=user, delivered_at__gte=start).count()


# How near a courier lives to an errand, nearest first (`courier_choices`' `nearness`).
SAME_GRID, SAME_COMMUNITY, ELSEWHERE = 0, 1, 2


def courier_choices(user, errand: Errand, now: dt.datetime | None = None) -> QuerySet[Person]:
    """Who may carry the errand: volunteers, party members and cadres of its street the user
    may see. Those on duty now (rostered on a shift under way) first, then the nearest (its
    grid, then its community, then the rest of the street), then the least busy; anyone who
    said they are unavailable last. Each carries `on_duty`, `nearness` and `load`."""
    now = now or timezone.now()
    return (
        Person.objects.restrict(user)
        .filter(street_id=errand.street_id)
        .filter(
            Q(kind__in=[PersonKind.VOLUNTEER, PersonKind.PARTY_MEMBER, PersonKind.CADRE])
            | Q(party_member=True)
        )
        .annotate(
            load=Count("errands", filter=Q(errands__status__in=ERRAND_OPEN)),
            on_duty=Exists(
                Assignment.objects.filter(
                    person=OuterRef("pk"), starts_at__lte=now, ends_at__gt=now
                )
            ),
            unavailable=Exists(
                Availability.objects.filter(
                    person=OuterRef("pk"), status=AvailabilityStatus.UNAVAILABLE
                )
            ),
            nearness=Case(
                When(grid_id=errand.grid_id, then=Value(SAME_GRID)),
                When(community_id=errand.community_id, then=Value(SAME_COMMUNITY)),
                default=Value(ELSEWHERE),
                output_field=IntegerField(),
            ),
        )
        .order_by("unavailable", "-on_duty", "nearness", "load", "name", "pk")[:200]
    )


def courier_for(user, pk: int) -> Person:
    return get_scoped_or_404(Person, user, scope.VIEW, pk=pk)


# --------------------------------------------------------------------------- households


def household_for(user, pk: int, action: str = scope.VIEW) -> Household:
    return get_scoped_or_404(
        Household.objects.select_related("unit", "building", "grid"), user, action, pk=pk
    )


def building_for(user, pk: int, action: str = scope.VIEW) -> Node:
    return get_scoped_or_404(Node.objects.filter(level="building"), user, action, pk=pk)


def active_link(household: Household) -> HouseholdLink | None:
    return HouseholdLink.objects.filter(household=household, revoked_at__isnull=True).first()


def building_links(user, building: Node) -> list[tuple[Household, HouseholdLink | None]]:
    households = list(
        Household.objects.restrict(user)
        .filter(building_id=building.pk)
        .select_related("unit")
        .order_by("unit__path", "floor", "room")
    )
    links = {
        link.household_id: link
        for link in HouseholdLink.objects.filter(building_id=building.pk, revoked_at__isnull=True)
    }
    return [(h, links.get(h.pk)) for h in households]


def household_requests(household: Household) -> QuerySet[Request]:
    """What the household's own page lists: its requests, newest first."""
    return Request.objects.filter(household_id=household.pk).order_by("-created_at", "-pk")


def household_errands(household: Household) -> QuerySet[Errand]:
    return (
        Errand.objects.filter(household_id=household.pk)
        .prefetch_related("items")
        .order_by("-created_at", "-pk")
    )


def household_request(household: Household, pk: int) -> Request:
    from django.http import Http404

    found = household_requests(household).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def household_errand(household: Household, pk: int) -> Errand:
    from django.http import Http404

    found = household_errands(household).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def household_photo(household: Household, pk: int) -> Photo:
    """A photo the household may see: of its own request (the ones it sent and the evidence
    of the work), or the delivery photo of its own errand."""
    from django.http import Http404

    found = (
        Photo.objects.filter(pk=pk)
        .filter(Q(request__household_id=household.pk) | Q(errand__household_id=household.pk))
        .first()
    )
    if found is None:
        raise Http404
    return found


# --------------------------------------------------------------------------- figures

FIGURES = {
    "requests_collected": gettext_lazy("Requests collected"),
    "requests_handled_now": gettext_lazy("Handle-now done"),
    "requests_assigned": gettext_lazy("Requests assigned at meetings"),
    "requests_reported_back": gettext_lazy("Requests reported back"),
    "requests_rated": gettext_lazy("Requests rated"),
    "requests_satisfied": gettext_lazy("Requests rated satisfied"),
    "requests_open": gettext_lazy("Requests open"),
    "errands_ordered": gettext_lazy("Errands ordered"),
    "errands_delivered": gettext_lazy("Errands delivered"),
    "errands_open": gettext_lazy("Errands open"),
}


def figures_between(
    level: str, node_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, int]]:
    """The figures of each node of one level for events in [start, end), and what was open at
    `end`: one GROUP BY on the ancestor column per table, never a tree walk."""
    column = f"{level}_id"
    result = {nid: dict.fromkeys(FIGURES, 0) for nid in node_ids}
    if not node_ids:
        return result
    within = {"gte": start, "lt": end}

    def during(name: str) -> Q:
        return Q(**{f"{name}__gte": within["gte"], f"{name}__lt": within["lt"]})

    requests = (
        Request.objects.filter(**{f"{column}__in": node_ids}, created_at__lt=end)
        .values(column)
        .annotate(
            requests_collected=Count("id", filter=during("created_at")),
            requests_handled_now=Count("id", filter=during("done_at") & Q(track=Track.HANDLE_NOW)),
            requests_assigned=Count("id", filter=during("assigned_at")),
            requests_reported_back=Count("id", filter=during("reported_at")),
            requests_rated=Count("id", filter=during("rated_at")),
            requests_satisfied=Count(
                "id", filter=during("rated_at") & Q(rating__gte=SATISFIED_FROM)
            ),
            requests_open=Count("id", filter=Q(closed_at__isnull=True) | Q(closed_at__gte=end)),
        )
        .order_by()
    )
    for row in requests:
        result[row.pop(column)].update(row)
    errands = (
        Errand.objects.filter(**{f"{column}__in": node_ids}, created_at__lt=end)
        .values(column)
        .annotate(
            errands_ordered=Count("id", filter=during("created_at")),
            errands_delivered=Count("id", filter=during("delivered_at")),
            errands_open=Count(
                "id",
                filter=(Q(delivered_at__isnull=True) | Q(delivered_at__gte=end))
                & (Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=end)),
            ),
        )
        .order_by()
    )
    for row in errands:
        result[row.pop(column)].update(row)
    return result


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """The daily report's figures of each grid for `day` (local), as at the end of the day."""
    end = _day_end(day)
    return figures_between("grid", grid_ids, end - dt.timedelta(days=1), end)


def satisfaction(figures: dict[str, int]) -> int | None:
    """Per cent of ratings that were satisfied (None when nothing was rated)."""
    rated = figures.get("requests_rated", 0)
    return round(100 * figures.get("requests_satisfied", 0) / rated) if rated else None


@dataclass
class NodeFigures:
    node: Node
    figures: dict[str, int]
    overdue: int = 0

    @property
    def satisfaction(self) -> int | None:
        return satisfaction(self.figures)


def children_figures(
    user, node: Node, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None
) -> tuple[NodeFigures, list[NodeFigures]]:
    """The node's figures for the period and those of each child it has, down to buildings
    (a building's units are few enough to read off the lists)."""
    now = now or timezone.now()
    own = NodeFigures(node, figures_between(node.level, [node.pk], start, end)[node.pk])
    own.overdue = (
        requests_for(user)
        .filter(**{f"{node.level}_id": node.pk})
        .filter(request_overdue_q(now))
        .count()
    )
    level = child_level(node.level)
    if level is None or LEVEL_ORDER.index(level) > LEVEL_ORDER.index("building"):
        return own, []
    kids = list(node.children().restrict(user).order_by("code", "name"))
    values = figures_between(level, [k.pk for k in kids], start, end)
    column = f"{level}_id"
    late = dict(
        requests_for(user)
        .filter(**{f"{column}__in": [k.pk for k in kids]})
        .filter(request_overdue_q(now))
        .values(column)
        .annotate(n=Count("id"))
        .order_by()
        .values_list(column, "n")
    )
    return own, [NodeFigures(k, values[k.pk], late.get(k.pk, 0)) for k in kids]


@dataclass(frozen=True)
class Timing:
    """Hours from collection to claim and to close of one track's requests."""

    track: str
    label: str
    count: int
    claimed: int
    claim_median: float | None
    claim_mean: float | None
    closed: int
    close_median: float | None
    close_mean: float | None


def _hours(deltas: list[dt.timedelta]) -> tuple[float | None, float | None]:
    if not deltas:
        return None, None
    hours = [d.total_seconds() / 3600 for d in deltas]
    return round(statistics.median(hours), 1), round(statistics.fmean(hours), 1)


def timings(user, node: Node | None, start: dt.datetime, end: dt.datetime) -> list[Timing]:
    """Time-to-claim and time-to-close per track, for requests collected in [start, end):
    claim is the claim of a handle-now request and the assignment of a consult-and-assign
    one at its meeting; close is the closing (after the rating, or by staff)."""
    qs = requests_for(user).filter(created_at__gte=start, created_at__lt=end).exclude(track="")
    if node is not None:
        qs = qs.filter(**{f"{node.level}_id": node.pk})
    rows = qs.values_list("track", "created_at", "claimed_at", "assigned_at", "closed_at")
    claims: dict[str, list] = defaultdict(list)
    closes: dict[str, list] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for track, created, claimed, assigned, closed in rows.iterator():
        counts[track] += 1
        taken = claimed if track == Track.HANDLE_NOW else assigned
        if taken:
            claims[track].append(taken - created)
        if closed:
            closes[track].append(closed - created)
    result = []
    for track in Track:
        claim = _hours(claims[track.value])
        close = _hours(closes[track.value])
        result.append(
            Timing(
                track.value,
                track.label,
                counts[track.value],
                len(claims[track.value]),
                *claim,
                len(closes[track.value]),
                *close,
            )
        )
    return result


# --------------------------------------------------------------------------- history


LOG_LABELS = {
    "photo_count": gettext_lazy("Photos"),
    "evidence_photos": gettext_lazy("Evidence photos"),
    "ordered_items": gettext_lazy("Items"),
    "agenda_items": gettext_lazy("Agenda items"),
    "attendee_count": gettext_lazy("Attendees"),
    "notes_length": gettext_lazy("Minutes (characters)"),
    "carried_over": gettext_lazy("Carried to the next meeting"),
    "reopen_count": gettext_lazy("Times reopened"),
}


def history(user, obj) -> list:
    """The change log of a request, errand or meeting, newest first, with this module's own
    log keys named; a change the household made on its own page is shown as the household's."""
    from dataclasses import replace

    from bastion.geo.queries import change_history

    entries = []
    for e in change_history(user, obj, LOG_LABELS):
        if e.origin == "resident":
            e = replace(e, actor=str(_("the household")))
        entries.append(e)
    return entries
