"""Background tasks of the ledgers, and queueing them: the work itself lives in services."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from bastion.geo.models import Node
from bastion.ledgers import services
from bastion.ledgers.models import ImportJob, ImportMode, ImportPhase, ImportStatus


@task()
def import_run_task(job_id: int) -> dict:
    """Run one queued import job (queued by `import_submit`)."""
    job = services.import_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "imported": job.imported_rows}


def import_submit(
    *,
    user: AbstractBaseUser,
    node: Node,
    filename: str,
    content: bytes,
    language: str | None = None,
    mode: str = ImportMode.CREATE,
) -> ImportJob:
    """Record the upload and queue the background task that imports it (the task gets the
    job's id). Returns the job, whose page shows the progress."""
    job = services.import_job_create(
        user=user, node=node, filename=filename, content=content, language=language, mode=mode
    )
    return _enqueue(job)


def import_apply(*, user: AbstractBaseUser, job: ImportJob) -> ImportJob:
    """Confirm a previewed update and queue the task that writes it."""
    return _enqueue(services.import_confirm(job=job, user=user))


def _enqueue(job: ImportJob) -> ImportJob:
    try:
        result = import_run_task.enqueue(job_id=job.pk)
    except Exception:
        services.job_update(
            job,
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            content=b"",
            errors=[
                {
                    "field": "file",
                    "message": _(
                        "The import could not be queued; nothing was imported. Try again."
                    ),
                }
            ],
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    job.refresh_from_db()
    return job


def imports_requeue() -> list[int]:
    """Jobs left "running" by a worker that died (killed, the machine restarted) go back to the
    queue with a new task: an import writes in one transaction, so nothing of them was kept.
    `bastion serve` calls this before it starts its worker, the only one; returns the job ids."""
    stale = list(ImportJob.objects.filter(status=ImportStatus.RUNNING).values_list("pk", flat=True))
    for pk in stale:
        ImportJob.objects.filter(pk=pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.QUEUED,
            phase=ImportPhase.WAITING,
            started_at=None,
            processed_rows=0,
            imported_rows=0,
        )
        result = import_run_task.enqueue(job_id=pk)
        ImportJob.objects.filter(pk=pk).update(task_id=str(result.id)[:64])
    return stale
