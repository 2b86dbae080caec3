"""Reads about persons and posts: vacancies and the building notice; and (below) about
mobilization: the pool, deployments, report-ins, places and rosters, teams, allowances, the
daily figures. All scoped."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bastion.core.models import Located
from bastion.core.scope import CHANGE, REVEAL, VIEW, can, get_scoped_or_404, scope_q
from bastion.geo.models import LEVEL_ORDER, CommandZone, Node, ZoneBuilding, child_level
from bastion.people.models import (
    CHIEF_OF_LEVEL,
    AllowanceLine,
    AllowanceMonth,
    Assignment,
    AvailabilityStatus,
    CheckEvent,
    CheckKind,
    Deployment,
    LineKind,
    Person,
    PersonSkill,
    Place,
    Post,
    PostRole,
    ReportIn,
    Shift,
    Team,
    TeamKind,
    TeamMember,
    mobilization_setting,
)
from bastion.people.services import place_open_on, shift_times

# The levels shown in a place's path, below the street that every row of a street shares.
PATH_LEVELS = ("community", "grid", "building", "unit")


# Posts listed in the order PostRole declares them: the five chiefs, then the zone command.
ROLE_ORDER = Case(*(When(role=r, then=i) for i, r in enumerate(PostRole.values)))


def current_posts(user) -> QuerySet[Post]:
    return (
        Post.objects.restrict(user)
        .filter(ended_on__isnull=True)
        .select_related("person", "node", "zone")
    )


def posts_under(user, node: Node, *, role: str = "", text: str = "") -> QuerySet[Post]:
    """The current posts in `node`'s subtree, by place then role; optionally one role, or
    persons whose name contains `text`."""
    posts = current_posts(user).filter(**{f"{node.level}_id": node.pk})
    if role:
        posts = posts.filter(role=role)
    if text.strip():
        posts = posts.filter(person__name__contains=text.strip())
    return posts.order_by("node__path", ROLE_ORDER, "id")


def _chief_held(role: str) -> Exists:
    return Exists(Post.objects.filter(node=OuterRef("pk"), role=role, ended_on__isnull=True))


def _nodes_of_level(user, node: Node, level: str) -> QuerySet[Node]:
    return Node.objects.restrict(user).filter(path__startswith=node.path, level=level)


def vacancies(user, node: Node) -> dict[str, list[Node]]:
    """The nodes of `node`'s subtree, per level, whose chief post nobody holds."""
    return {
        level: list(_nodes_of_level(user, node, level).exclude(_chief_held(role)).order_by("path"))
        for level, role in CHIEF_OF_LEVEL.items()
    }


@dataclass(frozen=True)
class LevelVacancies:
    """One level of a vacancy report: how many chief posts it should have, how many are held,
    and the first vacant nodes (at most the report's limit)."""

    level: str
    role: str
    expected: int
    held: int
    nodes: list[Node]

    @property
    def vacant(self) -> int:
        return self.expected - self.held

    @property
    def not_listed(self) -> int:
        return self.vacant - len(self.nodes)


def vacancy_report(user, node: Node, *, limit: int = 200) -> list[LevelVacancies]:
    """Chief posts expected, held and vacant at each chief level from `node`'s level down,
    with up to `limit` vacant nodes per level. Two queries per level, whatever the size."""
    report = []
    top = LEVEL_ORDER.index(node.level)
    for level, role in CHIEF_OF_LEVEL.items():
        if LEVEL_ORDER.index(level) < top:
            continue
        nodes = _nodes_of_level(user, node, level)
        held = _chief_held(role)
        totals = nodes.aggregate(expected=Count("pk"), held=Count("pk", filter=Q(held)))
        vacant = list(nodes.exclude(held).order_by("path")[:limit])
        report.append(LevelVacancies(level, role, totals["expected"], totals["held"], vacant))
    return report


def zones_under(user, node: Node) -> QuerySet[CommandZone]:
    """The command zones of `node`'s streets (none below street level: a zone is a street's)."""
    zones = CommandZone.objects.restrict(user)
    if node.level not in ("city", "district", "street"):
        return zones.none()
    return zones.filter(**{f"{node.level}_id": node.pk}).order_by("name")


def zones_without_commander(user, node: Node) -> QuerySet[CommandZone]:
    held = Post.objects.filter(
        zone=OuterRef("pk"), role=PostRole.ZONE_COMMANDER, ended_on__isnull=True
    )
    return zones_under(user, node).exclude(Exists(held))


def place_paths(user, rows: Sequence[Located]) -> dict[int, str]:
    """Each located row's place as "community › grid › building › unit", naming only the
    nodes the user may see; a row above community level is named by its deepest node.
    One query for the whole list."""
    ids = {getattr(row, f"{level}_id") for row in rows for level in LEVEL_ORDER} - {None}
    names = dict(Node.objects.restrict(user).filter(pk__in=ids).values_list("pk", "name"))
    paths = {}
    for row in rows:
        parts = [names[i] for level in PATH_LEVELS if (i := getattr(row, f"{level}_id")) in names]
        if not parts:
            filled = [getattr(row, f"{level}_id") for level in LEVEL_ORDER]
            deepest = [i for i in filled if i is not None][-1:]
            parts = [names[i] for i in deepest if i in names]
        paths[row.pk] = " › ".join(parts)
    return paths


def person_search(user, text: str, *, limit: int = 20) -> QuerySet[Person]:
    """Persons the user may see, by name (substring) or by the last digits of their mobile."""
    text = text.strip()
    persons = Person.objects.restrict(user)
    if not text:
        return persons.none()
    match = Q(phone__endswith=text) if text.isdigit() else Q(name__contains=text)
    return persons.filter(match).order_by("name", "id")[:limit]


def revealable_person_ids(user, person_ids: Sequence[int]) -> set[int]:
    """Which of these persons' numbers the user's role may reveal (one query)."""
    return set(
        Person.objects.restrict(user, REVEAL).filter(pk__in=person_ids).values_list("pk", flat=True)
    )


def building_notice(building: Node) -> dict:
    """Who answers for a building: the chiefs of its street, grid, building and each unit, and
    its zone command. The caller has already checked the user may see the building."""
    chain_ids = [building.street_id, building.grid_id, building.pk]
    posts = (
        Post.objects.filter(ended_on__isnull=True)
        .filter(node_id__in=chain_ids, role__in=list(CHIEF_OF_LEVEL.values()))
        .select_related("person", "node")
    )
    units = list(building.children().order_by("code", "name"))
    unit_chiefs = {
        p.node_id: p
        for p in Post.objects.filter(
            node__in=units, role=PostRole.UNIT_CHIEF, ended_on__isnull=True
        ).select_related("person")
    }
    membership = ZoneBuilding.objects.filter(building=building).select_related("zone").first()
    zone_posts = []
    if membership is not None:
        zone_posts = list(
            Post.objects.filter(zone_id=membership.zone_id, ended_on__isnull=True)
            .select_related("person")
            .order_by("role", "id")
        )
    places = Node.objects.filter(
        pk__in=[building.street_id, building.community_id, building.grid_id]
    ).order_by("depth")
    return {
        "chiefs": {p.role: p for p in posts},
        "units": [(u, unit_chiefs.get(u.pk)) for u in units],
        "zone": membership.zone if membership else None,
        "zone_posts": zone_posts,
        "commander": next((p for p in zone_posts if p.role == PostRole.ZONE_COMMANDER), None),
        "deputies": [p for p in zone_posts if p.role == PostRole.DEPUTY_COMMANDER],
        "places": list(places),
    }


# ============================================================================================
# Mobilization (issue 6): reads shared by the pages, the API, the exports and the daily
# report. Everything a user asks for is narrowed by the scope first.
# ============================================================================================


def within(node: Node) -> dict:
    """The filter keeping located rows of `node`'s subtree: one indexed column."""
    return {f"{node.level}_id": node.pk}


def active_on(day: dt.date, prefix: str = "") -> Q:
    """Deployments on duty on `day` (a recalled one up to the day before its recall)."""
    return Q(**{f"{prefix}starts_on__lte": day, f"{prefix}ends_on__gte": day}) & (
        Q(**{f"{prefix}recalled_on__isnull": True}) | Q(**{f"{prefix}recalled_on__gt": day})
    )


# --------------------------------------------------------------------------------------------
# The pool
# --------------------------------------------------------------------------------------------


def _pool_members(user, node: Node) -> QuerySet[Person]:
    posts = Post.objects.restrict(user).filter(role=PostRole.RESERVE, ended_on__isnull=True)
    # IN (subquery), evaluated once: a correlated EXISTS would scan every reserve post for
    # each person on SQLite.
    return Person.objects.filter(**within(node), pk__in=posts.values("person_id"))


def _sent_on(day: dt.date) -> Exists:
    return Exists(Deployment.objects.filter(active_on(day), person=OuterRef("pk")))


def pool(
    user,
    node: Node,
    *,
    skill: str = "",
    availability: str = "",
    text: str = "",
    day: dt.date | None = None,
) -> QuerySet[Person]:
    """The reserve pool: persons living in `node`'s subtree who hold a current reserve post
    the user may see, with their availability and whether they are sent somewhere on `day`
    (today). Optionally one skill, one availability, a name or the last digits of a mobile."""
    day = day or timezone.localdate()
    persons = _pool_members(user, node).annotate(
        availability_status=Coalesce(
            F("availability__status"), Value(AvailabilityStatus.AVAILABLE)
        ),
        available_until=F("availability__until"),
        deployed=_sent_on(day),
    )
    if skill:
        persons = persons.filter(
            Exists(PersonSkill.objects.filter(person=OuterRef("pk"), skill=skill))
        )
    if availability == "deployed":
        persons = persons.filter(deployed=True)
    elif availability:
        persons = persons.filter(availability_status=availability)
    if text := text.strip():
        persons = persons.filter(
            Q(phone__endswith=text) if text.isdigit() else Q(name__contains=text)
        )
    return persons.order_by("name", "id")


def skills_of(person_ids: Sequence[int]) -> dict[int, list[str]]:
    skills = defaultdict(list)
    for pid, skill in (
        PersonSkill.objects.filter(person_id__in=list(person_ids))
        .order_by("skill")
        .values_list("person_id", "skill")
    ):
        skills[pid].append(skill)
    return skills


def current_deployments(person_ids: Sequence[int], day: dt.date) -> dict[int, Deployment]:
    return {
        d.person_id: d
        for d in Deployment.objects.filter(
            active_on(day), person_id__in=list(person_ids)
        ).select_related("node", "place")
    }


def pool_summary(user, node: Node, day: dt.date | None = None) -> dict[str, int]:
    """How many are in the pool, by availability, and how many are sent somewhere today
    (one aggregate; conditions written out, not annotations, for PostgreSQL's sake)."""
    day = day or timezone.localdate()
    no_row = Q(availability__isnull=True)
    return _pool_members(user, node).aggregate(
        total=Count("pk"),
        deployed=Count("pk", filter=Q(_sent_on(day))),
        available=Count("pk", filter=no_row | Q(availability__status="available")),
        limited=Count("pk", filter=Q(availability__status="limited")),
        unavailable=Count("pk", filter=Q(availability__status="unavailable")),
    )


# --------------------------------------------------------------------------------------------
# Deployments and the extra-cadre rule
# --------------------------------------------------------------------------------------------


def deployments_under(
    user,
    node: Node,
    *,
    state: str = "active",
    day: dt.date | None = None,
    kind: str = "",
    text: str = "",
) -> QuerySet[Deployment]:
    """Deployments into `node`'s subtree: on duty on `day` ("active"), still to start
    ("upcoming"), over or recalled ("ended"), or all."""
    day = day or timezone.localdate()
    rows = Deployment.objects.restrict(user).filter(**within(node))
    if state == "active":
        rows = rows.filter(active_on(day))
    elif state == "upcoming":
        rows = rows.filter(starts_on__gt=day).filter(
            Q(recalled_on__isnull=True) | Q(recalled_on__gt=F("starts_on"))
        )
    elif state == "ended":
        rows = rows.filter(Q(ends_on__lt=day) | Q(recalled_on__lte=day))
    if kind:
        rows = rows.filter(kind=kind)
    if text := text.strip():
        rows = rows.filter(person__name__contains=text)
    return rows.select_related("person", "person__employer", "node", "place").order_by(
        "node__path", "person__name", "id"
    )


@dataclass(frozen=True)
class CommunityCover:
    community: Node
    cadres: int
    minimum: int

    @property
    def short(self) -> int:
        return max(self.minimum - self.cadres, 0)


def extra_cadres(
    user, node: Node, *, day: dt.date | None = None, minimum: int | None = None
) -> list[CommunityCover]:
    """Each community of `node`'s subtree (or the community `node` lies in) that the user may
    see, with the number of persons sent down to it and on duty on `day`. The rule: at least
    `minimum` (the BASTION_MIN_EXTRA_CADRES setting, 3) in every community."""
    day = day or timezone.localdate()
    if minimum is None:
        minimum = mobilization_setting("BASTION_MIN_EXTRA_CADRES")
    communities = list(
        Node.objects.restrict(user)
        .filter(level="community")
        .filter(Q(path__startswith=node.path) | Q(pk=node.community_id or 0))
        .order_by("path")
    )
    counts = dict(
        Deployment.objects.filter(active_on(day), community_id__in=[c.pk for c in communities])
        .values("community_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("community_id", "n")
    )
    return [CommunityCover(c, counts.get(c.pk, 0), minimum) for c in communities]


def communities_short(
    user, node: Node, *, day: dt.date | None = None, minimum: int | None = None
) -> list[CommunityCover]:
    """The communities with fewer extra cadres than the rule asks for."""
    return [c for c in extra_cadres(user, node, day=day, minimum=minimum) if c.short]


def duty_candidates(
    user, text: str = "", *, day: dt.date | None = None, limit: int = 20
) -> QuerySet[Person]:
    """Persons the user may put on duty: those the scope shows (they live here) and those
    sent down to a node the user may see (they work here), by name or last mobile digits."""
    day = day or timezone.localdate()
    deployed = (
        Deployment.objects.restrict(user)
        .filter(Q(ends_on__gte=day) & (Q(recalled_on__isnull=True) | Q(recalled_on__gt=day)))
        .values("person_id")
    )
    persons = Person.objects.filter(scope_q(user) | Q(pk__in=deployed))
    if text := text.strip():
        persons = persons.filter(
            Q(phone__endswith=text) if text.isdigit() else Q(name__contains=text)
        )
    elif limit:
        return persons.none()
    persons = persons.order_by("name", "id")
    return persons[:limit] if limit else persons


def duty_person(user, person_id, *, day: dt.date | None = None) -> Person:
    """One person the user may put on duty (see duty_candidates), else 404."""
    try:
        return duty_candidates(user, day=day, limit=0).get(pk=int(person_id))
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --------------------------------------------------------------------------------------------
# Report-in
# --------------------------------------------------------------------------------------------


def report_ins_under(user, node: Node, *, status: str = "") -> QuerySet[ReportIn]:
    rows = ReportIn.objects.restrict(user).filter(**within(node))
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("community", "person", "post").order_by("-submitted_at", "-id")


# --------------------------------------------------------------------------------------------
# Places and rosters
# --------------------------------------------------------------------------------------------


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
    places = [p for p in places_under(user, node) if place_open_on(p, day)]
    counts = {
        (s["place_id"], s["index"]): s
        for s in Shift.objects.filter(place__in=places, day=day)
        .values("place_id", "index", "starts_at", "ends_at", "required")
        .annotate(rostered=Count("assignments"))
    }
    gaps = []
    for place in places:
        for index, starts_at, ends_at in shift_times(place, day):
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


def place_figures(places: Sequence[Place], day: dt.date) -> dict[int, dict[str, int]]:
    """For each place on `day`: shifts built, people rostered, checked in, shifts short."""
    figures = {p.pk: {"shifts": 0, "rostered": 0, "checked_in": 0, "short": 0} for p in places}
    for s in (
        Shift.objects.filter(place__in=places, day=day)
        .values("place_id", "required")
        .annotate(n=Count("assignments"))
    ):
        f = figures[s["place_id"]]
        f["shifts"] += 1
        f["rostered"] += s["n"]
        f["short"] += s["n"] < s["required"]
    for place_id, n in (
        CheckEvent.objects.filter(assignment__shift__place__in=places, day=day, kind=CheckKind.IN)
        .values("assignment__shift__place_id")
        .annotate(n=Count("id"))
        .values_list("assignment__shift__place_id", "n")
    ):
        figures[place_id]["checked_in"] = n
    for p in places:
        if place_open_on(p, day):
            figures[p.pk]["short"] += p.shifts_per_day - figures[p.pk]["shifts"]
    return figures


# --------------------------------------------------------------------------------------------
# Organisations at sites
# --------------------------------------------------------------------------------------------


def teams_under(user, node: Node, *, kind: str = "") -> QuerySet[Team]:
    rows = Team.objects.restrict(user).filter(**within(node), dissolved_on__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    return (
        rows.select_related("place", "node", "organisation")
        .annotate(member_count=Count("members", filter=Q(members__left_on__isnull=True)))
        .order_by("kind", "name", "id")
    )


def team_counts(user, node: Node) -> list[dict]:
    """Teams and their current members by kind, for `node` and for each child node the user
    may see: [{"node": node, "counts": {kind: (teams, members)}}, ...], `node` first."""
    level = child_level(node.level)
    children = (
        list(
            Node.objects.restrict(user)
            .filter(path__startswith=node.path, depth=node.depth + 1)
            .order_by("code", "name")
        )
        if level
        else []
    )
    teams = Team.objects.restrict(user).filter(**within(node), dissolved_on__isnull=True)
    members = TeamMember.objects.restrict(user).filter(
        **within(node), left_on__isnull=True, team__dissolved_on__isnull=True
    )
    column = f"{level}_id" if level else None

    def table(rows, by) -> dict:
        out = defaultdict(lambda: defaultdict(int))
        for r in rows.values(*by).annotate(n=Count("id")):
            out[r[by[0]] if len(by) > 1 else None][r[by[-1]]] += r["n"]
        return out

    kinds = TeamKind.values
    total_teams = table(teams, ["kind"])[None]
    total_members = table(members, ["team__kind"])[None]
    result = [{"node": node, "counts": {k: (total_teams[k], total_members[k]) for k in kinds}}]
    if column:
        child_teams = table(teams, [column, "kind"])
        child_members = table(members, [column, "team__kind"])
        for child in children:
            result.append(
                {
                    "node": child,
                    "counts": {
                        k: (child_teams[child.pk][k], child_members[child.pk][k]) for k in kinds
                    },
                }
            )
    return result


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------


def months_under(user, node: Node) -> QuerySet[AllowanceMonth]:
    return (
        AllowanceMonth.objects.restrict(user)
        .filter(**within(node))
        .select_related("node", "payer")
        .order_by("-month", "node__path")
    )


CENT = Decimal("0.01")


@dataclass
class LedgerPerson:
    person_id: int
    name: str
    id_number: str
    payer: str
    days: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal

    @property
    def total(self) -> Decimal:
        return self.daily + self.monthly + self.awards


def month_ledger(month: AllowanceMonth) -> dict:
    """A month's ledger: one row per person and paying body (days on duty; daily, monthly and
    award amounts; total), the totals per paying body, and the grand total."""
    zero = Decimal("0.00")
    people: dict[tuple[int, int | None], LedgerPerson] = {}
    lines = (
        AllowanceLine.objects.filter(month=month)
        .values("person_id", "person__name", "person__id_number", "payer_id", "payer__name", "kind")
        .annotate(days=Sum("days"), amount=Sum("amount"))
        .order_by("person__name", "person_id")
    )
    unnamed = month.payer.name if month.payer_id else ""
    for ln in lines:
        key = (ln["person_id"], ln["payer_id"])
        row = people.get(key)
        if row is None:
            row = people[key] = LedgerPerson(
                ln["person_id"],
                ln["person__name"],
                ln["person__id_number"] or "",
                ln["payer__name"] or unnamed,
                0,
                zero,
                zero,
                zero,
            )
        amount = Decimal(ln["amount"]).quantize(CENT)  # SQLite sums decimals as floats
        if ln["kind"] == LineKind.DAILY:
            row.days += ln["days"]
            row.daily += amount
        elif ln["kind"] == LineKind.MONTHLY:
            row.monthly += amount
        else:
            row.awards += amount
    payers: dict[str, dict] = {}
    for row in people.values():
        p = payers.setdefault(
            row.payer,
            {
                "payer": row.payer,
                "persons": 0,
                "daily": zero,
                "monthly": zero,
                "awards": zero,
                "total": zero,
            },
        )
        p["persons"] += 1
        p["daily"] += row.daily
        p["monthly"] += row.monthly
        p["awards"] += row.awards
        p["total"] += row.total
    return {
        "persons": list(people.values()),
        "payers": sorted(payers.values(), key=lambda p: (-p["total"], p["payer"])),
        "total": sum((r.total for r in people.values()), zero),
    }


# --------------------------------------------------------------------------------------------
# The daily report
# --------------------------------------------------------------------------------------------

FIGURES = {
    "extra_cadres": gettext_lazy("Extra cadres on duty"),
    "shifts_filled": gettext_lazy("Shifts filled"),
    "shift_gaps": gettext_lazy("Shift gaps"),
    "check_ins": gettext_lazy("Check-ins"),
}


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Mobilization's figures of each grid for `day`: persons sent down to it (or to a
    place or building in it) on duty that day; the day's shifts at its places that have all
    their people, and those short of people or not built at all; check-ins on that day's
    shifts. One GROUP BY on grid_id per table (rows on a community itself have no grid and
    count only in the rule check)."""
    result = {gid: dict.fromkeys(FIGURES, 0) for gid in grid_ids}
    for gid, n in (
        Deployment.objects.filter(active_on(day), grid_id__in=grid_ids)
        .values("grid_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("grid_id", "n")
    ):
        result[gid]["extra_cadres"] = n
    built = defaultdict(int)
    for s in (
        Shift.objects.filter(day=day, grid_id__in=grid_ids)
        .values("pk", "grid_id", "place_id", "required")
        .annotate(n=Count("assignments"))
    ):
        key = "shifts_filled" if s["n"] >= s["required"] else "shift_gaps"
        result[s["grid_id"]][key] += 1
        built[s["place_id"]] += 1
    places = (
        Place.objects.filter(grid_id__in=grid_ids, opened_on__lte=day)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=day))
        .values_list("pk", "grid_id", "shifts_per_day")
    )
    for pk, gid, per_day in places:
        result[gid]["shift_gaps"] += max(per_day - built[pk], 0)
    for gid, n in (
        CheckEvent.objects.filter(day=day, kind=CheckKind.IN, grid_id__in=grid_ids)
        .values("grid_id")
        .annotate(n=Count("id"))
        .values_list("grid_id", "n")
    ):
        result[gid]["check_ins"] = n
    return result


# --------------------------------------------------------------------------------------------
# Access: one row fetched with the user in the same breath (404 outside the scope; 403 when
# the user may see it but not act on it)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The public report-in link: a community's id, signed, so that the QR code cannot be guessed
# for another community and needs no login
# --------------------------------------------------------------------------------------------

REPORT_IN_SALT = "bastion.people.report-in"


def report_in_token(community: Node) -> str:
    return signing.Signer(salt=REPORT_IN_SALT).sign(str(community.pk))


def community_from_token(token: str) -> Node | None:
    try:
        pk = int(signing.Signer(salt=REPORT_IN_SALT).unsign(token or ""))
    except (signing.BadSignature, ValueError):
        return None
    return Node.objects.filter(pk=pk, level="community").first()
