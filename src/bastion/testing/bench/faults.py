"""`bastion bench faults`: scanning goes on through faults and nothing acknowledged is lost.

On a throwaway PostgreSQL cluster with its default durability (made here from the machine's
server binaries, as scripts/with-postgres does, but with fsync and synchronous commit left
on), the bench builds a small district and starts `bastion serve` with its worker. Then:

* 8 scanning clients (one station each) send a batch of 10 every half second with client-made
  ids (faster than a station scans, slow enough to last the run); a batch that gets
  no answer, or any answer but 200, is sent again with the same ids until it is answered —
  what a station page does;
* a quarter into the run the web tier is SIGKILLed (the parent `serve`; its forked processes
  and its worker die with it) and the bench starts it again on the same port;
* halfway, PostgreSQL is stopped with `-m immediate` (a crash: no checkpoint) and started
  again a few seconds later;
* after the run an import is submitted and must finish (the worker came back);
* then, in SQL: every acknowledged scan is stored, no resident is counted twice in the round,
  no tube holds more than its capacity; and no answer was a 500.
* 1,000 idle keep-alive connections are opened at once against the server: every one must be
  answered within 10 s.

The run prints how long the web tier and the database took to recover (from the fault to
the first acknowledged scan after it)."""

import contextlib
import csv
import datetime as dt
import io
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bastion.testing.bench.district import POOL
from bastion.testing.bench.load import _Link
from bastion.testing.bench.scratch import BenchError

CLIENTS = 8
BATCH = 10
PACE = 0.5  # seconds between a client's batches: a busy station, not a flood
RESIDENTS = 20_000
SECONDS = 40.0  # at least: the faults need scanning before, between and after them
ENV_CLUSTER = "BASTION_BENCH_PG"  # set in the child run: the cluster's directory and binaries


# ----------------------------------------------------------------------- the throwaway cluster


@dataclass
class Cluster:
    directory: str
    port: int
    pgbin: str
    as_postgres: bool

    def _run(self, *args: str) -> None:
        command = [f"{self.pgbin}/pg_ctl", "-D", f"{self.directory}/data", *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self._run(
            "-l",
            f"{self.directory}/server.log",
            "-w",
            "start",
            "-o",
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200",
        )

    def stop_immediately(self) -> None:
        self._run("-m", "immediate", "-w", "stop")

    def url(self) -> str:
        return f"postgres://bastion@127.0.0.1:{self.port}/postgres"

    def encode(self) -> str:
        return json.dumps([self.directory, self.port, self.pgbin, self.as_postgres])

    @classmethod
    def decode(cls, value: str) -> "Cluster":
        return cls(*json.loads(value))


def cluster_make() -> Cluster:
    """initdb into a temporary directory, started on a free loopback port, durability as
    PostgreSQL ships it. As root the cluster runs as the `postgres` user."""
    from bastion.testing.bench.scratch import free_port

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise BenchError("No PostgreSQL server binaries (/usr/lib/postgresql/*/bin).")
    pgbin = str(found[-1].parent)
    directory = tempfile.mkdtemp(prefix="bastion-faults-pg.")
    as_postgres = os.getuid() == 0
    if as_postgres:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
        shutil.chown(directory, "postgres")
    cluster = Cluster(directory, free_port(), pgbin, as_postgres)
    initdb = [f"{pgbin}/initdb", "-D", f"{directory}/data", "-U", "bastion", "--auth=trust"]
    initdb += ["-E", "UTF8", "--locale=C.UTF-8"]
    if as_postgres:
        initdb = ["runuser", "-u", "postgres", "--", *initdb]
    subprocess.run(initdb, check=True, capture_output=True)
    cluster.start()
    return cluster


def cluster_drop(cluster: Cluster) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):
        cluster.stop_immediately()
    shutil.rmtree(cluster.directory, ignore_errors=True)


# ------------------------------------------------------------------------------ the clients
# Forked processes that touch no Django.


@dataclass
class FaultClientRun:
    acknowledged: list[str] = field(default_factory=list)  # client ids stored (200 answers)
    acked_at: list[float] = field(default_factory=list)  # wall clock of each answered batch
    statuses: dict = field(default_factory=dict)  # HTTP status (or "no answer") -> count
    resent: int = 0
    refused: dict = field(default_factory=dict)
    error: str = ""


def _fault_client(port, token, station_id, codes, tag, stop, results) -> None:
    """Scan `codes` at one station in batches until they run out or `stop` is set; a batch
    not answered 200 is sent again with the same client ids until it is."""
    run = FaultClientRun()
    statuses: Counter = Counter()
    refused: Counter = Counter()
    path = f"/api/v1/testing/stations/{station_id}/scans/batch"
    link = None
    tube, in_tube, position = 0, 0, 0
    next_batch = time.monotonic()
    try:
        while position < len(codes) and not stop.is_set():
            time.sleep(max(0.0, next_batch - time.monotonic()))
            next_batch += PACE
            items = []
            for code in codes[position : position + BATCH]:
                if in_tube == POOL:
                    tube, in_tube = tube + 1, 0
                items.append(
                    {"client_id": str(uuid.uuid4()), "tube": f"{tag}-{tube:06d}", "code": code}
                )
                in_tube += 1
            position += len(items)
            first = True
            while True:  # the same batch until the server answers it
                if not first:
                    run.resent += 1
                    time.sleep(0.2)
                first = False
                try:
                    link = link or _Link(port, path, token)
                    status, body = link.post_raw({"scans": items})
                except OSError:
                    statuses["no answer"] += 1
                    with contextlib.suppress(Exception):
                        link and link.sock.close()
                    link = None
                    continue
                statuses[status] += 1
                if status != 200:
                    if status >= 500:  # the server may have closed the connection
                        link.sock.close()
                        link = None
                    continue
                answer = json.loads(body)
                for item, result in zip(items, answer["results"], strict=True):
                    if result["status"] in ("accepted", "replayed"):
                        run.acknowledged.append(item["client_id"])
                    else:
                        refused[result["reason"] or result["status"]] += 1
                run.acked_at.append(time.time())
                break
    except Exception as e:  # reported to the bench, which fails loudly
        run.error = f"{type(e).__name__}: {e}"
    run.statuses = {str(k): v for k, v in statuses.items()}
    run.refused = dict(refused)
    results.put(run)


# ---------------------------------------------------------------------------------- the run


def faults_command(residents, seconds, err, progress) -> dict | None:
    """Run the fault bench on a throwaway cluster: from any database, the bench starts the
    cluster and runs itself again on it (the answer is then None: the child printed it).
    `progress()` makes the progress display of the district's build."""
    from django.db import connection

    cluster_env = os.environ.get(ENV_CLUSTER)
    if cluster_env and connection.vendor == "postgresql":
        return faults_run(Cluster.decode(cluster_env), residents, seconds, err, progress)
    err.print("Starting a throwaway PostgreSQL cluster (default durability)...")
    cluster = cluster_make()
    try:
        argv = [sys.executable, "-m", "bastion.cli", "bench", "faults"]
        if residents:
            argv += ["--residents", str(residents)]
        argv += ["--seconds", str(seconds)]
        env = {**os.environ, "DATABASE_URL": cluster.url(), ENV_CLUSTER: cluster.encode()}
        done = subprocess.run(argv, env=env)
        if done.returncode:
            raise BenchError(f"The fault run failed (exit {done.returncode}).")
    finally:
        cluster_drop(cluster)
    return None


def faults_run(cluster: Cluster, residents, seconds, err, progress_display) -> dict:
    from django.db import connection

    from bastion.testing.bench import district as bench_district
    from bastion.testing.bench import scratch as bench_scratch
    from bastion.testing.bench.idle import idle_connections

    residents = residents or RESIDENTS
    seconds = max(seconds, SECONDS)
    started = time.perf_counter()
    scratch = bench_scratch.scratch_open(name=None, fresh=True)
    with progress_display() as progress:
        progress.phase("Tables", 1)
        bench_scratch.schema_create()
        progress.advance()
        district = bench_district.district_build(residents=residents, progress=progress)
    token = bench_district.token_for_bench()
    codes = bench_district.unsampled_codes(district)
    stations = district.stations[:CLIENTS]
    needed = int(len(stations) * BATCH / PACE * seconds)
    if len(codes) < needed:
        err.print(
            f"[yellow]{len(codes):,} residents are left to sample and the run may scan "
            f"{needed:,}: the clients may run out before the faults (more --residents).[/yellow]"
        )
    connection.close()  # the clients are forked; the database will go away meanwhile

    server = bench_scratch.Server(scratch, threads=3, processes=3, worker=True)
    port = server.port
    events: dict[str, float] = {}
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    results = ctx.Queue()
    clients = []
    try:
        server.wait_ready()
        tag = f"F{int(time.time()) % 10**8:08d}"
        clients = [
            ctx.Process(
                target=_fault_client,
                args=(port, token, station, codes[i :: len(stations)], f"{tag}{i}", stop, results),
                daemon=True,
            )
            for i, station in enumerate(stations)
        ]
        for p in clients:
            p.start()
        run_started = time.time()
        err.print(f"8 clients scanning for {seconds:g} s; faults on the way...")

        _until(run_started + seconds * 0.25)
        events["web_killed"] = time.time()
        err.print("SIGKILL the web tier (serve and, with it, its processes and worker)...")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        server = _restarted(scratch, port, bench_scratch)

        _until(run_started + seconds * 0.5)
        err.print("PostgreSQL stopped with -m immediate, started again 3 s later...")
        events["db_stopped"] = time.time()
        cluster.stop_immediately()
        time.sleep(3)  # the outage
        cluster.start()
        events["db_started"] = time.time()

        _until(run_started + seconds)
        stop.set()
        runs = [results.get(timeout=120) for _ in clients]
        events["run_ended"] = time.time()
        for p in clients:
            p.join(timeout=30)
        errors = [r.error for r in runs if r.error]
        if errors:
            raise BenchError("A client failed: " + errors[0])

        err.print("An import submitted after the outage...")
        import_seconds, import_status = _import_after(district, timeout=180)

        err.print("1,000 idle connections at once...")
        idle = idle_connections(port, count=1000, wait=10)
    finally:
        stop.set()
        for p in clients:
            if p.is_alive():
                p.kill()
        server.stop()

    checks = _checks(district, runs)
    statuses: Counter = Counter()
    for r in runs:
        statuses.update(r.statuses)
    acked = sorted(t for r in runs for t in r.acked_at)

    def recovered(since: float) -> float | None:
        after = next((t for t in acked if t > since), None)
        return round(after - since, 2) if after else None

    figures = {
        "database": f"postgresql {_pg_version()} (default durability: fsync, synchronous_commit)",
        "residents": district.residents,
        "clients": len(stations),
        "batch": BATCH,
        "seconds": seconds,
        "acknowledged": sum(len(r.acknowledged) for r in runs),
        "batches_resent": sum(r.resent for r in runs),
        "statuses": dict(sorted(statuses.items())),
        "refused": dict(sum((Counter(r.refused) for r in runs), Counter())),
        **checks,
        "answers_500": statuses.get("500", 0),
        "web_recovered_s": recovered(events["web_killed"]),
        "db_recovered_s": recovered(events["db_started"]),
        "db_down_s": round(events["db_started"] - events["db_stopped"], 2),
        "import_after_outage": import_status,
        "import_seconds": import_seconds,
        "idle_opened": idle["opened"],
        "idle_answered": idle["answered"],
        "idle_hanging": idle["hanging"],
        "idle_last_answer_s": idle["last_answer_s"],
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    figures["passed"] = (
        figures["missing_acknowledged"] == 0
        and figures["residents_counted_twice"] == 0
        and figures["tubes_over_capacity"] == 0
        and figures["answers_500"] == 0
        and import_status == "done"
        and figures["idle_hanging"] == 0
        and figures["idle_opened"] == 1000
        # Scans went on after each fault (else the run did not test recovery).
        and figures["web_recovered_s"] is not None
        and figures["db_recovered_s"] is not None
    )
    bench_scratch.scratch_drop(scratch)
    return figures


def _until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def _restarted(scratch, port: int, bench_scratch):
    """`bastion serve` again on the same port, once the killed one has let it go."""
    deadline = time.monotonic() + 30
    while True:
        try:
            server = bench_scratch.Server(scratch, threads=3, processes=3, port=port, worker=True)
            server.wait_ready(timeout=60)
            return server
        except bench_scratch.BenchError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _import_after(district, *, timeout: float) -> tuple[float | None, str]:
    """Five new residents of the district's first unit through the import, queued for the
    worker; (seconds until it finished, its last status)."""
    from django.contrib.auth.models import User
    from django.db import connection

    from bastion.geo.identity import make_id_number
    from bastion.geo.models import Node
    from bastion.ledgers import tasks
    from bastion.ledgers.models import ImportJob

    connection.close()  # the one before the outage is gone
    unit = Node.objects.filter(district_id=district.district_id, level="unit").order_by("pk")[0]
    names = dict(
        Node.objects.filter(pk__in=[unit.community_id, unit.grid_id, unit.building_id]).values_list(
            "pk", "name"
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["姓名", "身份证号", "手机号", "与户主关系", "社区", "网格", "楼栋", "单元", "房号", "楼层"]
    )
    for i in range(5):
        writer.writerow(
            [
                f"故障后{i + 1}",
                make_id_number("110101", dt.date(1980, 1, 1) + dt.timedelta(days=i), 900 + i),
                f"139{i:08d}",
                "户主" if i == 0 else "其他",
                names[unit.community_id],
                names[unit.grid_id],
                names[unit.building_id],
                unit.name,
                "609",
                6,
            ]
        )
    street = Node.objects.get(pk=unit.street_id)
    job = tasks.import_submit(
        user=User.objects.get(username="bench"),
        node=street,
        filename="after-the-outage.csv",
        content=out.getvalue().encode(),
    )
    submitted = time.monotonic()
    while time.monotonic() - submitted < timeout:
        job = ImportJob.objects.get(pk=job.pk)
        if job.finished:
            return round(time.monotonic() - submitted, 1), job.status
        time.sleep(0.5)
    return None, job.status


def _checks(district, runs) -> dict:
    """What the database holds, in SQL."""
    from django.db import connection

    acknowledged = [uuid.UUID(c) for r in runs for c in r.acknowledged]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM unnest(%s::uuid[]) AS a(client_id) "
            "WHERE NOT EXISTS (SELECT 1 FROM testing_scan s WHERE s.client_id = a.client_id)",
            [acknowledged],
        )
        (missing,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM (SELECT resident_id FROM testing_scan WHERE round_id = %s "
            "AND kind = 'resident' AND NOT retest AND voided_at IS NULL "
            "GROUP BY resident_id HAVING count(*) > 1) twice",
            [district.round_id],
        )
        (twice,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM testing_tube t WHERE t.round_id = %s AND (t.filled > "
            "t.capacity OR (SELECT count(*) FROM testing_scan s WHERE s.tube_id = t.id AND "
            "s.voided_at IS NULL) > t.capacity)",
            [district.round_id],
        )
        (over,) = cursor.fetchone()
    return {
        "missing_acknowledged": missing,
        "residents_counted_twice": twice,
        "tubes_over_capacity": over,
    }


def _pg_version() -> str:
    from django.db import connection

    major, minor = divmod(connection.pg_version, 10000)
    return f"{major}.{minor}"


def faults_table(f: dict):
    from rich.table import Table

    table = Table(
        title=f"bastion bench faults — {f['database']}, {f['residents']:,} residents, "
        f"{f['clients']} clients × batches of {f['batch']}, {f['seconds']:g} s"
    )
    table.add_column("check", justify="left")
    table.add_column("figure", justify="right")
    table.add_column("wanted", justify="right")
    table.add_column("met", justify="right")

    def row(label, value, wanted, ok):
        table.add_row(label, value, wanted, "yes" if ok else "NO")

    row("scans acknowledged", f"{f['acknowledged']:,}", "", True)
    row(
        "acknowledged scans missing",
        str(f["missing_acknowledged"]),
        "0",
        f["missing_acknowledged"] == 0,
    )
    row(
        "residents counted twice",
        str(f["residents_counted_twice"]),
        "0",
        f["residents_counted_twice"] == 0,
    )
    row("tubes over capacity", str(f["tubes_over_capacity"]), "0", f["tubes_over_capacity"] == 0)
    row("answers 500", str(f["answers_500"]), "0", f["answers_500"] == 0)

    def after(value) -> str:
        if value is None:
            return "never (no scan left to send, or none went through)"
        return f"{value} s"

    row(
        "web killed: first scan acknowledged again after",
        after(f["web_recovered_s"]),
        "",
        f["web_recovered_s"] is not None,
    )
    row(
        "database stopped: down (stop, 3 s, start with crash recovery)",
        f"{f['db_down_s']} s",
        "",
        True,
    )
    row(
        "database up: first scan acknowledged again after",
        after(f["db_recovered_s"]),
        "",
        f["db_recovered_s"] is not None,
    )
    row(
        "import after the outage",
        f"{f['import_after_outage']} ({f['import_seconds']} s)",
        "done",
        f["import_after_outage"] == "done",
    )
    row(
        "1,000 idle connections: answered",
        f"{f['idle_answered']:,} / {f['idle_opened']:,}",
        "all, none hanging after 10 s",
        f["idle_hanging"] == 0 and f["idle_opened"] == 1000,
    )
    return table
