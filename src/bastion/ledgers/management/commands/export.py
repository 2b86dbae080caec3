"""`bastion export residents|posts --node N --user U -o out.xlsx [--reveal]`: an .xlsx ledger
of a subtree, through the same scope rule and masking as the web, with a progress bar."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from bastion.core import scope
from bastion.ledgers import services
from bastion.ledgers.management.commands._common import progress_bar, user_and_node


class Command(BaseCommand):
    help = "Export the residents or the posts of a subtree to .xlsx."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["residents", "posts"])
        parser.add_argument("--node", type=int, required=True)
        parser.add_argument("--user", required=True, help="login the export is done as")
        parser.add_argument("-o", "--output", type=Path, required=True)
        parser.add_argument(
            "--reveal",
            action="store_true",
            help="full ID and phone numbers where the role allows (logged)",
        )
        parser.add_argument("--lang", default=None, help="language of headers (zh-hans, en)")

    def handle(self, *args, what, node, user, output: Path, reveal, lang, **options):
        with translation.override(lang or translation.get_language()):
            user, node = user_and_node(user, node, scope.VIEW)
            export = {"residents": services.residents_export, "posts": services.posts_export}[what]
            output = Path(output)
            partial = output.with_name(output.name + ".part")
            try:
                with partial.open("wb") as out, progress_bar(self.stdout._out) as report:
                    count = export(user=user, node=node, out=out, reveal=reveal, progress=report)
            except PermissionDenied as e:
                partial.unlink(missing_ok=True)
                raise CommandError(str(e)) from None
            except OSError as e:
                raise CommandError(str(e)) from None
            partial.replace(output)
            self.stdout.write(_("Wrote %(n)s rows to %(file)s.") % {"n": count, "file": output})
