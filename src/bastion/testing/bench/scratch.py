"""The bench's own scratch database and its `bastion serve` server, never the user's."""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why."""


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
    call_command("createcachetable", verbosity=0)  # the figures cache (web's migration)
    recorder = MigrationRecorder(connection)
    for app, name in MigrationLoader(connection, ignore_no_migrations=True).graph.nodes:
        recorder.record_applied(app, name)


# ------------------------------------------------------------------------------- the server


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`bastion serve` (waitress) on a free loopback port over the scratch database."""

    def __init__(
        self,
        scratch: Scratch,
        threads: int = 8,
        processes: int = 1,
        *,
        port: int | None = None,
        worker: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.log = scratch.directory / "server.log"
        env = {**os.environ, "DATABASE_URL": scratch.url, **(env or {})}
        with open(self.log, "ab") as log:
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
                    *([] if worker else ["--no-worker"]),
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
