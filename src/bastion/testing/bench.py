"""`bastion bench testing`: how fast mass testing runs on this machine, beside the limits of
the same machine measured in the same run.

It builds its own district in its own scratch database (PostgreSQL: a database `bastion_bench`
on the server of DATABASE_URL; SQLite: a file in a temporary directory), never the user's:

* the tree district › streets › communities › grids › buildings › units, households and
  residents (some away or moved out), written with COPY on PostgreSQL (`demo.builder`'s bulk
  path) with ids assigned here, so nothing is read back;
* a round over the district (pools of 10) with about 60 % of the present residents already
  sampled, in full tubes at an intake station, half of the tubes resulted negative and one
  positive through the results service (so its people are on the retest list);
* a site with 8 stations open for the round and a district commander's API token.

Then it measures:

* scans per second through HTTP: 8 client processes (keep-alive connections, one station
  each) against `bastion serve`'s waitress server on 127.0.0.1, single scans and batches;
* the plain insert rate of the database from Python: one row per commit, 50 per commit;
* traceback of the positive pool, coverage of the district and of one grid, and the export of
  the district's missing list (CSV), each beside a plain count over the same rows.

The last line printed is one JSON object with every figure.
"""

import contextlib
import csv
import datetime as dt
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CLIENTS = 8
BATCH = 50
POOL = 10
SAMPLED_SHARE = 6  # of 10 present residents are sampled before the HTTP run
# The shape of the built district: rooms per floor, floors, units per building, buildings per
# grid, grids per community, communities per street.
ROOMS, FLOORS, UNITS, BUILDINGS, GRIDS, COMMUNITIES = 2, 6, 2, 24, 6, 8
HOUSEHOLD_SIZES = (2, 3, 1, 2, 3, 2, 1, 2)  # cycled: two per household on average
TARGETS = {
    "scans_per_s_single": 500,
    "scans_per_s_batched": 3500,
    "traceback_ms": 50,
    "coverage_district_ms": 1000,
    "coverage_grid_ms": 50,
}
DISTRICT_NAME, DISTRICT_CODE = "基准区", "BENCH"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why."""


# ------------------------------------------------------------------------------ the clients
# These run in forked processes and touch no Django.


@dataclass
class ClientRun:
    accepted: int = 0
    refused: int = 0
    requests: int = 0
    warm: int = 0  # scans accepted before the clock started
    seconds: float = 0.0
    reasons: dict = field(default_factory=dict)
    error: str = ""


class _Link:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the answer by its
    Content-Length. The clients stand in for scanners on other devices; on this machine they
    share the server's two cores, so they cost as little as a socket allows (`http.client`
    parsed every answer's headers as e-mail and took a tenth of the CPU a scan needs)."""

    def __init__(self, port: int, path: str, token: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()
        self.buffer = b""

    def post(self, body: dict) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        self.sock.sendall(self.head + str(len(data)).encode() + b"\r\n\r\n" + data)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        while len(self.buffer) < length:
            self._receive()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, json.loads(answer or b"{}")

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("The server closed the connection.")
        self.buffer += chunk


def _client(
    port: int,
    token: str,
    station_id: int,
    codes: list[str],
    batch: int,
    seconds: float,
    tag: str,
    barrier,
    results,
) -> None:
    """Scan `codes` at one station, `batch` per request (1: the single-scan endpoint), over
    one keep-alive connection, until they run out or `seconds` pass."""
    run = ClientRun()
    reasons: Counter = Counter()
    path = f"/api/v1/testing/stations/{station_id}/scans" + ("" if batch == 1 else "/batch")
    link = _Link(port, path, token)
    tube, in_tube, position = 0, 0, 0

    def send() -> int:
        nonlocal tube, in_tube, position
        items = []
        for code in codes[position : position + batch]:
            if in_tube == POOL:
                tube, in_tube = tube + 1, 0
            barcode = f"{tag}-{tube:06d}"
            items.append({"client_id": str(uuid.uuid4()), "tube": barcode, "code": code})
            in_tube += 1
        position += len(items)
        status, answer = link.post(items[0] if batch == 1 else {"scans": items})
        run.requests += 1
        if batch == 1:
            if status == 201:
                if answer.get("tube_closed"):
                    tube, in_tube = tube + 1, 0
                return 1
            reasons[answer.get("scan", {}).get("reason") or f"http {status}"] += 1
            return 0
        if status != 200:
            reasons[f"http {status}"] += len(items)
            return 0
        for r in answer["results"]:
            if r["status"] != "accepted":
                reasons[r["reason"] or r["status"]] += 1
        return answer["accepted"]

    try:
        if codes:  # a kept district may have nobody left for this client to sample
            run.warm = send()  # the first request of a connection is not timed
        barrier.wait()
        started = time.perf_counter()
        deadline = started + seconds
        while position < len(codes) and time.perf_counter() < deadline:
            run.accepted += send()
        run.seconds = time.perf_counter() - started
    except Exception as e:  # reported to the bench, which fails loudly
        run.error = f"{type(e).__name__}: {e}"
        barrier.abort()
    run.refused = sum(reasons.values())
    run.reasons = dict(reasons)
    results.put(run)


def load_run(
    *,
    port: int,
    token: str,
    stations: list[int],
    codes: list[str],
    batch: int,
    seconds: float,
    tag: str,
) -> dict:
    """Scans per second of `len(stations)` client processes started together."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(stations) + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_client,
            args=(
                port,
                token,
                station,
                codes[i :: len(stations)],
                batch,
                seconds,
                f"{tag}{i}",
                barrier,
                results,
            ),
            daemon=True,
        )
        for i, station in enumerate(stations)
    ]
    for p in processes:
        p.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=300)  # broken when a client failed: its error is in its result
    runs: list[ClientRun] = [results.get(timeout=seconds + 300) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    errors = [r.error for r in runs if r.error]
    if errors:
        raise BenchError("A client failed: " + errors[0])
    elapsed = max(r.seconds for r in runs)
    accepted = sum(r.accepted for r in runs)
    reasons: Counter = Counter()
    for r in runs:
        reasons.update(r.reasons)
    return {
        "scans_per_s": accepted / elapsed if elapsed else 0.0,
        "accepted": accepted + sum(r.warm for r in runs),
        "refused": sum(r.refused for r in runs),
        "requests": sum(r.requests for r in runs),
        "seconds": elapsed,
        "reasons": dict(reasons),
    }


# ------------------------------------------------------------------------- scratch database


@dataclass
class Scratch:
    vendor: str
    name: str  # database name, or the SQLite file
    url: str  # DATABASE_URL for the server process
    directory: Path  # for the server's log and the export


def scratch_open(*, name: str | None, fresh: bool) -> Scratch:
    """Point Django's connection at the bench's own database (created empty when `fresh`)."""
    from django.db import connection

    settings_dict = connection.settings_dict
    directory = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    connection.close()
    if connection.vendor == "postgresql":
        name = name or "bastion_bench"
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            exists = cursor.fetchone() is not None
            if fresh and exists:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            if fresh or not exists:
                cursor.execute(f'CREATE DATABASE "{name}"')
        settings_dict["NAME"] = name
        auth = settings_dict["USER"] or ""
        if settings_dict["PASSWORD"]:
            auth += f":{settings_dict['PASSWORD']}"
        host = f"{settings_dict['HOST'] or 'localhost'}:{settings_dict['PORT'] or 5432}"
        url = f"postgres://{auth}{'@' if auth else ''}{host}/{name}"
    else:
        path = Path(name) if name else directory / "bench.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        settings_dict["NAME"] = str(path.resolve())
        name = settings_dict["NAME"]
        url = f"sqlite:///{name}"
    connection.close()
    return Scratch(connection.vendor, name, url, directory)


def scratch_drop(scratch: Scratch) -> None:
    from django.db import connection

    connection.close()
    if scratch.vendor == "postgresql":
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch.name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch.name}{suffix}").unlink(missing_ok=True)


def schema_create() -> None:
    """The tables straight from the models, and every migration recorded as applied: what
    `migrate` makes, in seconds instead of the minute its state rendering takes on a busy
    2-core machine. (The scratch database lacks only the allowance-month triggers of
    people.0003, which nothing here touches.)"""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    saved = settings.MIGRATION_MODULES
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    try:
        call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    finally:
        settings.MIGRATION_MODULES = saved
    recorder = MigrationRecorder(connection)
    for app, name in MigrationLoader(connection, ignore_no_migrations=True).graph.nodes:
        recorder.record_applied(app, name)


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
    from bastion.demo.builder import ANCESTORS, _insert
    from bastion.geo.models import Household, Node, Resident
    from bastion.testing import services
    from bastion.testing.models import Result, Scan, Tube
    from bastion.testing.services import ResultRow

    ops = connection.ops
    progress.phase("Planning the tree", 1)
    nodes, units, district_id, grid_id = _tree(residents)
    progress.advance()
    date = ops.adapt_datefield_value
    stamp = ops.adapt_datetimefield_value
    with transaction.atomic():
        _skip_foreign_key_checks()
        progress.phase("Tree", len(nodes))
        _insert(
            Node,
            ["id", "path", "depth", "numchild", "name", "level", "code", "floors", *ANCESTORS],
            nodes,
            progress,
        )
        households = sum(1 for _ in _homes(units, residents))
        progress.phase("Households", households)
        _insert(
            Household,
            ["id", "room", "floor", *ANCESTORS],
            ((pk, room, floor, *anc) for pk, anc, floor, room, _n in _homes(units, residents)),
            progress,
        )
        progress.phase("Residents", residents)
        relations = ("head", "spouse", "child")
        _insert(
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
        round_ = services.round_open(
            actor=user,
            node=district,
            name="基准轮",
            starts_at=now - dt.timedelta(hours=2),
            ends_at=now + dt.timedelta(days=1),
            pool_size=POOL,
        )
        street = Node.objects.filter(district_id=district_id, level="street").first()
        site = services.site_create(
            actor=user,
            node=street,
            name="基准采样点",
            address="基准广场",
            opens_at=dt.time(6),
            closes_at=dt.time(22),
        )
        stations = []
        for n in range(CLIENTS + 1):
            station = services.station_add(actor=user, site=site, name=f"{n}号台")
            services.station_open(
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

        _insert(
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
        _insert(
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
        services.results_import(
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
    from bastion.testing.models import Result, Round, Station, Tube

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
    from bastion.testing.models import Round
    from bastion.testing.queries import _sampled_in

    round_ = Round.objects.get(pk=district.round_id)
    return list(
        Resident.objects.filter(district_id=district.district_id, presence=Presence.HOME)
        .exclude(_sampled_in(round_))
        .order_by("pk")
        .values_list("id_number", flat=True)
    )


# ------------------------------------------------------------------------------- the server


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`bastion serve` (waitress) on a free loopback port over the scratch database."""

    def __init__(self, scratch: Scratch, threads: int = 8, processes: int = 1) -> None:
        self.port = free_port()
        self.log = scratch.directory / "server.log"
        env = {**os.environ, "DATABASE_URL": scratch.url}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bastion.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--threads",
                    str(threads),
                    "--processes",
                    str(processes),
                    "--no-worker",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"The server stopped: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError("The server did not answer in time.")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------------ the measurements


def timed_ms(fn: Callable[[], object], repeat: int = 5) -> tuple[float, object]:
    """The median time of `repeat` calls (after one untimed warm-up call), and its result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def insert_rates(seconds: float) -> tuple[float, float]:
    """Rows per second of a plain INSERT from Python into a narrow table with a unique
    column: one row per commit, and 50 rows (one statement) per commit."""
    from django.db import connection, transaction

    pg = connection.vendor == "postgresql"
    key = "bigserial PRIMARY KEY" if pg else "integer PRIMARY KEY AUTOINCREMENT"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_insert")
        cursor.execute(
            f"CREATE TABLE bench_insert (id {key}, client_id char(36) NOT NULL UNIQUE, "
            "n integer NOT NULL, at varchar(40) NOT NULL)"
        )
    one = "INSERT INTO bench_insert (client_id, n, at) VALUES (%s, %s, %s)"
    many = "INSERT INTO bench_insert (client_id, n, at) VALUES " + ", ".join(
        ["(%s, %s, %s)"] * BATCH
    )
    rates = []
    try:
        for per_commit in (1, BATCH):
            rows, started = 0, time.perf_counter()
            deadline = started + seconds
            with connection.cursor() as cursor:
                while time.perf_counter() < deadline:
                    now = dt.datetime.now().isoformat()
                    if per_commit == 1:
                        cursor.execute(one, [str(uuid.uuid4()), rows, now])  # autocommit
                    else:
                        params = [v for n in range(BATCH) for v in (str(uuid.uuid4()), n, now)]
                        with transaction.atomic():
                            cursor.execute(many, params)
                    rows += per_commit
            rates.append(rows / (time.perf_counter() - started))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_insert")
    return rates[0], rates[1]


def _plain_count(sql: str, params: list) -> Callable[[], object]:
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def reads_measure(district: District, directory: Path) -> dict:
    """Traceback, coverage of the district and of a grid, and the missing-list export, each
    with a plain read over the same rows as its floor."""
    from django.contrib.auth.models import User

    from bastion.geo.identity import mask_id_number, mask_mobile
    from bastion.geo.models import Node
    from bastion.testing import queries
    from bastion.testing.models import Round, Scan

    user = User.objects.get(username="bench")

    def fresh_user():  # the per-request caches start empty, as in a request
        return User.objects.get(pk=user.pk)

    round_ = Round.objects.select_related("node").get(pk=district.round_id)
    district_node = Node.objects.get(pk=district.district_id)
    grid = Node.objects.get(pk=district.grid_id)

    def traceback():
        u = fresh_user()
        return queries.traceback(u, queries.tube_for(u, district.positive_tube_id))

    traceback_ms, traced = timed_ms(traceback)
    coverage_district_ms, cov = timed_ms(
        lambda: queries.coverage(fresh_user(), round_, district_node), repeat=3
    )
    coverage_grid_ms, cov_grid = timed_ms(lambda: queries.coverage(fresh_user(), round_, grid))
    scan_table = Scan._meta.db_table
    raw_traceback_ms, _rows = timed_ms(
        _plain_count(f"SELECT * FROM {scan_table} WHERE tube_id = %s", [district.positive_tube_id])
    )
    raw_district_ms, _rows = timed_ms(
        _plain_count(
            "SELECT count(*) FROM geo_resident WHERE district_id = %s", [district.district_id]
        ),
        repeat=3,
    )
    raw_grid_ms, _rows = timed_ms(
        _plain_count("SELECT count(*) FROM geo_resident WHERE grid_id = %s", [district.grid_id])
    )

    path = directory / "missing.csv"
    started = time.perf_counter()
    rows = (
        queries.missing_residents(fresh_user(), round_, district_node)
        .values_list(
            "grid__name",
            "building__name",
            "unit__name",
            "household__room",
            "name",
            "id_number",
            "phone",
        )
        .iterator(chunk_size=5000)
    )
    exported = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["grid", "building", "unit", "room", "name", "id_number", "phone"])
        for *place, name, number, phone in rows:
            writer.writerow([*place, name, mask_id_number(number), mask_mobile(phone)])
            exported += 1
    missing_export_ms = (time.perf_counter() - started) * 1000
    path.unlink()
    return {
        "traceback_ms": traceback_ms,
        "traceback_people": traced.people,
        "traceback_raw_ms": raw_traceback_ms,
        "coverage_district_ms": coverage_district_ms,
        "coverage_district_raw_ms": raw_district_ms,
        "coverage_grid_ms": coverage_grid_ms,
        "coverage_grid_raw_ms": raw_grid_ms,
        "coverage_expected": cov.totals["expected"],
        "coverage_sampled": cov.totals["sampled"],
        "coverage_missing": cov.totals["missing"],
        "coverage_grid_expected": cov_grid.totals["expected"],
        "coverage_children": len(cov.children),
        "missing_export_ms": missing_export_ms,
        "missing_exported": exported,
    }


def token_for_bench() -> str:
    from django.contrib.auth.models import User

    from bastion.accounts.services import token_issue

    return token_issue(user=User.objects.get(username="bench"), label="bench")
