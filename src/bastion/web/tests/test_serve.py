"""`bastion serve`: the forked servers share one socket and stop with the parent, even one
killed outright; the task worker comes back when it dies; idle connections never starve new
ones. Each test runs a real server on a SQLite of its own, a copy of the test database's
empty tables. The processes do not depend on the database: on a PostgreSQL run these are
skipped (a server would migrate a fresh SQLite first, minutes on a busy machine)."""

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

import bastion
from bastion.testing.bench.idle import idle_connections
from bastion.testing.bench.scratch import free_port

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="process behaviour, run on SQLite"),
    pytest.mark.django_db,  # so the session sets up the test database the servers copy
]
SOURCE = str(Path(bastion.__file__).resolve().parents[1])
STATIC = "/static/web/bastion.css"  # a cheap answer: the connections are measured, not a page


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent to read its end)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() + (
            " " + Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        )
    except OSError:
        return "gone"


def _workers(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        try:
            if b"db_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            continue
    return found


def _answers(port: int, path: str = "/login/") -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False


def _until(check, seconds: float, what):
    """What `check` answers once it is truthy; fails saying `what` (or what it answers)."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.1)
    return found


class Served:
    def __init__(self, directory: Path, template: Path, *args: str):
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # own SQLite
        self.env["BASTION_DATA_DIR"] = str(directory)
        # This checkout's code, not whatever `bastion` the virtualenv has installed.
        self.env["PYTHONPATH"] = os.pathsep.join([SOURCE, self.env.get("PYTHONPATH", "")])
        self.database = directory / "bastion.sqlite3"
        self.database.write_bytes(template.read_bytes())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bastion.cli", "serve", "--port", str(self.port), *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 300
        while not _answers(self.port):
            assert self.process.poll() is None, "the server stopped on its own"
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def migrated(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """The test database's tables, empty, in a SQLite file: a server started on a copy
    needs no migration."""
    path = tmp_path_factory.mktemp("serve") / "migrated.sqlite3"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    return path


@pytest.fixture
def served(tmp_path, migrated):
    made = []

    def serve(*args: str) -> Served:
        server = Served(tmp_path, migrated, *args)
        made.append(server)
        server.wait_ready()
        return server

    yield serve
    for server in made:
        server.close()


def test_stopping_the_server_stops_its_forked_processes(served):
    server = served("--processes", "3", "--no-worker")
    forked = _children(server.process.pid)
    assert len(forked) == 2  # three processes: the parent and two forks

    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=30)

    assert not any(Path(f"/proc/{pid}").exists() for pid in forked)
    assert not _answers(server.port)


def test_a_parent_killed_outright_takes_its_processes_and_frees_the_port(served):
    server = served("--processes", "2")
    children = _until(
        lambda: (c := _children(server.process.pid)) and len(c) == 2 and c, 30, "no worker"
    )

    server.process.kill()  # SIGKILL: no `finally`, no handler
    server.process.wait()

    _until(
        lambda: not any(_alive(pid) for pid in children),
        10,
        lambda: f"children outlived the parent: {[_state(pid) for pid in children]}",
    )
    assert not _answers(server.port)
    again = socket.create_server(("127.0.0.1", server.port))  # a restart finds the port free
    again.close()


def _import_submitted(server: Served) -> int:
    """A tree with logins, and an import of five residents queued for the worker (the job's
    id), made by a separate process on the server's database."""
    script = (
        "import django; django.setup()\n"
        "from bastion.accounts.testing import build_small_tree\n"
        "from bastion.ledgers import tasks\n"
        "from bastion.ledgers.tests.ledger_files import csv_bytes, good_rows\n"
        "tree = build_small_tree()\n"
        "job = tasks.import_submit(user=tree.users['street'], node=tree.street,\n"
        "    filename='a.csv', content=csv_bytes(good_rows(5)))\n"
        "print(job.pk)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**server.env, "DJANGO_SETTINGS_MODULE": "bastion.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.split()[-1])


def _import_status(server: Served, job: int) -> str:
    with sqlite3.connect(server.database, timeout=20) as db:
        (status,) = db.execute(
            "SELECT status FROM ledgers_importjob WHERE id = ?", [job]
        ).fetchone()
    return status


def test_the_worker_comes_back_after_it_dies_and_runs_an_import_queued_afterwards(served):
    """The worker ends when its database connection dies (django-tasks' db_worker raises on
    it); killed here outright, as the OOM killer or a crash would."""
    server = served()
    first = _until(lambda: _workers(server.process.pid), 30, "no worker started")[0]

    os.kill(first, signal.SIGKILL)

    second = _until(
        lambda: [w for w in _workers(server.process.pid) if w != first],
        30,
        lambda: f"no new worker: {[_state(p) for p in _children(server.process.pid)]}",
    )[0]
    assert _alive(second)
    job = _import_submitted(server)
    _until(lambda: _import_status(server, job) == "done", 60, "the import was not run")


def test_a_thousand_idle_connections_do_not_starve_a_new_one(served):
    """A thousand phones connected and idle: a new visitor is answered at once, and every one
    of the thousand is answered when it asks (none left hanging after 10 s)."""
    server = served("--no-worker")

    def new_visitor() -> float | None:
        started = time.monotonic()
        return time.monotonic() - started if _answers(server.port, STATIC) else None

    result = idle_connections(server.port, count=1000, wait=10, while_idle=new_visitor)
    assert result["while_idle"] is not None, "a new connection was not answered"
    assert result["while_idle"] < 5
    assert result["opened"] == 1000 and result["hanging"] == 0, result
