"""Mobilization on the demo street, from the field reports: 673 cadres sent down to its 45
grids (a dozen more recalled, and an earlier reserve dispatch that has ended); the reserve
pool with availability and skills; party members reported in (most confirmed with a task,
some waiting, a few turned down); guard points, checkpoints, sampling sites and a quarantine
site with a week of rosters around today in three shifts (some gaps, check-ins and
handover notes), the checkpoints running since the start of last month; temporary party
branches at the sampling sites, pioneer posts, responsibility areas and shock teams; and the
allowances of last month (closed) and this month (open).

`build_demo(street, rng, today)` runs after the street is built (and, to bind the sampling
sites to the testing module's sites, after that module's demo). It writes with bulk_create
and is deterministic for a given `rng` seed and `today`; the allowance months go through the
services, so their lines are exactly what the services compute.

Over 600 lines on purpose: one story told in order, each step building on the rows the last
one wrote (the pool before dispatch, places before rosters, rosters before allowances).
"""

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from bastion.geo.models import LEVEL_ORDER, Node, Resident
from bastion.people.mobilization import services
from bastion.people.mobilization.models import (
    Assignment,
    Availability,
    AvailabilityStatus,
    CheckEvent,
    CheckKind,
    Deployment,
    DeploymentKind,
    Dispatch,
    PersonSkill,
    Place,
    PlaceKind,
    ReportIn,
    ReportInStatus,
    Shift,
    Skill,
    Team,
    TeamKind,
    TeamMember,
)
from bastion.people.models import Organisation, OrgKind, Person, PersonKind, Post, PostRole

# The path before the split: the demo seeds its random numbers with it (same data).
DEMO_SEED = "bastion.people.demo_mobilization"

SENT_DOWN = 673
RECALLED = 12
RESERVE_DISPATCHED = 30  # an earlier dispatch from the pool, over now
GUARD_POINTS_PER_GRID = 2
DAYS_BEFORE, DAYS_AFTER = 3, 3  # the week of rosters around today
REPORT_INS = {"confirmed": 100, "pending": 32, "rejected": 8}
PAST_ABSENT = 0.03  # a rostered person who did not check in
FUTURE_GAP = 0.08  # a slot of the coming days nobody is rostered on yet
ROADS = ("东丰大街", "鹿鸣路", "福康路", "新华街", "东兴大路", "龙城路", "沿河路")
NOTES = (
    "外来车辆3台已登记，司机均持48小时核酸阴性证明。",
    "2号门闸杆偶尔卡住，已报物业维修。",
    "测温枪电池不足，已换新电池，备用电池在抽屉。",
    "夜间有居民要求外出就医，已联系社区派车，登记在册。",
    "快递集中放置点已消杀，下一班请继续督促分时取件。",
    "防护服剩余12套、口罩3盒，明早需补充。",
    "一名居民健康码异常，已通知网格长上门核实。",
)
TASKS = (
    "入户敲门排查",
    "跑腿代购",
    "核酸采样点秩序维护",
    "值守点位轮值",
    "独居老人联系",
    "物资搬运分发",
    "信息登记录入",
)
RECALL_REASONS = ("原单位工作需要", "身体原因", "家中有特殊情况")
AWARD = "网格之星"


def _local(day: dt.date, at: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, at))


def _columns(node: Node) -> dict:
    return {f"{level}_id": getattr(node, f"{level}_id") for level in LEVEL_ORDER}


def _locate(row, node: Node):
    for key, value in _columns(node).items():
        setattr(row, key, value)
    return row


ANCESTORS = tuple(f"{level}_id" for level in LEVEL_ORDER)


def _insert(model, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain rows (values in the order of `names`, the fields' attnames) with one
    prepared statement (executemany): several times faster than building model instances
    for bulk_create, whose multi-row INSERTs SQLite cuts at 999 parameters. Dates and
    datetimes are adapted for the database; the rows get no primary key back."""
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields = [
        model._meta.get_field(n.removesuffix("_id") if n.endswith("_id") else n) for n in names
    ]
    adapt = []
    for f in fields:
        if isinstance(f, models.DateTimeField):
            adapt.append(db.ops.adapt_datetimefield_value)
        elif isinstance(f, models.DateField):
            adapt.append(db.ops.adapt_datefield_value)
        else:
            adapt.append(None)
    qn = db.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with db.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(
                sql,
                [
                    [v if a is None or v is None else a(v) for v, a in zip(row, adapt, strict=True)]
                    for row in rows[start : start + 5000]
                ],
            )


@contextmanager
def _roomy_sqlite_cache() -> Iterator[None]:
    """A bigger SQLite page cache while the rosters go in, so each index page is written
    once instead of thrashing (as the street's own build does)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _split(items: list, parts: int) -> list[list]:
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        runs.append(items[start:end])
        start = end
    return runs


# --------------------------------------------------------------------------------------------
# Who
# --------------------------------------------------------------------------------------------


def _free_cadres(street: Node) -> list[Person]:
    """Cadres living in the street, employed by a government body or enterprise, holding no
    post: the ones their units send down."""
    posts = Post.objects.filter(person=OuterRef("pk"), ended_on__isnull=True)
    return list(
        Person.objects.filter(
            street_id=street.pk,
            kind=PersonKind.CADRE,
            employer__kind__in=[OrgKind.GOVERNMENT, OrgKind.ENTERPRISE],
            employer__street_id__isnull=True,
        )
        .exclude(Exists(posts))
        .order_by("pk")
    )


def _reserve(street: Node) -> list[Person]:
    held = Post.objects.filter(person=OuterRef("pk"), role=PostRole.RESERVE, ended_on__isnull=True)
    return list(Person.objects.filter(street_id=street.pk).filter(Exists(held)).order_by("pk"))


def _pool_profiles(rng: random.Random, reserve: list[Person], today: dt.date) -> set[int]:
    """Availability and skills of the reserve; returns the ids not available for duty."""
    rows, skills, unavailable = [], [], set()
    for p in reserve:
        draw = rng.random()
        if draw < 0.04:
            status, note = (
                AvailabilityStatus.UNAVAILABLE,
                rng.choice(("住院治疗", "居家隔离中", "外地出差")),
            )
            unavailable.add(p.pk)
        elif draw < 0.12:
            status, note = (
                AvailabilityStatus.LIMITED,
                rng.choice(("只能值白班", "周末可到岗", "需照顾老人，晚间不可")),
            )
        else:
            status, note = None, ""
        if status:
            until = today + dt.timedelta(days=rng.randrange(3, 21)) if rng.random() < 0.6 else None
            rows.append(_locate(Availability(person=p, status=status, until=until, note=note), p))
        if rng.random() < 0.35:
            for skill in rng.sample(Skill.values, rng.choice((1, 1, 2))):
                skills.append(_locate(PersonSkill(person=p, skill=skill), p))
    Availability.objects.bulk_create(rows)
    PersonSkill.objects.bulk_create(skills, batch_size=2000)
    return unavailable


# --------------------------------------------------------------------------------------------
# Sending down
# --------------------------------------------------------------------------------------------


def _send_down(
    rng: random.Random,
    street: Node,
    grids: list[Node],
    cadres: list[Person],
    reserve: list[Person],
    today: dt.date,
    count: int,
) -> dict[int, list[Person]]:
    """`count` (673) cadres on duty in the grids (a dozen more recalled), and a reserve
    dispatch of two weeks ago that has ended. Returns the cadres on duty per grid."""
    recalled_count = min(RECALLED, max(len(cadres) - count, 0))
    chosen = rng.sample(cadres, count + recalled_count)
    on_duty, recalled = chosen[:count], chosen[count:]
    starts, ends = today - dt.timedelta(days=20), today + dt.timedelta(days=40)
    order = list(grids)
    rng.shuffle(order)
    per_grid: dict[int, list[Person]] = {}
    for grid, run in zip(order, _split(on_duty, len(grids)), strict=True):
        per_grid[grid.pk] = run
    dispatches = {
        g.pk: _locate(
            Dispatch(
                node=g,
                kind=DeploymentKind.SENT_DOWN,
                starts_on=starts,
                ends_on=ends,
                note="区直机关干部下沉社区网格",
            ),
            g,
        )
        for g in grids
    }
    past = rng.choice(grids)
    community = Node.objects.get(pk=past.community_id)
    reserve_dispatch = _locate(
        Dispatch(
            node=community,
            kind=DeploymentKind.RESERVE,
            starts_on=today - dt.timedelta(days=16),
            ends_on=today - dt.timedelta(days=9),
            note="突发疫情点位支援",
        ),
        community,
    )
    Dispatch.objects.bulk_create([*dispatches.values(), reserve_dispatch])
    grid_of = {g.pk: g for g in grids}
    rows = []
    for grid_id, persons in per_grid.items():
        for p in persons:
            rows.append(
                _locate(
                    Deployment(
                        dispatch=dispatches[grid_id],
                        person=p,
                        node=grid_of[grid_id],
                        kind=DeploymentKind.SENT_DOWN,
                        starts_on=starts,
                        ends_on=ends,
                    ),
                    grid_of[grid_id],
                )
            )
    for p in recalled:
        grid = rng.choice(grids)
        rows.append(
            _locate(
                Deployment(
                    dispatch=dispatches[grid.pk],
                    person=p,
                    node=grid,
                    kind=DeploymentKind.SENT_DOWN,
                    starts_on=starts,
                    ends_on=ends,
                    recalled_on=today - dt.timedelta(days=rng.randrange(1, 12)),
                    recall_reason=rng.choice(RECALL_REASONS),
                ),
                grid,
            )
        )
    for p in rng.sample(reserve, min(RESERVE_DISPATCHED, len(reserve))):
        rows.append(
            _locate(
                Deployment(
                    dispatch=reserve_dispatch,
                    person=p,
                    node=community,
                    kind=DeploymentKind.RESERVE,
                    starts_on=reserve_dispatch.starts_on,
                    ends_on=reserve_dispatch.ends_on,
                ),
                community,
            )
        )
    Deployment.objects.bulk_create(rows, batch_size=2000)
    return per_grid


# --------------------------------------------------------------------------------------------
# Places, rosters, check-ins
# --------------------------------------------------------------------------------------------


def _testing_sites(street: Node) -> list:
    """The testing module's sampling sites of the street, if that module is installed and its
    demo ran first (looked up by name, never imported)."""
    try:
        site = apps.get_model("testing", "Site")
    except LookupError:
        return []
    return list(site.objects.filter(street_id=street.pk).select_related("node").order_by("pk"))


def _places(
    rng: random.Random,
    street: Node,
    communities: list[Node],
    grids: list[Node],
    per_grid: dict[int, list[Person]],
    today: dt.date,
) -> list[Place]:
    opened = today.replace(day=1) - dt.timedelta(days=40)
    places = []
    buildings = defaultdict(list)
    for b in Node.objects.filter(street_id=street.pk, level="building").order_by("path"):
        buildings[b.grid_id].append(b)
    for grid in grids:
        for b in rng.sample(
            buildings[grid.pk], min(GUARD_POINTS_PER_GRID, len(buildings[grid.pk]))
        ):
            places.append(
                _locate(
                    Place(
                        node=b,
                        name=f"{grid.name}{b.name}值守点",
                        kind=PlaceKind.GUARD_POINT,
                        address=f"{b.name}单元门口",
                        chief=rng.choice(per_grid[grid.pk]),
                        required=2,
                        opened_on=today - dt.timedelta(days=24),
                    ),
                    b,
                )
            )
    grid_of_community = {c.pk: [g for g in grids if g.community_id == c.pk] for c in communities}
    for i, c in enumerate(communities):
        grid = grid_of_community[c.pk][0]
        places.append(
            _locate(
                Place(
                    node=grid,
                    name=f"{ROADS[i % len(ROADS)]}卡口",
                    kind=PlaceKind.CHECKPOINT,
                    address=f"{c.name}{ROADS[i % len(ROADS)]}入口",
                    required=3,
                    opened_on=opened,
                ),
                grid,
            )
        )
    sites = _testing_sites(street)
    if sites:
        for s in sites:
            places.append(
                _locate(
                    Place(
                        node=s.node,
                        name=s.name,
                        kind=PlaceKind.SAMPLING_SITE,
                        address=s.address,
                        shifts_per_day=2,
                        shift_hours=7,
                        first_shift_at=dt.time(6),
                        required=2,
                        opened_on=today - dt.timedelta(days=10),
                        ref_type="testing.site",
                        ref_id=s.pk,
                    ),
                    s.node,
                )
            )
    else:
        for c in communities:
            grid = grid_of_community[c.pk][-1]
            places.append(
                _locate(
                    Place(
                        node=grid,
                        name=f"{c.name}核酸采样点",
                        kind=PlaceKind.SAMPLING_SITE,
                        address=f"{c.name}文化广场",
                        shifts_per_day=2,
                        shift_hours=7,
                        first_shift_at=dt.time(6),
                        required=2,
                        opened_on=today - dt.timedelta(days=10),
                    ),
                    grid,
                )
            )
    hotel_grid = rng.choice(grids)
    places.append(
        _locate(
            Place(
                node=hotel_grid,
                name="祥鹿宾馆集中隔离点",
                kind=PlaceKind.QUARANTINE_SITE,
                address="东丰大街88号",
                required=3,
                opened_on=today - dt.timedelta(days=18),
            ),
            hotel_grid,
        )
    )
    Place.objects.bulk_create(places)
    return places


def _staffing(
    rng: random.Random,
    places: list[Place],
    per_grid: dict[int, list[Person]],
    reserve: list[Person],
    unavailable: set[int],
) -> dict[int, list[list[Person]]]:
    """Who stands each shift of each place, every day: a fixed crew per (place, shift), so
    nobody is at two places at once or on duty more than one shift a day. Guard points take
    the cadres sent down to their grid; the other places take reserve staff of the
    community."""
    crews: dict[int, list[list[Person]]] = {}
    free_cadres = {g: list(ps) for g, ps in per_grid.items()}
    for ps in free_cadres.values():
        rng.shuffle(ps)
    free_reserve = defaultdict(list)
    for p in reserve:
        if p.pk not in unavailable:
            free_reserve[p.community_id].append(p)
    for ps in free_reserve.values():
        rng.shuffle(ps)
    for place in places:
        pool = (
            free_cadres[place.grid_id]
            if place.kind == PlaceKind.GUARD_POINT
            else free_reserve[place.community_id]
        )
        crews[place.pk] = []
        for _ in range(place.shifts_per_day):
            crew = [pool.pop() for _ in range(min(place.required, len(pool)))]
            crews[place.pk].append(crew)
        if place.chief_id is None and crews[place.pk][0]:
            place.chief = crews[place.pk][0][0]
    Place.objects.bulk_update([p for p in places if p.chief_id], ["chief"])
    return crews


def _rosters(
    rng: random.Random,
    places: list[Place],
    crews: dict[int, list[list[Person]]],
    today: dt.date,
    now: dt.datetime,
) -> dict[str, int]:
    shifts, plan = [], []
    first_day = today - dt.timedelta(days=DAYS_BEFORE)
    history_from = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for place in places:
        start = history_from if place.kind == PlaceKind.CHECKPOINT else first_day
        start = max(start, place.opened_on)
        day = start
        while day <= today + dt.timedelta(days=DAYS_AFTER):
            for index, starts_at, ends_at in place.shift_times(day):
                shift = _locate(
                    Shift(
                        place=place,
                        day=day,
                        index=index,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        required=place.required,
                    ),
                    place,
                )
                shifts.append(shift)
                plan.append((shift, crews[place.pk][index]))
            day += dt.timedelta(days=1)
    Shift.objects.bulk_create(shifts, batch_size=2000)
    # Assignments and check-ins as plain rows: (shift, person, start, end) and their place.
    planned = []
    for shift, crew in plan:
        future = shift.starts_at > now
        where = tuple(getattr(shift, c) for c in ANCESTORS)
        for person in crew:
            if future and shift.day > today and rng.random() < FUTURE_GAP:
                continue
            planned.append((shift, person.pk, where))
    _insert(
        Assignment,
        ("shift_id", "person_id", "starts_at", "ends_at", "created_at", *ANCESTORS),
        [(sh.pk, pid, sh.starts_at, sh.ends_at, now, *where) for sh, pid, where in planned],
    )
    ids = {
        (shift_id, person_id): pk
        for pk, shift_id, person_id in Assignment.objects.filter(
            shift__place__in=places
        ).values_list("pk", "shift_id", "person_id")
    }
    checks = []
    noted = set()
    for shift, pid, where in planned:
        if shift.starts_at > now or rng.random() < PAST_ABSENT:
            continue
        at = shift.starts_at + dt.timedelta(minutes=rng.randrange(-20, 15))
        if at > now:
            continue
        pk = ids[(shift.pk, pid)]
        checks.append((pk, CheckKind.IN, shift.day, at, at, "", *where))
        if shift.ends_at <= now:
            note = ""
            if shift.pk not in noted and rng.random() < 0.3:
                noted.add(shift.pk)
                note = rng.choice(NOTES)
            # up to 20 minutes late, but never after now (a shift that just ended)
            out = min(shift.ends_at + dt.timedelta(minutes=rng.randrange(0, 20)), now)
            checks.append((pk, CheckKind.OUT, shift.day, out, out, note, *where))
    _insert(
        CheckEvent,
        ("assignment_id", "kind", "day", "at", "recorded_at", "note", *ANCESTORS),
        checks,
    )
    assignments = planned
    return {
        "shifts": len(shifts),
        "assignments": len(assignments),
        "check_ins": sum(1 for c in checks if c[1] == CheckKind.IN),
        "check_outs": sum(1 for c in checks if c[1] == CheckKind.OUT),
    }


def _volunteer_on_duty(places: list[Place]) -> None:
    """The demo volunteer's person leads the first guard point of their grid, so that
    logging in as `volunteer` shows "My duty" at work."""
    user = User.objects.filter(username="volunteer").first()
    person = Person.objects.filter(user=user).first() if user else None
    if person is None:
        return
    for place in places:
        if place.kind == PlaceKind.GUARD_POINT and place.grid_id == person.grid_id:
            Place.objects.filter(pk=place.pk).update(chief=person)
            place.chief = person
            return


# --------------------------------------------------------------------------------------------
# Report-in, teams
# --------------------------------------------------------------------------------------------


def _report_ins(
    rng: random.Random, street: Node, today: dt.date, employers: list[str], now: dt.datetime
) -> dict[str, int]:
    young = today.replace(year=today.year - 58)
    old = today.replace(year=today.year - 23)
    persons_ids = Person.objects.exclude(id_number=None).values("id_number")
    eligible = list(
        Resident.objects.filter(
            street_id=street.pk, birth_date__gte=young, birth_date__lte=old, presence="home"
        )
        .exclude(id_number__in=persons_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = min(sum(REPORT_INS.values()), len(eligible))
    picked = rng.sample(eligible, total)
    found = Resident.objects.select_related("household").in_bulk(picked)
    chosen = [found[pk] for pk in picked]
    # As many of each status as the street has residents for, in the same proportions.
    share = total / sum(REPORT_INS.values())
    wanted = {s: round(n * share) for s, n in REPORT_INS.items()}
    wanted[ReportInStatus.CONFIRMED] += total - sum(wanted.values())
    statuses = [s for s, n in wanted.items() for _ in range(n)]
    rows, persons, skills = [], [], []
    for r, status in zip(chosen, statuses, strict=True):
        phone = r.phone or f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        mine = rng.sample(Skill.values, rng.choice((0, 1, 1, 2)))
        row = _locate(
            ReportIn(
                community_id=r.community_id,
                name=r.name,
                id_number=r.id_number,
                phone=phone,
                employer_name=rng.choice(employers),
                skills=",".join(sorted(mine)),
                status=status,
                source_key="demo",
            ),
            r,
        )
        if status != ReportInStatus.PENDING:
            row.decided_at = now - dt.timedelta(hours=rng.randrange(1, 200))
        if status == ReportInStatus.REJECTED:
            row.reason = rng.choice(("不在本社区居住", "重复登记", "已在单位所在地报到"))
        if status == ReportInStatus.CONFIRMED:
            person = _locate(
                Person(
                    name=r.name,
                    kind=PersonKind.PARTY_MEMBER,
                    phone=phone,
                    id_number=r.id_number,
                    party_member=True,
                    home=r.household,
                ),
                r,
            )
            persons.append(person)
            row.person = person
            row.task = rng.choice(TASKS)
            skills += [_locate(PersonSkill(person=person, skill=s), r) for s in mine]
        rows.append(row)
    Person.objects.bulk_create(persons)
    for row in rows:
        if row.person is not None:
            row.person_id = row.person.pk
    for s in skills:
        s.person_id = s.person.pk
    PersonSkill.objects.bulk_create(skills)
    ReportIn.objects.bulk_create(rows)
    for row in rows:  # spread over the last two weeks (submitted_at is set on insert)
        row.submitted_at = now - dt.timedelta(minutes=rng.randrange(60, 14 * 24 * 60))
        if row.decided_at and row.decided_at < row.submitted_at:
            row.decided_at = row.submitted_at + dt.timedelta(hours=2)
    ReportIn.objects.bulk_update(rows, ["submitted_at", "decided_at"], batch_size=500)
    return {
        "report_ins": total,
        "report_ins_pending": wanted[ReportInStatus.PENDING],
        "party_members_reported_in": wanted[ReportInStatus.CONFIRMED],
    }


def _teams(
    rng: random.Random,
    places: list[Place],
    communities: list[Node],
    grids: list[Node],
    per_grid: dict[int, list[Person]],
    crews: dict[int, list[list[Person]]],
    reserve: list[Person],
    today: dt.date,
) -> dict[str, int]:
    formed = today - dt.timedelta(days=15)
    orgs, teams, members = [], [], []
    plan: list[tuple[Team, list[Person]]] = []
    party = [p for p in reserve if p.party_member]
    party_by_community = defaultdict(list)
    for p in party:
        party_by_community[p.community_id].append(p)

    def crew_of(place: Place) -> list[Person]:
        return [p for crew in crews[place.pk] for p in crew]

    for place in places:
        node = Node(pk=place.node_id, **_columns(place))
        if place.kind == PlaceKind.SAMPLING_SITE:
            org = _locate(
                Organisation(
                    name=f"{place.name}临时党支部",
                    kind=OrgKind.PARTY_ORG,
                    temporary=True,
                    site=place.name,
                ),
                node,
            )
            orgs.append(org)
            team = _locate(
                Team(
                    kind=TeamKind.BRANCH,
                    name=org.name,
                    node_id=place.node_id,
                    place=place,
                    organisation=org,
                    formed_on=formed,
                ),
                node,
            )
            mates = party_by_community[place.community_id]
            extra = rng.sample(mates, min(3, len(mates)))
            plan.append((team, [p for p in crew_of(place) if p.party_member] + extra))
        elif place.kind == PlaceKind.CHECKPOINT:
            team = _locate(
                Team(
                    kind=TeamKind.PIONEER_POST,
                    name=f"{place.name}党员先锋岗",
                    node_id=place.node_id,
                    place=place,
                    formed_on=formed,
                ),
                node,
            )
            plan.append((team, [p for p in crew_of(place) if p.party_member]))
    for g in grids:
        team = _locate(
            Team(
                kind=TeamKind.RESPONSIBILITY_AREA,
                name=f"{g.name}党员责任区",
                node=g,
                formed_on=formed,
            ),
            g,
        )
        plan.append((team, [p for p in per_grid[g.pk] if p.party_member][:4]))
    for c in communities:
        team = _locate(
            Team(kind=TeamKind.SHOCK_TEAM, name=f"{c.name}党员突击队", node=c, formed_on=formed), c
        )
        mates = party_by_community[c.pk]
        plan.append((team, rng.sample(mates, min(10, len(mates)))))
    Organisation.objects.bulk_create(orgs)
    for team, _ in plan:
        if team.organisation is not None:
            team.organisation_id = team.organisation.pk
        teams.append(team)
    Team.objects.bulk_create(teams)
    for team, persons in plan:
        seen = set()
        for i, p in enumerate(persons):
            if p.pk in seen:
                continue
            seen.add(p.pk)
            title = ("书记" if team.kind == TeamKind.BRANCH else "队长") if i == 0 else ""
            members.append(
                _locate(TeamMember(team=team, person=p, title=title, joined_on=formed), team)
            )
    TeamMember.objects.bulk_create(members, batch_size=2000)
    return {
        "teams": len(teams),
        "team_members": len(members),
        "temporary_branches": sum(1 for t in teams if t.kind == TeamKind.BRANCH),
    }


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------


def _allowances(
    rng: random.Random,
    street: Node,
    communities: list[Node],
    per_grid: dict[int, list[Person]],
    grids: list[Node],
    today: dt.date,
) -> dict[str, int]:
    payer = Organisation.objects.filter(name=f"{street.name}办事处").first()
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    closed = services.allowance_month_open(node=street, month=last, payer=payer, source="demo")
    current = services.allowance_month_open(node=street, month=today, payer=payer, source="demo")
    sent = defaultdict(list)  # community → (person, the grid they are sent to)
    for g in grids:
        sent[g.community_id] += [(p, g) for p in per_grid[g.pk]]
    for month, day in ((closed, last + dt.timedelta(days=27)), (current, today)):
        for c in communities:
            person, grid = rng.choice(sent[c.pk])
            services.award_grant(
                month=month,
                person=person,
                title=AWARD,
                amount=Decimal("500.00"),
                node=grid,
                awarded_on=day,
                source="demo",
            )
    services.allowance_month_close(month=closed, source="demo")
    lines = services.allowance_month_compute(month=current, source="demo")
    return {
        "allowance_months": 2,
        "allowance_months_closed": 1,
        "allowance_lines": closed.lines.count() + lines,
    }


# --------------------------------------------------------------------------------------------


@transaction.atomic
def build_demo(
    street: Node, rng: random.Random, today: dt.date, *, sent_down: int = SENT_DOWN
) -> dict:
    """Mobilization on the demo street (see the module's docstring); returns its counts.
    `sent_down` is the field reports' 673; a smaller street (in tests) takes fewer."""
    with _roomy_sqlite_cache():
        return _build(street, rng, today, sent_down)


def _build(street: Node, rng: random.Random, today: dt.date, sent_down: int) -> dict:
    now = timezone.now()
    if timezone.localdate(now) != today:
        now = _local(today, dt.time(10, 30))
    communities = list(Node.objects.filter(street_id=street.pk, level="community").order_by("path"))
    grids = list(Node.objects.filter(street_id=street.pk, level="grid").order_by("path"))
    reserve = _reserve(street)
    unavailable = _pool_profiles(rng, reserve, today)
    per_grid = _send_down(rng, street, grids, _free_cadres(street), reserve, today, sent_down)
    places = _places(rng, street, communities, grids, per_grid, today)
    crews = _staffing(rng, places, per_grid, reserve, unavailable)
    _volunteer_on_duty(places)
    counts = _rosters(rng, places, crews, today, now)
    employers = list(
        Organisation.objects.filter(
            kind__in=[OrgKind.GOVERNMENT, OrgKind.ENTERPRISE], street_id__isnull=True
        )
        .order_by("name")
        .values_list("name", flat=True)
    ) or ["东丰县人民政府办公室"]
    counts |= _report_ins(rng, street, today, employers, now)
    counts |= _teams(rng, places, communities, grids, per_grid, crews, reserve, today)
    counts |= _allowances(rng, street, communities, per_grid, grids, today)
    kinds = defaultdict(int)
    for p in places:
        kinds[p.kind] += 1
    gaps = _gaps(places, today + dt.timedelta(days=1))
    return {
        "sent_down": sum(len(ps) for ps in per_grid.values()),
        "sent_down_recalled": Deployment.objects.filter(
            street_id=street.pk, recalled_on__isnull=False
        ).count(),
        "reserve_profiles": Availability.objects.filter(street_id=street.pk).count(),
        "guard_points": kinds[PlaceKind.GUARD_POINT],
        "checkpoints": kinds[PlaceKind.CHECKPOINT],
        "sampling_site_places": kinds[PlaceKind.SAMPLING_SITE],
        "quarantine_sites": kinds[PlaceKind.QUARANTINE_SITE],
        "gaps_tomorrow": gaps,
        **counts,
    }


def _gaps(places: list[Place], day: dt.date) -> int:
    """Shifts of `day` short of people at these places (one query)."""
    short = 0
    for s in (
        Shift.objects.filter(place__in=places, day=day)
        .values("pk", "required")
        .annotate(n=Count("assignments"))
    ):
        short += s["n"] < s["required"]
    return short
