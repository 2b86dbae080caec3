"""`bastion demo`: build the demo street (once), print its logins, then serve."""

import json
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bastion.demo import builder, spec


class RichProgress:
    """One bar per phase of the build, on stderr so that --json keeps stdout clean."""

    def __init__(self, console: Console):
        self.bars = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = None

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def phase(self, description: str, total: int) -> None:
        self.task = self.bars.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self.bars.advance(self.task, n)


COUNT_LABELS = {
    "streets": gettext_lazy("Streets"),
    "communities": gettext_lazy("Communities"),
    "grids": gettext_lazy("Grids"),
    "zones": gettext_lazy("Command zones"),
    "independent_zones": gettext_lazy("Independent zones"),
    "joint_zones": gettext_lazy("Joint zones"),
    "buildings": gettext_lazy("Buildings"),
    "units": gettext_lazy("Units"),
    "households": gettext_lazy("Households"),
    "residents": gettext_lazy("Residents"),
    "street_chiefs": gettext_lazy("Street chiefs"),
    "lane_chiefs": gettext_lazy("Lane chiefs"),
    "grid_chiefs": gettext_lazy("Grid chiefs"),
    "building_chiefs": gettext_lazy("Building chiefs"),
    "unit_chiefs": gettext_lazy("Unit chiefs"),
    "vacant_buildings": gettext_lazy("Buildings without a chief"),
    "vacant_units": gettext_lazy("Units without a chief"),
    "zone_commanders": gettext_lazy("Zone commanders"),
    "deputy_commanders": gettext_lazy("Deputy zone commanders"),
    "cadres": gettext_lazy("Cadres living in the street"),
    "reserve": gettext_lazy("Reserve staff"),
}


class Command(BaseCommand):
    # Not lazy: argparse needs a str (this module is imported after Django's set-up).
    help = _(
        "Build the demo street 辽源市 › 东丰县 › 祥鹿街道 with its residents, chiefs, zones and "
        "logins (once: a second run finds it), print the logins, then serve."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help=_("build and print, then exit instead of serving"),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_("print the demo's counts as one JSON object on stdout"),
        )
        parser.add_argument(
            "--scale",
            type=int,
            help=_("build N such streets under the district (for load tests; default 1)"),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("delete the demo city and its logins first, then rebuild"),
        )

    def handle(self, *args, **options):
        scale, as_json = options["scale"], options["json"]
        if scale is not None and scale < 1:
            raise CommandError(_("--scale must be at least 1."))
        # Rich writes to the command's own streams, so call_command(stdout=...) captures it.
        err = Console(file=getattr(self.stderr, "_out", sys.stderr), highlight=False, markup=False)
        out = (
            err
            if as_json
            else Console(
                file=getattr(self.stdout, "_out", sys.stdout), highlight=False, markup=False
            )
        )
        self._migrate()
        city = builder.demo_city()
        if city is not None and options["reset"]:
            err.print(_("Deleting the demo city..."))
            builder.demo_wipe(city)
            city = None
        if city is None:
            started = time.perf_counter()
            try:
                with RichProgress(err) as progress:
                    city, _plan = builder.demo_build(scale=scale or 1, progress=progress)
            except builder.DemoError as e:
                raise CommandError(str(e)) from e
            err.print(
                _("Demo built in %(seconds).1f s.") % {"seconds": time.perf_counter() - started}
            )
        else:
            streets = len(builder.demo_streets(city))
            if scale is not None and streets != scale:
                raise CommandError(
                    _(
                        "The database holds a demo of %(have)d street(s), not %(want)d; run with "
                        "--reset to rebuild it."
                    )
                    % {"have": streets, "want": scale}
                )
            err.print(_("The demo is already built (use --reset to rebuild it)."))
        counts = builder.demo_counts(city)
        if as_json:
            self.stdout.write(json.dumps(counts))
        else:
            out.print(_counts_table(counts))
        out.print(_logins_table())
        if not options["no_serve"]:
            # With --json, stdout holds the JSON object only; serve talks on stderr.
            call_command("serve", **({"stdout": self.stderr} if as_json else {}))

    def _migrate(self) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)


def _counts_table(counts: dict[str, int]) -> Table:
    table = Table(title=_("Demo street"), show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    for key, value in counts.items():
        table.add_row(str(COUNT_LABELS.get(key, key)), f"{value:,}")
    return table


def _logins_table() -> Table:
    table = Table(title=_("Demo logins (password: %(password)s)") % {"password": spec.PASSWORD})
    for header in (_("Login"), _("Password"), _("Role"), _("Node"), _("Person")):
        table.add_column(header)
    for login in builder.demo_logins():
        table.add_row(login.username, spec.PASSWORD, login.role, login.node, login.person)
    return table
