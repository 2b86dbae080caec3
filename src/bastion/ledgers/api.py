"""Ledgers API (/api/v1/ledgers/): upload an import, follow its job, get the template, export.
Thin: services do the work, queries the scoped reads. Refusals use the API's shared error
shapes (bastion.core.api_support): 422 with every problem, 403, 404."""

import datetime as dt
from typing import Literal

from django.utils import translation
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS
from bastion.core.sheets.responses import xlsx_response
from bastion.ledgers import queries, services, tasks
from bastion.ledgers.responses import export_response

router = Router(tags=["ledgers"])


class JobProblemOut(Schema):
    row: int | None = None
    field: str | None = None
    column: str
    message: str


class FieldChangeOut(Schema):
    field: str
    column: str
    old: str = Field(description="As shown to the importer: labels, numbers masked.")
    new: str


class PersonChangesOut(Schema):
    row: int
    resident_id: int
    name: str
    changes: list[FieldChangeOut]


class ImportJobOut(Schema):
    id: int
    status: str = Field(
        description="queued, running, preview (an update waiting for POST .../apply), done, "
        "rejected or failed."
    )
    mode: str
    phase: str
    node_id: int
    filename: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    total_rows: int
    processed_rows: int
    imported_rows: int
    created_households: int
    percent: int
    errors: list[JobProblemOut] = Field(description="Every bad row of a rejected file.")
    changes: list[PersonChangesOut] = Field(
        description="Update mode: what the file changes (preview) or changed (done), per person."
    )


def _job_out(job) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "mode": job.mode,
        "phase": job.phase,
        "node_id": job.node_id,
        "filename": job.filename,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "imported_rows": job.imported_rows,
        "created_households": job.created_households,
        "percent": job.percent,
        "errors": services.job_problems(job),
        "changes": services.job_changes(job),
    }


@router.post("/imports", response={202: ImportJobOut, **WRITE_ERRORS})
def import_create(
    request,
    node: Form[int],
    file: File[UploadedFile],
    mode: Form[Literal["create", "update"]] = "create",
):
    """Upload a residents ledger (.xlsx or .csv) to import into `node`, which you must be
    able to change. The file is checked and imported in the background: follow
    GET /imports/{id} until `status` is done, rejected or failed.

    `mode=update` matches each row to a registered resident by ID number and stops at
    `status` preview with `changes` (per person, field: old → new, numbers masked); nothing
    is written until POST /imports/{id}/apply."""
    target = queries.node_for(user=request.auth, node_id=node, action=scope.CHANGE)
    services.upload_size_check(size=file.size)
    job = tasks.import_submit(
        user=request.auth,
        node=target,
        filename=file.name or "upload",
        content=file.read(),
        language=translation.get_language(),
        mode=mode,
    )
    return Status(202, _job_out(job))


@router.post("/imports/{job_id}/apply", response={202: ImportJobOut, **WRITE_ERRORS})
def import_apply(request, job_id: int):
    """Apply a previewed update (status preview): checked again and written all or nothing
    in the background, each change in the person's history. If the residents changed since
    the preview the job is rejected and nothing is written. 409 unless in preview."""
    job = queries.import_job_for(user=request.auth, job_id=job_id)
    return Status(202, _job_out(tasks.import_apply(user=request.auth, job=job)))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **READ_ERRORS})
def import_status(request, job_id: int):
    """An import job: status, progress (rows checked, rows imported) and every problem."""
    return _job_out(queries.import_job_for(user=request.auth, job_id=job_id))


@router.get("/template", response={200: None})
def template(request):
    """The residents import template (.xlsx); headers in the request's language."""
    return xlsx_response(services.template_build(), "residents-template.xlsx")


@router.get("/exports/{dataset}", response={200: None, **WRITE_ERRORS})
def export(request, dataset: Literal["residents", "posts"], node: int, reveal: bool = False):
    """The residents or the current posts of `node`'s subtree as .xlsx. ID and phone numbers
    are masked unless `reveal=true` and your role may see them; each person shown in full is
    logged."""
    target = queries.node_for(user=request.auth, node_id=node, action=scope.VIEW)
    return export_response(user=request.auth, node=target, dataset=dataset, reveal=reveal)
