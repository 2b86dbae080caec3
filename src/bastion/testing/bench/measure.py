"""The plain figures of the machine beside the bench: insert rates, and reads (traceback,
coverage, the missing list) each beside a plain count over the same rows."""

import csv
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bastion.testing.bench.district import District
from bastion.testing.bench.load import BATCH

TARGETS = {
    "scans_per_s_single": 500,
    "scans_per_s_batched": 3500,
    "traceback_ms": 50,
    "coverage_district_ms": 1000,
    "coverage_grid_ms": 50,
}


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
    from bastion.testing.results import queries as result_queries
    from bastion.testing.rounds import coverage as round_coverage
    from bastion.testing.rounds.models import Round
    from bastion.testing.scans import queries as scan_queries
    from bastion.testing.scans.models import Scan

    user = User.objects.get(username="bench")

    def fresh_user():  # the per-request caches start empty, as in a request
        return User.objects.get(pk=user.pk)

    round_ = Round.objects.select_related("node").get(pk=district.round_id)
    district_node = Node.objects.get(pk=district.district_id)
    grid = Node.objects.get(pk=district.grid_id)

    def traceback():
        u = fresh_user()
        return result_queries.traceback(u, scan_queries.tube_for(u, district.positive_tube_id))

    traceback_ms, traced = timed_ms(traceback)
    coverage_district_ms, cov = timed_ms(
        lambda: round_coverage.coverage(fresh_user(), round_, district_node), repeat=3
    )
    coverage_grid_ms, cov_grid = timed_ms(
        lambda: round_coverage.coverage(fresh_user(), round_, grid)
    )
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
        round_coverage.missing_residents(fresh_user(), round_, district_node)
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
