"""Ledgers pages: upload an import and watch its job, download the template, export .xlsx.
Thin: the work is in services, the reads in queries, both scoped."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.sheets.columns import is_chinese
from bastion.core.sheets.responses import xlsx_response
from bastion.ledgers import queries, services, tasks
from bastion.ledgers.forms import ExportForm, ImportForm
from bastion.ledgers.responses import export_response

PROBLEMS_SHOWN = 1000  # more than this and the page offers the full list as .xlsx


def _extra_node(request, action: str):
    """The node a page was opened for (?node=ID), if the user may act on it."""
    node_id = request.GET.get("node")
    return queries.node_for(user=request.user, node_id=node_id, action=action) if node_id else None


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    extra = _extra_node(request, scope.CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user, extra=extra)
    if request.method == "POST" and form.is_valid():
        node = queries.node_for(
            user=request.user, node_id=form.cleaned_data["node"], action=scope.CHANGE
        )
        upload = form.cleaned_data["file"]
        try:
            job = tasks.import_submit(
                user=request.user,
                node=node,
                filename=upload.name,
                content=upload.read(),
                language=translation.get_language(),
                mode=form.cleaned_data["mode"],
            )
        except DomainError as e:
            form.add_error("file", str(e))
        else:
            return redirect("ledgers:job", job_id=job.pk)
    return render(
        request,
        "ledgers/import.html",
        {
            "form": form,
            "jobs": queries.import_jobs(user=request.user),
            "can_import": bool(form.fields["node"].choices),
        },
    )


def _job_context(job) -> dict:
    problems = services.job_problems(job) if job.errors else []
    changes = services.job_changes(job) if job.changes else []
    return {
        "job": job,
        "changes": changes[:PROBLEMS_SHOWN],
        "changes_cut": len(changes) > PROBLEMS_SHOWN,
        "problems": problems[:PROBLEMS_SHOWN],
        "problems_total": len(problems),
        "problems_cut": len(problems) > PROBLEMS_SHOWN,
        "node_path": queries.node_path(node=job.node),
    }


@login_required
@require_GET
def job_page(request, job_id: int):
    job = queries.import_job_for(user=request.user, job_id=job_id)
    return render(request, "ledgers/job.html", _job_context(job))


@login_required
@require_POST
def job_apply(request, job_id: int):
    """Apply a previewed update: all of it or nothing, in the background like an import."""
    job = queries.import_job_for(user=request.user, job_id=job_id)
    try:
        tasks.import_apply(user=request.user, job=job)
    except DomainError as e:
        messages.error(request, str(e))
    return redirect("ledgers:job", job_id=job.pk)


@login_required
@require_GET
def job_progress(request, job_id: int):
    """The fragment the job page polls every second until the job has finished."""
    job = queries.import_job_for(user=request.user, job_id=job_id)
    return render(request, "ledgers/_job_progress.html", _job_context(job))


@login_required
@require_GET
def job_problems_download(request, job_id: int):
    job = queries.import_job_for(user=request.user, job_id=job_id)
    if not job.errors:
        raise Http404
    content = services.import_errors_export(job=job)
    return xlsx_response(content, f"problems-{job.pk}.xlsx")


@login_required
@require_GET
def template_download(request):
    name = "居民导入模板.xlsx" if is_chinese() else "residents-template.xlsx"
    return xlsx_response(services.template_build(), name)


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request):
    """GET: the form and masked download links. POST: the download the form asks for (full
    numbers only by POST, never by a plain link)."""
    extra = _extra_node(request, scope.VIEW)
    form = ExportForm(request.POST or None, user=request.user, extra=extra)
    if request.method == "POST" and form.is_valid():
        node = queries.node_for(
            user=request.user, node_id=form.cleaned_data["node"], action=scope.VIEW
        )
        try:
            return export_response(
                user=request.user,
                node=node,
                dataset=form.cleaned_data["dataset"],
                reveal=form.cleaned_data.get("reveal", False),
            )
        except PermissionDenied as e:
            form.add_error(None, str(e))
    return render(
        request,
        "ledgers/export.html",
        {
            "form": form,
            "nodes": form.fields["node"].choices,
        },
    )


@login_required
@require_GET
def export_download(request, dataset: str):
    """A masked export by plain link: /ledgers/export/residents.xlsx?node=ID."""
    if dataset not in ("residents", "posts"):
        raise Http404
    node = queries.node_for(user=request.user, node_id=request.GET.get("node"), action=scope.VIEW)
    return export_response(user=request.user, node=node, dataset=dataset, reveal=False)
