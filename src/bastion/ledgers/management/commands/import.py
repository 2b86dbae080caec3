"""`bastion import residents FILE --node NODE_ID --user USERNAME`: import a residents ledger
with a progress bar; on rejection print every problem and exit non-zero (nothing imported)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from bastion.core import scope
from bastion.ledgers import services
from bastion.ledgers.management.commands._common import progress_bar, user_and_node
from bastion.ledgers.models import ImportStatus


class Command(BaseCommand):
    help = "Import residents from an .xlsx or .csv ledger, all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["residents"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--node", type=int, required=True, help="id of the target node")
        parser.add_argument("--user", required=True, help="login the import is done as")
        parser.add_argument("--lang", default=None, help="language of messages (zh-hans, en)")

    def handle(self, *args, kind, file: Path, node: int, user: str, lang, **options):
        with translation.override(lang or translation.get_language()):
            self._import(Path(file), node, user)

    def _import(self, file: Path, node_id: int, username: str) -> None:
        user, node = user_and_node(username, node_id, scope.CHANGE)
        try:
            content = file.read_bytes()
        except OSError as e:
            raise CommandError(str(e)) from None
        job = services.import_job_create(user=user, node=node, filename=file.name, content=content)
        stream = self.stdout._out
        with progress_bar(stream) as report:
            job = services.import_run(job_id=job.pk, progress=report)
        console = Console(file=stream)
        if job.status == ImportStatus.DONE:
            console.print(
                _("Imported %(n)s residents into %(node)s; %(h)s new households (job %(job)s).")
                % {
                    "n": job.imported_rows,
                    "node": node.name,
                    "h": job.created_households,
                    "job": job.pk,
                }
            )
            return
        problems = services.job_problems(job)
        table = Table(_("Row"), _("Column"), _("Problem"), title=job.filename)
        for p in problems:
            table.add_row("" if p["row"] is None else str(p["row"]), p["column"], p["message"])
        console.print(table)
        raise CommandError(
            _("Nothing was imported: %(n)s problems (job %(job)s).")
            % {"n": len(problems), "job": job.pk}
        )
