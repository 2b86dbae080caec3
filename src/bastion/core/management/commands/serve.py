"""`bastion serve`: the web app (waitress, a production WSGI server) plus the task worker."""

import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Serve Bastion on HOST:PORT with a background task worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start the task worker (run `bastion db_worker` yourself)",
        )

    def handle(self, *args, host, port, threads, no_worker, **options):
        from waitress import serve

        from bastion.wsgi import application

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", verbosity=0)
        worker = None
        if not no_worker:
            from bastion.reports.tasks import report_schedule

            report_schedule()  # the daily report's refresh and its freeze at the set hour
            # A separate process, so long imports never block a web thread.
            worker = subprocess.Popen([sys.executable, "-m", "bastion.cli", "db_worker"])
        self.stdout.write(f"Bastion at http://{host}:{port}/  (Ctrl+C to stop)")
        try:
            serve(application, host=host, port=port, threads=threads, ident="bastion")
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
