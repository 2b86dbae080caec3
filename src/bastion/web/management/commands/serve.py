"""`bastion serve`: the web app (waitress, a production WSGI server) plus the task worker.

One Python process serves one core at a time (the GIL). With `--processes N` the listening
socket is opened once and N forked waitress processes accept on it, so a PostgreSQL
deployment uses every core behind one address; the processes share nothing but the database.

Every process it starts comes back or goes away with it:
- the task worker (`db_worker`) is watched and started again when it ends (it exits when the
  database goes away), after 1, 2, 4 ... up to 30 s; before each start the imports it left
  running are queued again and the daily report's tick is scheduled, so imports, exports,
  report refreshes and the 20:00 freeze carry on after a database outage;
- the forked web processes and the worker die with the parent (Linux's parent-death signal),
  so a parent killed outright (SIGKILL, the OOM killer) leaves nothing on the port.
"""

import ctypes
import functools
import gc
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger(__name__)

# Idle keep-alive connections (a thousand phones on one site) must never starve new ones:
# each process holds this many connections (polled, not select()ed: no 1,024 ceiling), an idle
# one is closed after CHANNEL_TIMEOUT, and the kernel queues BACKLOG more at the door.
CONNECTION_LIMIT = 4000
CHANNEL_TIMEOUT = 30  # seconds an idle connection is kept (waitress's default: 120)
CLEANUP_INTERVAL = 5  # how often idle connections are looked for (default: 30)
BACKLOG = 4096

WORKER_BACKOFF_MAX = 30.0  # seconds between restarts of a worker that keeps ending
WORKER_HEALTHY_AFTER = 60.0  # a worker that ran this long starts again at once


class Command(BaseCommand):
    help = "Serve Bastion on HOST:PORT with a background task worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8, help="threads per process")
        parser.add_argument(
            "--processes",
            type=int,
            default=1,
            help="web processes sharing the port (more than 1 for PostgreSQL on several cores)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the task worker (run `bastion db_worker` yourself)",
        )

    def handle(self, *args, host, port, threads, processes, no_worker, **options):
        from bastion.wsgi import application

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", verbosity=0)
        _open_files_raised()
        listener = socket.create_server((host, port), backlog=BACKLOG)
        connections.close_all()  # each forked process opens its own
        # What is loaded by now lives as long as the process: keep it out of the collector's
        # sweeps (and, forked, shared between the processes instead of copied on first touch).
        gc.freeze()
        children = [
            _fork(lambda: _serve(application, listener, threads)) for _ in range(processes - 1)
        ]
        worker = None
        if not no_worker:
            # Started after the forks: its thread is the parent's alone.
            worker = WorkerSupervisor(self.stdout.write)
            worker.start()
        self.stdout.write(f"Bastion at http://{host}:{port}/  (Ctrl+C to stop)")
        # Stopped by a signal (a service manager, the bench), the parent still runs the
        # `finally` below; Python's default would end it at once and leave the forked
        # processes serving on the socket.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            _serve(application, listener, threads)
        finally:
            for pid in children:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            if worker is not None:
                worker.stop()


class WorkerSupervisor:
    """The task worker in a process of its own, started again whenever it ends."""

    def __init__(self, say=print):
        self.say = say
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def _watch(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            self._prepare()
            started = time.monotonic()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bastion.cli", "db_worker"],
                preexec_fn=functools.partial(_die_with_parent, os.getpid()),
            )
            self.starts += 1
            while self.process.poll() is None:
                if self._stopping.wait(0.5):
                    return
            if time.monotonic() - started >= WORKER_HEALTHY_AFTER:
                delay = 1.0
            self.say(
                f"The task worker ended (exit {self.process.returncode}): "
                f"starting it again in {delay:g} s."
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, WORKER_BACKOFF_MAX)

    def _prepare(self) -> None:
        """Queue again the imports the last worker left running and schedule the report's
        tick; with the database still away, the new worker will end and come here again."""
        from bastion.ledgers.tasks import imports_requeue
        from bastion.orders.tasks import orders_schedule
        from bastion.reports.tasks import report_schedule

        try:
            report_schedule()  # the daily report's refresh and its freeze at the set hour
            orders_schedule()  # orders' escalation notices, each minute
            if requeued := imports_requeue():
                self.say(f"Imports queued again after a stopped worker: {requeued}")
        except Exception:  # the database is still away: the worker's own start will tell
            logger.warning("Could not requeue the worker's jobs yet", exc_info=True)
        finally:
            connections.close_all()


def _serve(application, listener: socket.socket, threads: int) -> None:
    from waitress import serve

    serve(
        application,
        sockets=[listener],
        threads=threads,
        ident="bastion",
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT,
        cleanup_interval=CLEANUP_INTERVAL,
        backlog=BACKLOG,
        asyncore_use_poll=True,
    )


def _open_files_raised() -> None:
    """Every connection is a file descriptor: take the hard limit (as many as the system lets
    this user) so a thousand phones do not run the process out of them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CONNECTION_LIMIT + 256 if hard == resource.RLIM_INFINITY else hard
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


_PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: children are stopped by the parent only
    _prctl = None


def _die_with_parent(parent: int, sig: int = signal.SIGTERM) -> None:
    """In a child: be sent `sig` when the parent dies, however it dies; if it died already
    (before this call), end now."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _fork(run) -> int:
    """Run `run` in a child process that ends with it; the parent gets the child's pid."""
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        # A web process has nothing to finish: what it was answering dies with the parent
        # anyway (its transactions roll back), and SIGKILL needs no Python handler to run.
        _die_with_parent(parent, signal.SIGKILL)
        try:
            run()
        finally:
            os._exit(0)
    return pid
