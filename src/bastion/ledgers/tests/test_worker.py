"""The real set-up: the upload queues a task in the database and `bastion db_worker` runs it."""

import io

import pytest
from django.core.management import call_command

from bastion.geo.models import Resident
from bastion.ledgers import services, tasks
from bastion.ledgers.models import ImportJob, ImportStatus
from bastion.ledgers.tests.ledger_files import csv_bytes, good_rows, xlsx_bytes


@pytest.mark.django_db(transaction=True)
def test_database_queue_and_worker(tree, settings):
    """The worker closes its database connection between tasks, as a real process does; on
    PostgreSQL that needs a test outside the wrapping transaction."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rows = good_rows(5)
    job = tasks.import_submit(
        user=tree.users["street"],
        node=tree.street,
        filename="a.xlsx",
        content=xlsx_bytes(rows),
    )
    assert job.status == ImportStatus.QUEUED and job.task_id
    assert not Resident.objects.filter(name__startswith="导入").exists()
    call_command(
        "db_worker", batch=True, startup_delay=False, stdout=io.StringIO(), stderr=io.StringIO()
    )
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.status, job.imported_rows) == (ImportStatus.DONE, 5)
    # The residents are in the database, each with the cells of its own row and in its place.
    # name, ID number, mobile, then community, grid, building, unit and room
    expected = {(*row[:3], *row[4:9]) for row in rows}

    def imported():
        return set(
            Resident.objects.filter(name__startswith="导入").values_list(
                "name",
                "id_number",
                "phone",
                "community__name",
                "grid__name",
                "building__name",
                "unit__name",
                "household__room",
            )
        )

    assert imported() == expected
    # a second run of the same task (a retry) changes nothing
    assert services.import_run(job_id=job.pk).imported_rows == 5
    assert imported() == expected
    assert Resident.objects.filter(name__startswith="导入").count() == 5


def test_a_job_left_running_by_a_dead_worker_is_queued_again_and_runs(tree, immediate_tasks):
    job = services.import_job_create(
        user=tree.users["street"],
        node=tree.street,
        filename="台账.csv",
        content=csv_bytes(good_rows(6)),
    )
    # What a worker killed mid-import leaves: the job claimed, nothing written.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, processed_rows=3)
    finished = services.import_job_create(
        user=tree.users["street"], node=tree.street, filename="b.csv", content=b"x"
    )
    ImportJob.objects.filter(pk=finished.pk).update(status=ImportStatus.DONE)
    before = Resident.objects.count()

    assert tasks.imports_requeue() == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.imported_rows == 6
    assert Resident.objects.count() == before + 6
    assert tasks.imports_requeue() == []  # the finished job is left alone
