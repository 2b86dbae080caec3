"""The bench's district: the tree, households and residents written in bulk, a round mostly
sampled, a site with its stations; found again when kept (`--reuse`)."""

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

CLIENTS = 8


POOL = 10


SAMPLED_SHARE = 6  # of 10 present residents are sampled before the HTTP run


# The shape of the built district: rooms per floor, floors, units per building, buildings per
# grid, grids per community, communities per street.
ROOMS, FLOORS, UNITS, BUILDINGS, GRIDS, COMMUNITIES = 2, 6, 2, 24, 6, 8


HOUSEHOLD_SIZES = (2, 3, 1, 2, 3, 2, 1, 2)  # cycled: two per household on average


DISTRICT_NAME, DISTRICT_CODE = "基准区", "BENCH"


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


# ---------------------------------------------------------------------------- the district


@dataclass
class District:
    district_id: int
    grid_id: int
    round_id: int
    stations: list[int]
    positive_tube_id: int
    residents: int
    expected: int  # present residents
    token: str = ""


class _Ids:
    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _tree(residents: int) -> tuple[list[tuple], list[tuple], int, int]:
    """Nodes as insert rows (id, path, depth, numchild, name, level, code, floors, ancestors)
    and the units as (unit id, ancestors); enough grids for `residents`."""
    from bastion.geo.models import LEVEL_ORDER, Node

    per_grid = BUILDINGS * UNITS * FLOORS * ROOMS * 2
    grids = max(1, -(-residents // per_grid))
    ids = _Ids()
    nodes: list[tuple] = []
    units: list[tuple[int, tuple]] = []

    def add(level, name, code, path, ancestors, children, floors=None) -> tuple[int, str, tuple]:
        pk = ids.next()
        own = (*ancestors, pk)
        columns = own + (None,) * (len(LEVEL_ORDER) - len(own))
        depth = len(own)
        nodes.append((pk, path, depth, children, name, level, code, floors, *columns))
        return pk, path, own

    def child_path(parent: str, position: int) -> str:
        return Node._get_path(parent, len(parent) // Node.steplen + 1, position)

    communities = -(-grids // GRIDS)
    streets = -(-communities // COMMUNITIES)
    _c, city_path, city = add("city", "基准市", "BENCHC", Node._get_path(None, 1, 1), (), 1)
    district_id, district_path, district = add(
        "district", DISTRICT_NAME, DISTRICT_CODE, child_path(city_path, 1), city, streets
    )
    grid_id = 0
    left_grids, left_communities = grids, communities
    for s in range(streets):
        n_comm = min(COMMUNITIES, left_communities)
        left_communities -= n_comm
        _s, s_path, street = add(
            "street",
            f"第{s + 1}街道",
            f"S{s + 1:02d}",
            child_path(district_path, s + 1),
            district,
            n_comm,
        )
        for c in range(n_comm):
            n_grids = min(GRIDS, left_grids)
            left_grids -= n_grids
            _cm, c_path, community = add(
                "community",
                f"第{s + 1}街道{c + 1}社区",
                f"C{c + 1}",
                child_path(s_path, c + 1),
                street,
                n_grids,
            )
            for g in range(n_grids):
                gid, g_path, grid = add(
                    "grid",
                    f"{s + 1}-{c + 1}-{g + 1}网格",
                    f"G{g + 1}",
                    child_path(c_path, g + 1),
                    community,
                    BUILDINGS,
                )
                grid_id = grid_id or gid
                for b in range(BUILDINGS):
                    _b, b_path, building = add(
                        "building",
                        f"{b + 1}号楼",
                        f"B{b + 1:02d}",
                        child_path(g_path, b + 1),
                        grid,
                        UNITS,
                        FLOORS,
                    )
                    for u in range(UNITS):
                        uid, _u_path, unit = add(
                            "unit",
                            f"{u + 1}单元",
                            f"U{u + 1}",
                            child_path(b_path, u + 1),
                            building,
                            0,
                        )
                        units.append((uid, unit))
    return nodes, units, district_id, grid_id


def _homes(units: list[tuple], residents: int) -> Iterator[tuple[int, tuple, int, str, int]]:
    """(household id, unit ancestors, floor, room, members) until `residents` are housed."""
    placed, pk = 0, 0
    for _unit, ancestors in units:
        for floor in range(1, FLOORS + 1):
            for room in range(1, ROOMS + 1):
                if placed >= residents:
                    return
                size = min(HOUSEHOLD_SIZES[pk % len(HOUSEHOLD_SIZES)], residents - placed)
                pk += 1
                placed += size
                yield pk, ancestors, floor, f"{floor}{room:02d}", size


def _presence(i: int) -> str:
    if i % 50 == 7:
        return "away"
    if i % 100 == 13:
        return "moved_out"
    return "home"


def _person(i: int) -> tuple[str, str, dt.date, str]:
    """Name, ID number, birth date and sex of the i-th resident (ID numbers unique)."""
    from bastion.geo.identity import make_id_number

    birth = dt.date(1940, 1, 1) + dt.timedelta(days=i % 29000)
    sequence = i // 29000
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[(i // 3) % len(GIVEN)]
    return name, make_id_number("220421", birth, sequence), birth, "M" if sequence % 2 else "F"


def _residents(units: list[tuple], residents: int) -> Iterator[tuple]:
    """(id, household, ancestors, name, ID number, birth, sex, presence, immobile)."""
    i = 0
    for household, ancestors, _floor, _room, size in _homes(units, residents):
        for member in range(size):
            name, number, birth, sex = _person(i)
            yield (
                i + 1,
                household,
                ancestors,
                member,
                name,
                number,
                birth,
                sex,
                _presence(i),
                i % 97 == 5,
            )
            i += 1


def _full(ancestors: tuple) -> tuple:
    return ancestors + (None,) * (7 - len(ancestors))


def _skip_foreign_key_checks() -> None:
    """Every id written here was just made here; PostgreSQL's deferred foreign-key checks of
    three million rows would hold the COMMIT for minutes. A superuser (the throwaway cluster of
    scripts/with-postgres) may switch them off for this transaction; anyone else keeps them."""
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


def district_build(*, residents: int, progress) -> District:
    """Write the bench district, its round, site, stations and earlier scans."""
    from django.contrib.auth.models import User
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from bastion.accounts.services import role_assign
    from bastion.core.bulk import copy_rows
    from bastion.geo.models import Household, Node, Resident
    from bastion.testing.results import services as result_services
    from bastion.testing.results.services import ResultRow
    from bastion.testing.rounds import services as round_services
    from bastion.testing.rounds.services import ANCESTORS
    from bastion.testing.scans.models import Result, Scan, Tube

    ops = connection.ops
    progress.phase("Planning the tree", 1)
    nodes, units, district_id, grid_id = _tree(residents)
    progress.advance()
    date = ops.adapt_datefield_value
    stamp = ops.adapt_datetimefield_value
    with transaction.atomic():
        _skip_foreign_key_checks()
        progress.phase("Tree", len(nodes))
        copy_rows(
            Node,
            ["id", "path", "depth", "numchild", "name", "level", "code", "floors", *ANCESTORS],
            nodes,
            progress,
        )
        households = sum(1 for _ in _homes(units, residents))
        progress.phase("Households", households)
        copy_rows(
            Household,
            ["id", "room", "floor", *ANCESTORS],
            ((pk, room, floor, *anc) for pk, anc, floor, room, _n in _homes(units, residents)),
            progress,
        )
        progress.phase("Residents", residents)
        relations = ("head", "spouse", "child")
        copy_rows(
            Resident,
            [
                "id",
                "household_id",
                "name",
                "id_number",
                "birth_date",
                "sex",
                "phone",
                "relation",
                "presence",
                "immobile",
                *ANCESTORS,
            ],
            (
                (
                    pk,
                    household,
                    name,
                    number,
                    date(birth),
                    sex,
                    f"13{pk:09d}",
                    relations[min(member, 2)],
                    presence,
                    immobile,
                    *anc,
                )
                for pk, household, anc, member, name, number, birth, sex, presence, immobile in (
                    _residents(units, residents)
                )
            ),
            progress,
        )
        with connection.cursor() as cursor:
            for sql in ops.sequence_reset_sql(no_style(), [Node, Household, Resident]):
                cursor.execute(sql)

        progress.phase("Round, site and stations", 1)
        now = timezone.now()
        user = User.objects.create_user("bench", email="bench@bench.invalid")
        district = Node.objects.get(pk=district_id)
        role_assign(user=user, role="district_commander", node=district)
        round_ = round_services.round_open(
            actor=user,
            node=district,
            name="基准轮",
            starts_at=now - dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(days=1),
            pool_size=POOL,
        )
        street = Node.objects.filter(district_id=district_id, level="street").first()
        site = round_services.site_create(
            actor=user,
            node=street,
            name="基准采样点",
            address="基准广场",
            opens_at=dt.time(6),
            closes_at=dt.time(22),
        )
        stations = []
        for n in range(CLIENTS + 1):
            station = round_services.station_add(actor=user, site=site, name=f"{n}号台")
            round_services.station_open(
                actor=user, station=station, round=round_, at=now - dt.timedelta(minutes=90)
            )
            stations.append(station)
        progress.advance()

        # Earlier scans: SAMPLED_SHARE in 10 present residents, in full tubes at station 0.
        intake = stations[0]
        located = tuple(getattr(intake, c) for c in ANCESTORS)
        sampled = [
            (pk, anc)
            for pk, _h, anc, _m, _n, _no, _b, _s, presence, _i in _residents(units, residents)
            if presence == "home" and pk % 10 < SAMPLED_SHARE
        ]
        tubes = -(-len(sampled) // POOL)
        progress.phase("Earlier tubes and scans", tubes + len(sampled))
        first_tube = (Tube.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        at = now - dt.timedelta(minutes=80)

        def tube_rows():
            for t in range(tubes):
                filled = min(POOL, len(sampled) - t * POOL)
                negative = t % 2 == 0
                yield (
                    first_tube + t,
                    round_.pk,
                    intake.pk,
                    f"P{t:08d}",
                    "pool",
                    POOL,
                    filled,
                    "closed",
                    stamp(at),
                    stamp(at),
                    Result.NEGATIVE if negative else "",
                    stamp(now) if negative else None,
                    *located,
                )

        copy_rows(
            Tube,
            [
                "id",
                "round_id",
                "station_id",
                "barcode",
                "kind",
                "capacity",
                "filled",
                "status",
                "opened_at",
                "closed_at",
                "result",
                "resulted_at",
                *ANCESTORS,
            ],
            tube_rows(),
            progress,
        )
        uuid_value = Scan._meta.get_field("client_id").get_db_prep_value
        copy_rows(
            Scan,
            [
                "client_id",
                "round_id",
                "tube_id",
                "station_id",
                "kind",
                "resident_id",
                "retest",
                "at",
                "recorded_at",
                "result",
                *ANCESTORS,
            ],
            (
                (
                    uuid_value(uuid.UUID(int=(1 << 120) + n), connection),
                    round_.pk,
                    first_tube + n // POOL,
                    intake.pk,
                    "resident",
                    pk,
                    False,
                    stamp(at),
                    stamp(at),
                    Result.NEGATIVE if (n // POOL) % 2 == 0 else "",
                    *_full(anc),
                )
                for n, (pk, anc) in enumerate(sampled)
            ),
            progress,
        )
        with connection.cursor() as cursor:
            for sql in ops.sequence_reset_sql(no_style(), [Tube]):
                cursor.execute(sql)
        positive = first_tube + 1  # an odd tube: full and not resulted yet
        result_services.results_import(
            actor=user,
            round=round_,
            rows=[ResultRow(None, f"P{1:08d}", "positive")],
            filename="bench.csv",
        )
    if connection.vendor == "postgresql":
        progress.phase("ANALYZE", 1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        progress.advance()
    expected = sum(1 for i in range(residents) if _presence(i) == "home")
    return District(
        district_id=district_id,
        grid_id=grid_id,
        round_id=round_.pk,
        stations=[s.pk for s in stations[1:]],
        positive_tube_id=positive,
        residents=residents,
        expected=expected,
    )


def district_find(residents: int) -> District | None:
    """The district a kept scratch database already holds, if it has `residents`."""
    from django.db import connection

    from bastion.geo.models import Node, Presence, Resident
    from bastion.testing.rounds.models import Round, Station
    from bastion.testing.scans.models import Result, Tube

    if Node._meta.db_table not in connection.introspection.table_names():
        return None  # an empty database: nothing kept in it yet
    district = Node.objects.filter(level="district", code=DISTRICT_CODE).first()
    if district is None:
        return None
    count = Resident.objects.filter(district_id=district.pk).count()
    if count != residents:
        return None
    round_ = Round.objects.filter(node=district).order_by("pk").first()
    stations = list(
        Station.objects.filter(district_id=district.pk).order_by("pk").values_list("pk", flat=True)
    )
    grid = Node.objects.filter(district_id=district.pk, level="grid").order_by("pk").first()
    tube = Tube.objects.filter(round=round_, result=Result.POSITIVE).order_by("pk").first()
    expected = Resident.objects.filter(district_id=district.pk, presence=Presence.HOME).count()
    return District(
        district_id=district.pk,
        grid_id=grid.pk,
        round_id=round_.pk,
        stations=stations[1:],
        positive_tube_id=tube.pk,
        residents=count,
        expected=expected,
    )


def finder_paths(district: District) -> list[str]:
    """The public site finder's page of every community of the district, as residents open it."""
    from bastion.geo.models import Node

    ids = Node.objects.filter(district_id=district.district_id, level="community").values_list(
        "pk", flat=True
    )
    return [f"/find/{pk}/" for pk in ids.order_by("pk")]


def unsampled_codes(district: District) -> list[str]:
    """ID numbers of the present residents not yet sampled in the round, in id order."""
    from bastion.geo.models import Presence, Resident
    from bastion.testing.rounds.coverage import sampled_in
    from bastion.testing.rounds.models import Round

    round_ = Round.objects.get(pk=district.round_id)
    return list(
        Resident.objects.filter(district_id=district.district_id, presence=Presence.HOME)
        .exclude(sampled_in(round_))
        .order_by("pk")
        .values_list("id_number", flat=True)
    )


def token_for_bench() -> str:
    from django.contrib.auth.models import User

    from bastion.accounts.services import token_issue

    return token_issue(user=User.objects.get(username="bench"), label="bench")
