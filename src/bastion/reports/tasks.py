"""Background work of the daily report (django-tasks; the worker runs beside `bastion serve`).

`report_tick_task` freezes what is due and refreshes today's live report; enqueued with
`reschedule=True` it queues its own next run (every BASTION_REPORT_TICK_MINUTES, default 15,
and exactly at the freeze moment), so one `report_schedule()` keeps the cycle going.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from bastion.geo.models import Node
from bastion.reports import services
from bastion.reports.models import ReportDay


def tick_minutes() -> int:
    return int(getattr(settings, "BASTION_REPORT_TICK_MINUTES", 15))


@task()
def report_compute_task(day: str, node_id: int | None = None) -> dict:
    node = Node.objects.get(pk=node_id) if node_id else None
    result = services.report_compute(day=dt.date.fromisoformat(day), node=node)
    return {"day": day, "grids": result.grids, "rows": result.rows, "frozen": result.frozen}


@task()
def report_freeze_task(day: str) -> dict:
    result = services.report_freeze(day=dt.date.fromisoformat(day))
    return {"day": day, "grids": result.grids, "rows": result.rows}


@task()
def report_tick_task(reschedule: bool = False) -> dict:
    now = timezone.now()
    outcome = services.report_tick(now=now)
    if reschedule:
        report_schedule(now=now)
    return outcome


def report_recompute_enqueue(*, node: Node) -> str | None:
    """Queue a recomputation of today's figures for the grids under `node` (on demand): the
    queued task's id, for the page to follow; None when today is already frozen."""
    today = services.local_today()
    if ReportDay.objects.filter(day=today, frozen_at__isnull=False).exists():
        return None
    return str(report_compute_task.enqueue(today.isoformat(), node.pk).id)


def report_recompute_finished(*, node: Node, task_id: str) -> bool | None:
    """Whether the recomputation `task_id` of `node` has finished (True), is still queued or
    running (False), or failed (None). A task id that is not a recomputation of this node is
    answered as a missing one (LookupError)."""
    from django_tasks.exceptions import TaskException

    try:
        result = report_compute_task.get_result(task_id)
    except (TaskException, ValueError, TypeError, NotImplementedError):
        raise LookupError(task_id) from None
    if list(result.args[1:2]) != [node.pk]:
        raise LookupError(task_id)
    if result.status == "SUCCESSFUL":
        return True
    if result.status == "FAILED":
        return None
    return False


def next_tick(now: dt.datetime) -> dt.datetime:
    """The next tick: in tick_minutes, or at the freeze moment if that comes first."""
    freeze = services.freeze_moment(services.local_today(now))
    soon = now + dt.timedelta(minutes=tick_minutes())
    return freeze if now < freeze < soon else soon


def _tick_pending() -> bool:
    """Whether a tick waits in the database queue (a running tick does not count: it is the
    one scheduling its successor)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(report_tick_task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=report_tick_task.module_path, status="READY"
    ).exists()


def report_schedule(*, now: dt.datetime | None = None) -> bool:
    """Queue the next tick unless one is already waiting. False when the task backend cannot
    run work later (e.g. the immediate backend of tests)."""
    backend = report_tick_task.get_backend()
    if not backend.supports_defer or _tick_pending():
        return False
    now = now or timezone.now()
    report_tick_task.using(run_after=next_tick(now)).enqueue(reschedule=True)
    return True
