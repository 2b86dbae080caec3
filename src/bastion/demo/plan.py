"""The demo as plain rows in memory, made deterministically from a seed and a date.

Nothing here touches the database. Rows refer to each other by their index in the plan
(`NodeRow.parent` is an index into `DemoPlan.nodes`, and so on); `builder.py` writes them and
maps the indexes to ids. Two plans made from the same seed and date are identical, which
`DemoPlan.digest` shows without building a database twice.

Ages are drawn relative to `today`, so the age pyramid, the infant flag (under 3) and the
aged-60+ share stay true whenever the demo is built.
"""

import datetime as dt
import hashlib
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from faker import Faker
from faker.providers.person.zh_CN import Provider as PersonProvider
from faker.providers.phone_number.zh_CN import Provider as PhoneProvider

from bastion.demo import spec
from bastion.geo.identity import make_id_number

# ---------------------------------------------------------------------------------------------
# The rows


class NodeRow(NamedTuple):
    parent: int | None  # index in DemoPlan.nodes
    level: str
    name: str
    code: str
    floors: int | None
    position: int  # 1-based rank among its siblings: the last step of its treebeard path


class HouseholdRow(NamedTuple):
    unit: int  # node index
    room: str
    floor: int


class ResidentRow(NamedTuple):
    household: int  # index in DemoPlan.households
    name: str
    id_number: str
    birth_date: dt.date
    sex: str
    phone: str
    relation: str
    presence: str
    immobile: bool
    disabled: bool
    chronic_illness: bool
    pregnant: bool
    infant: bool


class ZoneRow(NamedTuple):
    street: int  # node index
    name: str
    kind: str
    buildings: tuple[int, ...]  # node indexes


class OrganisationRow(NamedTuple):
    name: str
    kind: str
    node: int  # where it is located
    temporary: bool
    site: str


class PersonRow(NamedTuple):
    resident: int  # the resident row this person is: name, ID, phone and home come from it
    kind: str
    party_member: bool
    employer: int | None  # index in DemoPlan.organisations


class PostRow(NamedTuple):
    person: int  # index in DemoPlan.persons
    role: str
    node: int
    zone: int | None  # index in DemoPlan.zones
    title: str
    started_on: dt.date


class LoginRow(NamedTuple):
    username: str
    role: str
    node: int
    person: int | None


TABLES = (
    "nodes",
    "households",
    "residents",
    "zones",
    "organisations",
    "persons",
    "posts",
    "logins",
)


@dataclass
class DemoPlan:
    seed: int
    today: dt.date
    nodes: list[NodeRow] = field(default_factory=list)
    households: list[HouseholdRow] = field(default_factory=list)
    residents: list[ResidentRow] = field(default_factory=list)
    zones: list[ZoneRow] = field(default_factory=list)
    organisations: list[OrganisationRow] = field(default_factory=list)
    persons: list[PersonRow] = field(default_factory=list)
    posts: list[PostRow] = field(default_factory=list)
    logins: list[LoginRow] = field(default_factory=list)
    streets: list[int] = field(default_factory=list)  # node indexes
    _child_count: dict[int | None, int] = field(
        default_factory=lambda: defaultdict(int), repr=False
    )

    def add_node(
        self, parent: int | None, level: str, name: str, code: str = "", floors: int | None = None
    ) -> int:
        self._child_count[parent] += 1
        self.nodes.append(NodeRow(parent, level, name, code, floors, self._child_count[parent]))
        return len(self.nodes) - 1

    def add_organisation(
        self, name: str, kind: str, node: int, *, temporary: bool = False, site: str = ""
    ) -> int:
        self.organisations.append(OrganisationRow(name, kind, node, temporary, site))
        return len(self.organisations) - 1

    def numchild(self) -> list[int]:
        """treebeard's `numchild` of every node."""
        counts = [0] * len(self.nodes)
        for row in self.nodes:
            if row.parent is not None:
                counts[row.parent] += 1
        return counts

    def digest(self) -> str:
        """A fingerprint of every row: equal plans give equal digests."""
        h = hashlib.sha256()
        for table in TABLES:
            h.update(table.encode())
            for row in getattr(self, table):
                h.update(repr(row).encode())
        return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Shared state while planning


class _Names:
    """Surnames (weighted by frequency) and given names from the seeded zh_CN Faker, drawn
    thousands at a time: one weighted draw of many is far cheaper than a Faker call per name."""

    BATCH = 4096
    SOURCES = {
        "surname": PersonProvider.last_names,
        "M": PersonProvider.first_names_male,
        "F": PersonProvider.first_names_female,
    }

    def __init__(self, fake: Faker):
        self.fake = fake
        self.pools: dict[str, list[str]] = {}

    def draw(self, kind: str) -> str:
        pool = self.pools.get(kind)
        if not pool:
            pool = self.pools[kind] = list(
                self.fake.random_elements(self.SOURCES[kind], length=self.BATCH)
            )
        return pool.pop()

    def reseed(self, seed: int) -> None:
        self.fake.seed_instance(seed)
        self.pools.clear()


@dataclass
class _Context:
    plan: DemoPlan
    rng: random.Random
    names: _Names
    ages: list[int] = field(default_factory=list)  # parallel to plan.residents
    used_ids: set[str] = field(default_factory=set)
    used_phones: set[str] = field(default_factory=set)
    compound_names: list[str] = field(default_factory=list)  # still free, in drawing order
    compound_phase: int = 1
    district_orgs: dict[str, list[int]] = field(default_factory=dict)  # kind -> indexes


@dataclass
class _Building:
    """A building while its size is still being fitted to the street's totals."""

    community: int
    grid: int  # index within the street
    zone: int  # index within the street
    compound: str
    number: int  # "N号楼" within its compound
    gated: bool  # in an independent zone: a newer compound with a property company
    high_rise: bool = False
    floors: int = 6
    units: int = 4
    per_floor: int = 2
    node: int = -1
    unit_nodes: list[int] = field(default_factory=list)

    @property
    def flats(self) -> int:
        return self.floors * self.units * self.per_floor


@dataclass
class _Street:
    node: int
    name: str
    communities: list[int] = field(default_factory=list)  # node indexes
    community_names: list[str] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)
    grids: list[int] = field(default_factory=list)  # node indexes
    grid_community: list[int] = field(default_factory=list)
    buildings: list[_Building] = field(default_factory=list)
    zones: list[int] = field(default_factory=list)  # plan.zones indexes
    zone_sites: dict[int, str] = field(default_factory=dict)  # independent zone -> compound
    office: int = -1  # organisation index of the street office
    committees: list[int] = field(default_factory=list)  # organisation index per community


# ---------------------------------------------------------------------------------------------
# Small helpers


def chinese_numeral(n: int) -> str:
    """1..99 in Chinese numerals: 一, 十, 十一, 二十三."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else digits[tens]}十{digits[ones] if ones else ''}"


def street_name(index: int) -> str:
    return spec.STREET_NAME if index == 0 else f"{spec.STREET_NAME}{chinese_numeral(index + 1)}"


def _partition(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """`total` split into `parts` sizes within [low, high], scattered around the mean."""
    assert low * parts <= total <= high * parts
    sizes = [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
    for _ in range(parts * 4):
        i, j, step = rng.randrange(parts), rng.randrange(parts), rng.randint(1, 3)
        if i != j and sizes[i] - step >= low and sizes[j] + step <= high:
            sizes[i] -= step
            sizes[j] += step
    return sizes


def _triangular(rng: random.Random, low: int, high: int, mode: int) -> int:
    return min(high, int(rng.triangular(low, high + 1, mode)))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _birth_date(rng: random.Random, today: dt.date, age: int) -> dt.date:
    """A birth date giving exactly `age` completed years on `today`."""
    latest = _years_before(today, age)
    earliest = _years_before(today, age + 1) + dt.timedelta(days=1)
    return dt.date.fromordinal(rng.randint(earliest.toordinal(), latest.toordinal()))


def _id_number(ctx: _Context, birth: dt.date, sex: str) -> str:
    """A unique valid ID number; the order code's parity is the sex (odd: male)."""
    parity = 1 if sex == "M" else 0
    while True:
        number = make_id_number(spec.AREA_CODE, birth, ctx.rng.randrange(500) * 2 + parity)
        if number not in ctx.used_ids:
            ctx.used_ids.add(number)
            return number


_PHONE_PREFIXES = [str(p) for p in PhoneProvider.phonenumber_prefixes]


def _phone(ctx: _Context) -> str:
    while True:
        number = f"{ctx.rng.choice(_PHONE_PREFIXES)}{ctx.rng.randrange(10**8):08d}"
        if number not in ctx.used_phones:
            ctx.used_phones.add(number)
            return number


def _surname(ctx: _Context) -> str:
    return ctx.names.draw("surname")


def _given_name(ctx: _Context, sex: str) -> str:
    name = ctx.names.draw(sex)
    # Faker's zh_CN given names are mostly one character; many real ones have two.
    if len(name) == 1 and ctx.rng.random() < 0.45:
        second = ctx.names.draw(sex)
        if len(second) == 1 and second != name:
            name += second
    return name


# ---------------------------------------------------------------------------------------------
# The tree: street, communities, grids, compounds and zones, buildings, units


def _community_names(street_index: int) -> list[str]:
    pool = spec.COMMUNITY_NAMES
    names = []
    for i in range(len(spec.COMMUNITIES)):
        k = street_index * len(spec.COMMUNITIES) + i
        cycle = k // len(pool)
        names.append(f"{pool[k % len(pool)]}{chinese_numeral(cycle + 1) if cycle else ''}社区")
    return names


def _compound_name(ctx: _Context) -> str:
    if not ctx.compound_names:  # every pairing used (only at large --scale): a next phase
        ctx.compound_phase += 1
        phase = chinese_numeral(ctx.compound_phase)
        ctx.compound_names = [
            f"{p}{s}{phase}期" for p in spec.COMPOUND_PREFIXES for s in spec.COMPOUND_SUFFIXES
        ]
        ctx.rng.shuffle(ctx.compound_names)
    return ctx.compound_names.pop()


def _plan_compounds(
    ctx: _Context, community: int, size: int, zone_kind: str
) -> tuple[list[_Building], str]:
    """The buildings of one zone: one gated compound, or several older ones for a joint zone.
    Returns them and the name of the first compound."""
    rng = ctx.rng
    if zone_kind == "independent":
        parts = [size]
    else:
        parts = _partition(rng, size, rng.randint(2, min(4, size // 2)), 1, size)
    buildings, first = [], ""
    for part in parts:
        compound = _compound_name(ctx)
        first = first or compound
        buildings += [
            _Building(
                community=community,
                grid=-1,
                zone=-1,
                compound=compound,
                number=n + 1,
                gated=zone_kind == "independent",
            )
            for n in range(part)
        ]
    return buildings, first


def _plan_zones(
    ctx: _Context, street: _Street, community: int, count: int, buildings: int
) -> list[tuple[str, str, list[_Building]]]:
    """Cut a community's buildings into `count` zones, one of them independent."""
    sizes = _partition(ctx.rng, buildings, count, 7, 26)
    independent = ctx.rng.randrange(count)
    zones, joint = [], 0
    for z, size in enumerate(sizes):
        kind = "independent" if z == independent else "joint"
        members, compound = _plan_compounds(ctx, community, size, kind)
        if kind == "independent":
            name = f"{compound}独立指挥区"
        else:
            joint += 1
            name = f"{street.community_names[community]}第{chinese_numeral(joint)}联合指挥区"
        zones.append((name, kind, members))
    return zones


def _size_buildings(rng: random.Random, buildings: list[_Building]) -> None:
    """Floors, units and flats per floor: mostly 6–7-floor walk-ups with two flats a floor,
    some high-rises (more of them in the gated compounds)."""
    for b in buildings:
        if rng.random() < (0.35 if b.gated else 0.08):
            b.high_rise = True
            b.floors = rng.choice(spec.HIGH_RISE_FLOORS)
            b.units = rng.choice((1, 2, 2, 3))
            b.per_floor = 2 if b.floors == 11 else rng.choice((2, 3, 4))
        else:
            b.floors = rng.choices((5, 6, 7), weights=(8, 52, 40))[0]
            b.units = rng.choices((2, 3, 4, 5, 6), weights=(5, 20, 35, 25, 15))[0]
            b.per_floor = 3 if rng.random() < 0.12 else 2


def _fit_units(rng: random.Random, buildings: list[_Building], total: int) -> None:
    """Add or remove walk-up units until the street has exactly `total`."""
    walkups = [b for b in buildings if not b.high_rise]
    diff = total - sum(b.units for b in buildings)
    while diff:
        b = rng.choice(walkups)
        if diff > 0 and b.units < 6:
            b.units, diff = b.units + 1, diff - 1
        elif diff < 0 and b.units > 2:
            b.units, diff = b.units - 1, diff + 1


def _fit_flats(rng: random.Random, buildings: list[_Building], households: int) -> None:
    """Grow or shrink walk-ups until 3–8% of the flats will stand empty."""
    walkups = [b for b in buildings if not b.high_rise]
    flats = sum(b.flats for b in buildings)
    while flats < households / 0.97:
        b = rng.choice(walkups)
        before = b.flats
        if b.floors < 7:
            b.floors += 1
        elif b.per_floor < 3:
            b.per_floor += 1
        flats += b.flats - before
    while flats > households / 0.92:
        b = rng.choice(walkups)
        before = b.flats
        if b.per_floor > 2:
            b.per_floor -= 1
        elif b.floors > 5:
            b.floors -= 1
        flats += b.flats - before


def _plan_street_tree(ctx: _Context, district: int, index: int) -> _Street:
    plan, rng = ctx.plan, ctx.rng
    name = street_name(index)
    street = _Street(
        node=plan.add_node(district, "street", name, f"220421{index + 1:03d}000"),
        name=name,
        community_names=_community_names(index),
        lanes=[
            spec.LANES[(index * spec.LANE_CHIEFS + i) % len(spec.LANES)]
            for i in range(spec.LANE_CHIEFS)
        ],
    )
    plan.streets.append(street.node)
    zone_defs = []
    for c, cspec in enumerate(spec.COMMUNITIES):
        community = plan.add_node(
            street.node, "community", street.community_names[c], f"220421{index + 1:03d}{c + 1:03d}"
        )
        street.communities.append(community)
        zones = _plan_zones(ctx, street, c, cspec.zones, cspec.buildings)
        members = [b for _n, _k, bs in zones for b in bs]
        for z, (_name, kind, bs) in enumerate(zones):
            for b in bs:
                b.zone = len(zone_defs) + z
            if kind == "independent":
                street.zone_sites[len(zone_defs) + z] = bs[0].compound
        zone_defs += zones
        # Grids cut the same run of buildings; a big compound may span two grids.
        start = 0
        for g, size in enumerate(_partition(rng, cspec.buildings, cspec.grids, 4, 12)):
            grid = plan.add_node(
                community,
                "grid",
                f"{street.community_names[c][:-2]}第{chinese_numeral(g + 1)}网格",
                f"{g + 1:02d}",
            )
            street.grids.append(grid)
            street.grid_community.append(c)
            for b in members[start : start + size]:
                b.grid = len(street.grids) - 1
            start += size
        street.buildings += members
    _size_buildings(rng, street.buildings)
    _fit_units(rng, street.buildings, spec.UNITS)
    _fit_flats(rng, street.buildings, spec.HOUSEHOLDS)
    in_grid: dict[int, int] = defaultdict(int)
    for b in street.buildings:
        in_grid[b.grid] += 1
        b.node = plan.add_node(
            street.grids[b.grid],
            "building",
            f"{b.compound}{b.number}号楼",
            f"{in_grid[b.grid]:02d}",
            b.floors,
        )
        b.unit_nodes = [
            plan.add_node(b.node, "unit", f"{u + 1}单元", f"{u + 1:02d}") for u in range(b.units)
        ]
    for zone_name, kind, bs in zone_defs:
        plan.zones.append(ZoneRow(street.node, zone_name, kind, tuple(b.node for b in bs)))
        street.zones.append(len(plan.zones) - 1)
    return street


# ---------------------------------------------------------------------------------------------
# Households and residents


def _plan_households(ctx: _Context, street: _Street) -> list[int]:
    """Fill all but a few flats: room "301" is floor 3, door 1. Returns household indexes."""
    flats = [
        (unit, floor, door)
        for b in street.buildings
        for unit in b.unit_nodes
        for floor in range(1, b.floors + 1)
        for door in range(1, b.per_floor + 1)
    ]
    empty = set(ctx.rng.sample(range(len(flats)), len(flats) - spec.HOUSEHOLDS))
    first = len(ctx.plan.households)
    ctx.plan.households += [
        HouseholdRow(unit, f"{floor}{door:02d}", floor)
        for i, (unit, floor, door) in enumerate(flats)
        if i not in empty
    ]
    return list(range(first, len(ctx.plan.households)))


class _Member(NamedTuple):
    relation: str
    age: int
    sex: str
    surname: str


def _other_sex(sex: str) -> str:
    return "F" if sex == "M" else "M"


def _couple(ctx: _Context, head_age: int) -> list[_Member]:
    rng = ctx.rng
    head_sex = "M" if rng.random() < 0.78 else "F"
    gap = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 7))  # the husband is usually older
    head_age = max(head_age, 23)
    spouse_age = head_age - gap if head_sex == "M" else head_age + gap
    spouse_age = max(spouse_age, 20 if head_sex == "M" else 22)  # legal marriage ages
    return [
        _Member("head", head_age, head_sex, _surname(ctx)),
        _Member("spouse", spouse_age, _other_sex(head_sex), _surname(ctx)),
    ]


def _father_surname(members: list[_Member]) -> str:
    """Children take the father's surname; a single parent's own otherwise."""
    fathers = [m for m in members[:2] if m.sex == "M" and m.relation in ("head", "spouse")]
    return fathers[0].surname if fathers else members[0].surname


def _child(
    ctx: _Context, members: list[_Member], relation: str = "child", min_age: int = 0
) -> _Member:
    """A child 20–38 years younger than the younger parent."""
    youngest = min(m.age for m in members[:2] if m.relation in ("head", "spouse"))
    high = min(38, youngest - min_age)
    age = youngest - ctx.rng.randint(min(20, high), high)
    return _Member(relation, age, ctx.rng.choice("MF"), _father_surname(members))


def _parent(ctx: _Context, head: _Member, sex: str, older_than: int = 0) -> _Member:
    age = min(100, max(head.age + ctx.rng.randint(22, 34), older_than))
    surname = head.surname if sex == "M" else _surname(ctx)
    return _Member("parent", age, sex, surname)


def _household_members(ctx: _Context, size: int) -> list[_Member]:
    """Who lives together, by household size: relations and ages that agree."""
    rng, r = ctx.rng, ctx.rng.random()
    if size == 1:
        if r < 0.26:  # mostly widowed women
            return [
                _Member(
                    "head",
                    _triangular(rng, 60, 94, 67),
                    "F" if rng.random() < 0.62 else "M",
                    _surname(ctx),
                )
            ]
        return [_Member("head", _triangular(rng, 20, 59, 36), rng.choice("MF"), _surname(ctx))]
    if size == 2:
        if r < 0.58:  # a young couple or, more often, an empty nest
            young = rng.random() < 0.3
            return _couple(
                ctx, _triangular(rng, 23, 38, 29) if young else _triangular(rng, 42, 84, 53)
            )
        if r < 0.82:  # a single parent and a child
            head = _Member(
                "head",
                _triangular(rng, 28, 62, 42),
                "F" if rng.random() < 0.65 else "M",
                _surname(ctx),
            )
            return [head, _child(ctx, [head])]
        head = _Member("head", _triangular(rng, 35, 62, 50), rng.choice("MF"), _surname(ctx))
        return [head, _parent(ctx, head, "F" if rng.random() < 0.7 else "M")]
    if size == 3:
        if r < 0.8:
            members = _couple(ctx, _triangular(rng, 25, 58, 38))
            return [*members, _child(ctx, members)]
        members = _couple(ctx, _triangular(rng, 28, 58, 42))
        return [*members, _parent(ctx, members[0], rng.choice("MF"))]
    if size == 4:
        members = _couple(ctx, _triangular(rng, 28, 52, 38))
        if r < 0.5:
            return [*members, _child(ctx, members), _child(ctx, members)]
        return [*members, _child(ctx, members), _parent(ctx, members[0], rng.choice("MF"))]
    if r < 0.6:  # a couple, their child and the husband's or wife's parents
        members = _couple(ctx, _triangular(rng, 28, 50, 37))
        father = _parent(ctx, members[0], "M")
        mother = _Member(
            "parent", max(father.age - rng.randint(0, 4), members[0].age + 20), "F", _surname(ctx)
        )
        return [*members, _child(ctx, members), father, mother]
    # grandparents as head and spouse, their married child, and a grandchild
    members = _couple(ctx, _triangular(rng, 52, 74, 60))
    child = _child(ctx, members, min_age=23)
    in_law = _Member(
        "other", max(22, child.age + rng.randint(-3, 3)), _other_sex(child.sex), _surname(ctx)
    )
    line = child.surname if child.sex == "M" else in_law.surname
    grand_age = min(child.age, in_law.age) - rng.randint(20, min(34, min(child.age, in_law.age)))
    return [
        *members,
        child,
        in_law,
        _Member("grandchild", max(0, grand_age), rng.choice("MF"), line),
    ]


def _presence(rng: random.Random, age: int) -> str:
    r = rng.random()
    if r < 0.02:
        return "moved_out"
    if r < 0.02 + (0.10 if 18 <= age <= 50 else 0.03):  # working or studying elsewhere
        return "away"
    return "home"


def _resident(ctx: _Context, household: int, member: _Member, married: bool) -> ResidentRow:
    rng, age, sex = ctx.rng, member.age, member.sex
    birth = _birth_date(rng, ctx.plan.today, age)
    has_phone = age >= 12 and (age < 85 or rng.random() < 0.5)
    return ResidentRow(
        household=household,
        name=member.surname + _given_name(ctx, sex),
        id_number=_id_number(ctx, birth, sex),
        birth_date=birth,
        sex=sex,
        phone=_phone(ctx) if has_phone else "",
        relation=member.relation,
        presence=_presence(rng, age),
        immobile=rng.random()
        < (0.22 if age >= 80 else 0.06 if age >= 70 else 0.015 if age >= 60 else 0.002),
        disabled=rng.random() < (0.08 if age >= 60 else 0.02),
        chronic_illness=rng.random()
        < (0.5 if age >= 70 else 0.35 if age >= 60 else 0.12 if age >= 40 else 0.02),
        pregnant=(
            married
            and sex == "F"
            and 20 <= age <= 45
            and rng.random() < (0.05 if age <= 35 else 0.015)
        ),
        infant=age < 3,
    )


def _plan_residents(ctx: _Context, households: list[int]) -> None:
    sizes = [size for size, n in spec.HOUSEHOLD_SIZES.items() for _ in range(n)]
    ctx.rng.shuffle(sizes)
    for household, size in zip(households, sizes, strict=True):
        members = _household_members(ctx, size)
        married = {"head", "spouse"} <= {m.relation for m in members}
        for m in members:
            ctx.plan.residents.append(
                _resident(ctx, household, m, married and m.relation in ("head", "spouse"))
            )
            ctx.ages.append(m.age)


# ---------------------------------------------------------------------------------------------
# Organisations, persons and posts


def _plan_district_organisations(ctx: _Context, district: int) -> None:
    plan = ctx.plan
    ctx.district_orgs = {
        "government": [
            plan.add_organisation(n, "government", district) for n in spec.GOVERNMENT_BODIES
        ],
        "enterprise": [plan.add_organisation(n, "enterprise", district) for n in spec.ENTERPRISES],
        "property_company": [
            plan.add_organisation(n, "property_company", district) for n in spec.PROPERTY_COMPANIES
        ],
    }


def _plan_street_organisations(ctx: _Context, street: _Street) -> dict[int, int]:
    """The street office, each community's committee and party committee, and a temporary
    party branch with a property company for each gated compound. Returns, per independent
    zone, the property company running it."""
    plan = ctx.plan
    street.office = plan.add_organisation(f"{street.name}办事处", "government", street.node)
    plan.add_organisation(
        f"中共{spec.DISTRICT[0]}{street.name}工作委员会", "party_org", street.node
    )
    for node, name in zip(street.communities, street.community_names, strict=True):
        street.committees.append(plan.add_organisation(f"{name}居民委员会", "government", node))
        plan.add_organisation(f"中共{name}委员会", "party_org", node)
    managers = {}
    for zone, compound in street.zone_sites.items():
        managers[zone] = ctx.rng.choice(ctx.district_orgs["property_company"])
        plan.add_organisation(
            f"{compound}临时党支部", "party_org", street.node, temporary=True, site=compound
        )
    return managers


@dataclass
class _Pools:
    """Residents who can take on a post, by where they live."""

    by_unit: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_building: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_grid: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_zone: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_community: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    everyone: list[int] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)
    zone_of_unit: dict[int, int] = field(default_factory=dict)


def _pools(ctx: _Context, street: _Street, first_resident: int) -> _Pools:
    """Only residents at home with a mobile number can hold a post."""
    pools = _Pools()
    building_of_unit = {}
    for b in street.buildings:
        for unit in b.unit_nodes:
            building_of_unit[unit] = b
            pools.zone_of_unit[unit] = street.zones[b.zone]
    plan = ctx.plan
    for i in range(first_resident, len(plan.residents)):
        r = plan.residents[i]
        if r.presence != "home" or not r.phone:
            continue
        unit = plan.households[r.household].unit
        b = building_of_unit[unit]
        pools.by_unit[unit].append(i)
        pools.by_building[b.node].append(i)
        pools.by_grid[b.grid].append(i)
        pools.by_zone[street.zones[b.zone]].append(i)
        pools.by_community[b.community].append(i)
        pools.everyone.append(i)
    return pools


def _pick(ctx: _Context, pools: _Pools, candidates: Sequence[int], low: int, high: int) -> int:
    """A resident of `candidates` aged low..high who holds nothing yet; failing that anyone
    free there, failing that anyone free in the street."""
    free = [i for i in candidates if i not in pools.taken]
    if not free:
        free = [i for i in pools.everyone if i not in pools.taken]
    fitting = [i for i in free if low <= ctx.ages[i] <= high] or free
    chosen = ctx.rng.choice(fitting)
    pools.taken.add(chosen)
    return chosen


def _add_person(
    ctx: _Context,
    resident: int,
    kind: str,
    *,
    party: bool | None = None,
    employer: int | None = None,
) -> int:
    if party is None:
        party = kind == "party_member" or (kind == "cadre" and ctx.rng.random() < 0.65)
    ctx.plan.persons.append(PersonRow(resident, kind, party, employer))
    return len(ctx.plan.persons) - 1


def _add_post(
    ctx: _Context, person: int, role: str, node: int, *, zone: int | None = None, title: str = ""
) -> None:
    started = ctx.plan.today - dt.timedelta(days=ctx.rng.randint(14, 120))
    ctx.plan.posts.append(PostRow(person, role, node, zone, title, started))


def _cadre_employer(ctx: _Context, street: _Street) -> int:
    r = ctx.rng.random()
    if r < 0.55:
        return ctx.rng.choice(ctx.district_orgs["government"])
    if r < 0.9:
        return ctx.rng.choice(ctx.district_orgs["enterprise"])
    return street.office


def _chief_kind(ctx: _Context, gated: bool) -> str:
    r = ctx.rng.random()
    if gated and r < 0.15:
        return "property_staff"
    return "party_member" if r < 0.62 else "volunteer" if r < 0.88 else "resident"


@dataclass
class _StreetPeople:
    street_chief: int = -1
    grid_chiefs: dict[int, int] = field(default_factory=dict)  # grid node -> person
    building_chiefs: dict[int, int] = field(default_factory=dict)
    unit_chiefs: dict[int, int] = field(default_factory=dict)
    community_staff: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def _plan_command(ctx: _Context, street: _Street, pools: _Pools, people: _StreetPeople) -> None:
    """Street chief, lane chiefs, zone commanders and deputies, grid chiefs, community staff:
    all cadres living in the street."""
    rng, node = ctx.rng, street.node
    chief = _add_person(
        ctx, _pick(ctx, pools, pools.everyone, 40, 58), "cadre", party=True, employer=street.office
    )
    _add_post(ctx, chief, "street_chief", node)
    people.street_chief = chief
    for lane in street.lanes:
        person = _add_person(
            ctx, _pick(ctx, pools, pools.everyone, 35, 58), "cadre", employer=street.office
        )
        _add_post(ctx, person, "lane_chief", node, title=lane)
    deputies = [spec.DEPUTY_COMMANDERS // len(street.zones)] * len(street.zones)
    for z in rng.sample(range(len(deputies)), spec.DEPUTY_COMMANDERS % len(street.zones)):
        deputies[z] += 1
    for zone, n_deputies in zip(street.zones, deputies, strict=True):
        commander = _add_person(
            ctx,
            _pick(ctx, pools, pools.by_zone[zone], 38, 58),
            "cadre",
            party=True,
            employer=rng.choice([street.office, *ctx.district_orgs["government"]]),
        )
        _add_post(ctx, commander, "zone_commander", node, zone=zone)
        for _ in range(n_deputies):
            deputy = _add_person(
                ctx,
                _pick(ctx, pools, pools.by_zone[zone], 28, 58),
                "cadre",
                employer=_cadre_employer(ctx, street),
            )
            _add_post(ctx, deputy, "deputy_commander", node, zone=zone)
    for g, grid in enumerate(street.grids):
        committee = street.committees[street.grid_community[g]]
        person = _add_person(
            ctx,
            _pick(ctx, pools, pools.by_grid[g], 28, 55),
            "cadre",
            party=rng.random() < 0.8,
            employer=committee,
        )
        _add_post(ctx, person, "grid_chief", grid)
        people.grid_chiefs[grid] = person
    for c, committee in enumerate(street.committees):
        for _ in range(spec.COMMUNITY_STAFF):
            person = _add_person(
                ctx, _pick(ctx, pools, pools.by_community[c], 25, 50), "cadre", employer=committee
            )
            people.community_staff[c].append(person)


def _plan_chiefs(
    ctx: _Context,
    street: _Street,
    pools: _Pools,
    people: _StreetPeople,
    managers: dict[int, int],
    keep_staffed: set[int],
) -> None:
    """Building and unit chiefs: residents of their own building or unit. Some posts stay
    vacant, never those of the buildings in `keep_staffed`."""
    rng = ctx.rng
    buildings = [b for b in street.buildings if b.node not in keep_staffed]
    vacant_buildings = {b.node for b in rng.sample(buildings, spec.VACANT_BUILDINGS)}
    units = [u for b in buildings for u in b.unit_nodes]
    vacant_units = set(rng.sample(units, spec.VACANT_UNITS))
    for b in street.buildings:
        zone = street.zones[b.zone]
        employer = managers.get(zone)
        if b.node not in vacant_buildings:
            kind = _chief_kind(ctx, b.gated)
            person = _add_person(
                ctx,
                _pick(ctx, pools, pools.by_building[b.node], 30, 72),
                kind,
                employer=employer if kind == "property_staff" else None,
            )
            _add_post(ctx, person, "building_chief", b.node)
            people.building_chiefs[b.node] = person
        for unit in b.unit_nodes:
            if unit in vacant_units:
                continue
            candidates = pools.by_unit[unit] or pools.by_building[b.node]
            kind = _chief_kind(ctx, b.gated)
            person = _add_person(
                ctx,
                _pick(ctx, pools, candidates, 25, 72),
                kind,
                employer=employer if kind == "property_staff" else None,
            )
            _add_post(ctx, person, "unit_chief", unit)
            people.unit_chiefs[unit] = person


def _plan_cadres(ctx: _Context, street: _Street, pools: _Pools, first_person: int) -> None:
    """Bring the street's cadres up to the figure of the reports; 3,600 of those without a
    command post join the reserve of the zone they live in."""
    plan, rng = ctx.plan, ctx.rng
    have = sum(1 for p in plan.persons[first_person:] if p.kind == "cadre")
    free = [i for i in pools.everyone if i not in pools.taken and 22 <= ctx.ages[i] <= 59]
    residents = rng.sample(free, spec.CADRES - have)
    pools.taken.update(residents)
    new = [_add_person(ctx, r, "cadre", employer=_cadre_employer(ctx, street)) for r in residents]
    for person in sorted(rng.sample(new, spec.RESERVE)):
        unit = plan.households[plan.residents[plan.persons[person].resident].household].unit
        _add_post(ctx, person, "reserve", street.node, zone=pools.zone_of_unit[unit])


def _plan_logins(
    ctx: _Context, city: int, street: _Street, pools: _Pools, people: _StreetPeople, demo_grid: int
) -> None:
    """One login per role, each the person who holds that place where there is one."""
    building = next(b for b in street.buildings if b.grid == demo_grid)
    unit = building.unit_nodes[0]
    grid = street.grids[demo_grid]
    volunteer = _add_person(
        ctx, _pick(ctx, pools, pools.by_grid[demo_grid], 18, 40), "volunteer", party=False
    )
    ctx.plan.logins += [
        LoginRow("admin", "city_admin", city, None),
        LoginRow("street", "street_commander", street.node, people.street_chief),
        LoginRow(
            "community", "community_staff", street.communities[0], people.community_staff[0][0]
        ),
        LoginRow("grid", "grid_chief", grid, people.grid_chiefs[grid]),
        LoginRow(
            "building", "building_chief", building.node, people.building_chiefs[building.node]
        ),
        LoginRow("unit", "unit_chief", unit, people.unit_chiefs[unit]),
        LoginRow("volunteer", "volunteer", grid, volunteer),
    ]


def _plan_people(
    ctx: _Context, city: int, street: _Street, first_resident: int, with_logins: bool
) -> None:
    pools = _pools(ctx, street, first_resident)
    managers = _plan_street_organisations(ctx, street)
    first_person = len(ctx.plan.persons)
    people = _StreetPeople()
    # The demo logins' grid keeps every chief, so their notice and views are complete.
    demo_grid = 0
    keep = {b.node for b in street.buildings if b.grid == demo_grid} if with_logins else set()
    _plan_command(ctx, street, pools, people)
    _plan_chiefs(ctx, street, pools, people, managers, keep)
    _plan_cadres(ctx, street, pools, first_person)
    if with_logins:
        _plan_logins(ctx, city, street, pools, people, demo_grid)


# ---------------------------------------------------------------------------------------------
# The whole plan


Progress = Callable[[str], None]


def plan_demo(
    *,
    seed: int = spec.SEED,
    scale: int = 1,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> DemoPlan:
    """The demo city, its district and `scale` streets, as rows in memory."""
    today = today or dt.date.today()
    plan = DemoPlan(seed=seed, today=today)
    names = _Names(Faker("zh_CN"))
    ctx = _Context(plan=plan, rng=random.Random(seed), names=names)
    ctx.compound_names = [p + s for p in spec.COMPOUND_PREFIXES for s in spec.COMPOUND_SUFFIXES]
    ctx.rng.shuffle(ctx.compound_names)
    city = plan.add_node(None, "city", *spec.CITY)
    district = plan.add_node(city, "district", *spec.DISTRICT)
    _plan_district_organisations(ctx, district)
    for index in range(scale):
        # A seeded stream per street: adding streets leaves the first one's draws alone.
        ctx.rng = random.Random(f"{seed}:{index}")
        names.reseed(seed * 1000 + index)
        street = _plan_street_tree(ctx, district, index)
        first_resident = len(plan.residents)
        _plan_residents(ctx, _plan_households(ctx, street))
        _plan_people(ctx, city, street, first_resident, with_logins=index == 0)
        if progress:
            progress(street.name)
    return plan
