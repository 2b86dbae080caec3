"""`bastion serve`: the web app (waitress, a production WSGI server) plus the task worker.

One Python process serves one core at a time (the GIL). With `--processes N` the listening
socket is opened once and N forked waitress processes accept on it, so a PostgreSQL
deployment uses every core behind one address; the processes share nothing but the database.
"""

import gc
import os
import signal
import socket
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor


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
        worker = None
        if not no_worker:
            from bastion.ledgers.tasks import imports_requeue
            from bastion.reports.tasks import report_schedule

            report_schedule()  # the daily report's refresh and its freeze at the set hour
            if requeued := imports_requeue():
                self.stdout.write(f"Imports queued again after a stopped worker: {requeued}")
            # A separate process, so long imports never block a web thread.
            worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "db_worker"])
        listener = socket.create_server((host, port), backlog=1024)
        connections.close_all()  # each forked process opens its own
        # What is loaded by now lives as long as the process: keep it out of the collector's
        # sweeps (and, forked, shared between the processes instead of copied on first touch).
        gc.freeze()
        children = [
            _fork(lambda: _serve(application, listener, threads)) for _ in range(processes - 1)
        ]
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
                worker.terminate()
                worker.wait(timeout=10)


def _serve(application, listener: socket.socket, threads: int) -> None:
    from waitress import serve

    serve(application, sockets=[listener], threads=threads, ident="bastion")


def _fork(run) -> int:
    """Run `run` in a child process that ends with it; the parent gets the child's pid."""
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        try:
            run()
        finally:
            os._exit(0)
    return pid
