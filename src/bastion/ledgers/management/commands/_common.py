"""What the import and export commands share: finding the login and the node, the progress
bar on the terminal."""

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bastion.geo.models import Node
from bastion.ledgers.models import ImportPhase

PHASE_LABELS = {
    ImportPhase.READING: ImportPhase.READING.label,
    ImportPhase.CHECKING: ImportPhase.CHECKING.label,
    ImportPhase.WRITING: ImportPhase.WRITING.label,
}


def user_and_node(username: str, node_id: int, action: str):
    """The login, and the node it may do `action` on — the same scope rule as the web."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("No active login named %(u)s.") % {"u": username})
    node = Node.objects.restrict(user, action).filter(pk=node_id).first()
    if node is None:
        raise CommandError(
            _("Node %(n)s does not exist or %(u)s may not %(a)s it.")
            % {"n": node_id, "u": username, "a": action}
        )
    return user, node


@contextmanager
def progress_bar(stream):
    """Yields a callback (phase, done, total) that draws a rich progress bar on `stream`."""
    console = Console(file=stream, stderr=False)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(str(ImportPhase.READING.label), total=None)

        def report(phase: str, done: int, total: int) -> None:
            label = PHASE_LABELS.get(phase, phase)
            bar.update(task, description=str(label), completed=done, total=total or None)

        yield report
