"""`bastion bench testing` at a tiny size, as a user runs it: its own scratch database (SQLite,
or a database beside the test one on the PostgreSQL server of DATABASE_URL), a real server,
8 client processes. A smoke test of what it reports, never of how fast."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

import bastion

REQUIRED = (
    "scans_per_s_batched",
    "scans_per_s_single",
    "traceback_ms",
    "coverage_district_ms",
    "coverage_grid_ms",
    "insert_rows_per_s_single",
    "insert_rows_per_s_batched",
    "missing_export_ms",
    "finder_requests_per_s",
    "finder_p95_ms",
)


def _bench(tmp_path: Path, *options: str, module: str = "testing") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        database = f"bastion_bench_test_{os.getpid()}"
    else:
        env.pop("DATABASE_URL", None)
        database = str(tmp_path / "bench.sqlite3")
    # The user's var/ is never touched: the data directory points at the test's own.
    env["BASTION_DATA_DIR"] = str(tmp_path)
    # The bench runs the code under test (this checkout's src/), not whatever checkout the
    # environment's editable install points at.
    src = str(Path(bastion.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bastion.cli", "bench", module, "--residents", "3000"]
        + ["--seconds", "1", "--database", database, *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _figures(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def bench_run(tmp_path: Path) -> tuple[dict, str]:
    done = _bench(tmp_path)
    return _figures(done), done.stdout


def test_reuse_builds_a_district_when_none_is_kept_then_reuses_it(tmp_path):
    first = _bench(tmp_path, "--reuse", "--keep")  # nothing kept yet: an empty database
    assert "building one" in first.stderr and "Built 3,000 residents" in first.stderr
    again = _bench(tmp_path, "--reuse")  # and, without --keep, drops it at the end
    assert "Reusing the district of 3,000 residents" in again.stderr
    # The second run starts from what the first left: fewer people still to sample (at this
    # size the first run may have sampled all of them; the second still runs and reports).
    assert _figures(again)["sampled_before"] > _figures(first)["sampled_before"]
    assert _figures(again)["refused"] == 0


def test_bench_reports_every_figure_and_true_coverage(bench_run, tmp_path):
    figures, output = bench_run
    for key in REQUIRED:
        assert isinstance(figures[key], int | float) and figures[key] > 0, key
    assert figures["residents"] == 3000
    # What the bench builds, counted here from its recipe, not by the code under test: the
    # i-th of 3,000 residents (id i + 1) is away when i % 50 == 7 and moved out when
    # i % 100 == 13 (60 + 30, never the same one), so 2,910 are expected; those at home whose
    # id ends in 0–5 (6 in 10) were sampled before the run.
    home = [i + 1 for i in range(3000) if i % 50 != 7 and i % 100 != 13]
    sampled_before = sum(1 for pk in home if pk % 10 < 6)
    assert len(home) == 2910 and sampled_before == 1770
    assert figures["expected"] == figures["coverage_expected"] == len(home)
    assert figures["sampled_before"] == sampled_before
    # Coverage counts what was there plus every scan the clients saw accepted (their HTTP
    # answers), once.
    assert figures["refused"] == 0, figures["refused_reasons"]
    assert figures["finder_not_ok"] == 0  # every public finder page answered 200
    assert figures["accepted_single"] > 0 and figures["accepted_batched"] > 0
    sampled = sampled_before + figures["accepted_single"] + figures["accepted_batched"]
    assert figures["coverage_sampled"] == sampled
    assert figures["coverage_missing"] == figures["missing_exported"] == len(home) - sampled
    assert figures["traceback_people"] == 10  # the positive tube: a full 10-in-1 pool
    assert figures["coverage_grid_expected"] > 0
    assert "HTTP scans/s, single" in output
    # The server's shape is part of the figures (on PostgreSQL threads enough for the clients
    # over its processes, on SQLite one 8-thread process).
    shape = (figures["server_processes"], figures["server_threads"])
    assert f"server {shape[0]}×{shape[1]}" in output
    if figures["database"].startswith("postgresql"):
        assert shape[1] == -(-figures["clients"] // shape[0])  # ceil: one handler per client
    else:
        assert shape == (1, 8)
    # The scratch database is gone and nothing was written to the data directory.
    assert not (tmp_path / "bench.sqlite3").exists()
    assert not (tmp_path / "bastion.sqlite3").exists()


def test_bench_commanders_reports_each_page_of_logged_in_commanders(tmp_path):
    """`bastion bench commanders`: every commander's request answered 200 (logged in, not
    sent to the login page), both pages measured."""
    done = _bench(tmp_path, "--commanders", "3", module="commanders")
    figures = _figures(done)
    assert figures["commanders"] == 3 and figures["requests"] > 0
    assert figures["statuses"] == {"200": figures["requests"]}, figures
    assert figures["dashboard_requests"] > 0 and figures["coverage_requests"] > 0
    assert figures["p95_ms"] >= figures["p50_ms"] > 0
    assert "street dashboard" in done.stdout and "round coverage" in done.stdout
