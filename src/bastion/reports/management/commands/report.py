"""`bastion report compute|freeze|tick|schedule [--day YYYY-MM-DD] [--node ID]`."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bastion.core.errors import DomainError
from bastion.geo.models import Node
from bastion.reports import services, tasks


class Command(BaseCommand):
    help = (
        "Daily report: compute a day's figures (live), freeze a day (final), tick (freeze what "
        "is due, refresh today), or schedule the periodic tick on the task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["compute", "freeze", "tick", "schedule"])
        parser.add_argument(
            "--day", type=dt.date.fromisoformat, help="the day (YYYY-MM-DD); today when left out"
        )
        parser.add_argument(
            "--node", type=int, help="compute only the grids under this node (compute only)"
        )

    def handle(self, *args, action, day, node, **options):
        if action == "schedule":
            queued = tasks.report_schedule()
            self.stdout.write(
                "tick scheduled"
                if queued
                else "tick already scheduled (or the task backend cannot run work later)"
            )
            return
        day = day or services.local_today()
        scope = None
        if node is not None:
            if action != "compute":
                raise CommandError("--node only narrows `compute`; a freeze is for all grids.")
            scope = Node.objects.filter(pk=node).first()
            if scope is None:
                raise CommandError(f"No node {node}.")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=options["verbosity"] == 0,
        ) as bar:
            job = bar.add_task(f"{action} {day} grids", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(job, completed=done, total=total)

            try:
                if action == "compute":
                    result = services.report_compute(day=day, node=scope, progress=progress)
                elif action == "freeze":
                    result = services.report_freeze(day=day, progress=progress)
                else:
                    outcome = services.report_tick(progress=progress)
            except DomainError as e:
                raise CommandError(str(e)) from e
        if action == "tick":
            self.stdout.write(
                f"frozen: {', '.join(outcome['frozen']) or 'none'}; "
                f"today {outcome['today']}: {outcome['grids']} grids"
            )
        elif result.frozen and result.grids == 0:
            self.stdout.write(f"{day} is frozen; nothing changed.")
        else:
            state = "frozen" if result.frozen else "live"
            self.stdout.write(f"{day}: {result.grids} grids, {result.rows} figures ({state}).")
