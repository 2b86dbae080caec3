"""The real set-up: the upload queues a task in the database and `bastion db_worker` runs it."""

import io

import pytest
from django.core.management import call_command

from bastion.ledgers import services
from bastion.ledgers.models import ImportJob, ImportStatus
from bastion.ledgers.tests.ledger_files import good_rows, xlsx_bytes


@pytest.mark.django_db(transaction=True)
def test_database_queue_and_worker(tree, settings):
    """The worker closes its database connection between tasks, as a real process does; on
    PostgreSQL that needs a test outside the wrapping transaction."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = services.import_submit(
        user=tree.users["street"],
        node=tree.street,
        filename="a.xlsx",
        content=xlsx_bytes(good_rows(5)),
    )
    assert job.status == ImportStatus.QUEUED and job.task_id
    call_command(
        "db_worker", batch=True, startup_delay=False, stdout=io.StringIO(), stderr=io.StringIO()
    )
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.status, job.imported_rows) == (ImportStatus.DONE, 5)
    # a second run of the same task (a retry) changes nothing
    assert services.import_run(job_id=job.pk).imported_rows == 5
