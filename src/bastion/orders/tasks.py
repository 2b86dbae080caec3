"""The escalation notice's periodic run (django-tasks, on the worker `bastion serve` starts).

Escalation itself needs no worker: the board and the call list read it from the clock, so a
worker that is down loses none. What the worker adds is the notice to the chief above even
when nobody opens the board: `orders_escalate_task` sends every notice due (each once,
`services.orders_escalate_due`) and, enqueued with `reschedule=True`, queues its own next
run a minute later, so one `orders_schedule()` keeps the cycle going (as the daily report's
tick does)."""

import datetime as dt

from django.utils import timezone
from django_tasks import task

from bastion.orders import services

EVERY = dt.timedelta(minutes=1)


@task()
def orders_escalate_task(reschedule: bool = False) -> int:
    now = timezone.now()
    sent = services.orders_escalate_due(now=now)
    if reschedule:
        orders_schedule(now=now)
    return sent


def _pending() -> bool:
    """Whether a run already waits in the database queue."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(orders_escalate_task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=orders_escalate_task.module_path, status="READY"
    ).exists()


def orders_schedule(*, now: dt.datetime | None = None) -> bool:
    """Queue the next run unless one waits already; False when the task backend cannot run
    work later (the immediate backend of tests)."""
    backend = orders_escalate_task.get_backend()
    if not backend.supports_defer or _pending():
        return False
    now = now or timezone.now()
    orders_escalate_task.using(run_after=now + EVERY).enqueue(reschedule=True)
    return True
