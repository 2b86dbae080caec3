"""Background tasks of the ledgers: the work itself lives in services."""

from django_tasks import task

from bastion.ledgers import services


@task()
def import_run_task(job_id: int) -> dict:
    """Run one queued import job (queued by `services.import_submit`)."""
    job = services.import_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "imported": job.imported_rows}
