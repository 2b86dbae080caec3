"""The outbreak response's pages: the cases (waiting ones first) and a case entered by hand;
a case with its proposal, adjusted and confirmed; the bundle's board (tasks by state, owners,
deadlines, overdue in red), its areas with the lifting rule, and the disinfection form. Thin:
reads in `response.queries`, writes in `response.services`, rows through the scope."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.scope import get_scoped_or_404
from bastion.geo.models import Node
from bastion.incidents.models import AREA_LEVELS, ControlLevel
from bastion.incidents.response import queries, services
from bastion.incidents.response.forms import CaseForm, DisinfectionForm, TaskForm
from bastion.incidents.response.models import CaseState

SHOWN = 200


def _error(request, error: DomainError) -> None:
    for p in error.problems:
        where = _("row %(row)s") % {"row": p.row} if p.row else ""
        label = " ".join(x for x in (where, p.field or "") if x)
        messages.error(request, f"{label}: {p.message}" if label else p.message)


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        messages.error(request, f"{form.fields[field].label}: {errors[0]}")


@login_required
def case_list(request):
    rows = list(
        queries.cases_for(request.user)
        .select_related("node__building")
        .order_by("state", "-reported_at", "-id")[:SHOWN]
    )
    units = (
        Node.objects.restrict(request.user, scope.CHANGE)
        .filter(level="unit")
        .select_related("building")
        .order_by("path")[:400]
        if scope.has_action(request.user, scope.CHANGE)
        else []
    )
    return render(
        request,
        "incidents/response/cases.html",
        {"cases": rows, "units": units, "form": CaseForm(), "shown": SHOWN},
    )


@login_required
@require_POST
def case_new(request):
    form = CaseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:cases")
    node = get_scoped_or_404(Node, request.user, scope.CHANGE, pk=form.cleaned_data["node"])
    try:
        case = services.case_record(
            actor=request.user,
            node=node,
            name=form.cleaned_data["name"],
            reference=form.cleaned_data["reference"],
            reported_at=form.cleaned_data["reported_at"],
            source="import" if form.cleaned_data["reference"] else "manual",
        )
    except DomainError as e:
        _error(request, e)
        return redirect("incidents:cases")
    return redirect("incidents:case", case.pk)


@login_required
@require_POST
def cases_import(request):
    """The disease-control system's list, all or nothing: every bad row is said."""
    if not scope.has_action(request.user, scope.CHANGE):
        raise PermissionDenied
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose the file."))
        return redirect("incidents:cases")
    try:
        made = services.cases_import(
            actor=request.user, filename=upload.name or "", content=upload.read()
        )
    except DomainError as e:
        _error(request, e)
    else:
        messages.success(request, _("%(n)s cases imported.") % {"n": len(made)})
    return redirect("incidents:cases")


def _choices(case) -> list[Node]:
    """The nodes a case's areas may sit on: its own and those above it, down from its
    community."""
    ids = [getattr(case.node, f"{lvl}_id") for lvl in AREA_LEVELS]
    return list(Node.objects.filter(pk__in=[i for i in ids if i]).order_by("depth"))


@login_required
def case_detail(request, case_id: int):
    case = queries.case_for(request.user, case_id)
    proposed = {p.node_id: p.level for p in case.proposed.all()}
    can_confirm = case.state == CaseState.PROPOSED and scope.can(
        request.user, scope.CHANGE, case.node
    )
    return render(
        request,
        "incidents/response/case.html",
        {
            "case": case,
            "rows": [(n, proposed.get(n.pk, "")) for n in _choices(case)],
            "levels": ControlLevel.choices,
            "can_confirm": can_confirm,
            "bundle": getattr(case, "bundle", None),
        },
    )


@login_required
@require_POST
def case_confirm(request, case_id: int):
    """Save the adjusted levels (one per node; "none" drops it) and, unless only saving,
    confirm: the areas are set and the bundle opens."""
    case = queries.case_for(request.user, case_id, scope.CHANGE)
    areas = []
    for node in _choices(case):
        level = request.POST.get(f"level_{node.pk}", "")
        if level:
            areas.append((node, level))
    try:
        services.proposal_adjust(actor=request.user, case=case, areas_=areas)
        if request.POST.get("save_only"):
            messages.success(request, _("The proposal is saved."))
            return redirect("incidents:case", case.pk)
        bundle = services.case_confirm(actor=request.user, case=case)
    except DomainError as e:
        _error(request, e)
        return redirect("incidents:case", case.pk)
    messages.success(request, _("Confirmed: the areas are set and the tasks are open."))
    return redirect("incidents:bundle", bundle.pk)


@login_required
def bundle_board(request, bundle_id: int):
    bundle = queries.bundle_for(request.user, bundle_id)
    can_change = scope.can(request.user, scope.CHANGE, bundle.node)
    areas = queries.bundle_areas(request.user, bundle)
    return render(
        request,
        "incidents/response/board.html",
        {
            "bundle": bundle,
            "board": queries.board(bundle),
            "areas": [(a, queries.lift_check(a) if a.active else None) for a in areas],
            "disinfections": list(queries.disinfections_of(bundle)[:50]),
            "can_change": can_change,
            "places": list(
                Node.objects.filter(**{f"{bundle.node.level}_id": bundle.node_id}).order_by("path")[
                    :100
                ]
            ),
            "cover": queries.cadre_cover(request.user, bundle),
            "transfers": queries.transfers_of(request.user, bundle),
        },
    )


@login_required
@require_POST
def task_update(request, task_id: int):
    task = queries.task_for(request.user, task_id, scope.CHANGE)
    form = TaskForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:bundle", task.bundle_id)
    try:
        services.task_update(
            actor=request.user,
            task=task,
            state=form.cleaned_data["state"] or None,
            deadline=form.cleaned_data["deadline"],
            note=form.cleaned_data["note"] or None,
        )
    except DomainError as e:
        _error(request, e)
    return redirect(reverse("incidents:bundle", args=[task.bundle_id]) + f"#task-{task.pk}")


@login_required
@require_POST
def disinfection_new(request, bundle_id: int):
    bundle = queries.bundle_for(request.user, bundle_id, scope.CHANGE)
    form = DisinfectionForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("incidents:bundle", bundle.pk)
    node = get_scoped_or_404(Node, request.user, scope.CHANGE, pk=form.cleaned_data["node"])
    try:
        services.disinfection_record(
            actor=request.user,
            bundle=bundle,
            node=node,
            place=form.cleaned_data["place"],
            at=form.cleaned_data["at"],
            agent=form.cleaned_data["agent"],
            person=form.cleaned_data["person"],
        )
    except DomainError as e:
        _error(request, e)
    else:
        messages.success(request, _("The disinfection is recorded."))
    return redirect(reverse("incidents:bundle", args=[bundle.pk]) + "#disinfection")
