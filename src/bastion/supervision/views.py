"""The supervision pages: the overview (my rectification tasks, my patrols, the overdue
list), an inspection on a phone (choose the place, go through its checklist, a photo per
failed item), a finding (the fix with a photo, the re-check), the ledger per node, the daily
patrol and the checklists. Thin: reads in `supervision.queries`, writes in `services`."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.core.files import stored_file_response
from bastion.core.photos import photos_check
from bastion.geo.models import Node
from bastion.people.mobilization.models import Place
from bastion.supervision import queries, services
from bastion.supervision.forms import ChecklistItemForm, FixForm, RecheckForm, TargetForm
from bastion.supervision.models import BUILDING, ChecklistItem, Mode, Severity, Status

SHOWN = 100


def _errors_to_form(form, error: DomainError) -> None:
    for p in error.problems:
        form.add_error(p.field if p.field in form.fields else None, p.message)


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@login_required
def index(request):
    user = request.user
    now = timezone.now()
    return render(
        request,
        "supervision/index.html",
        {
            "tasks": list(queries.my_tasks(user)[:SHOWN]),
            "patrols": queries.patrols_due(user, day=timezone.localdate()),
            "overdue": queries.overdue(user, now=now)[:SHOWN],
            "inspections": list(queries.inspections_for(user)[:20]),
            "can_inspect": queries.inspecting_teams(user).exists(),
            "now": now,
        },
    )


def _targets(user):
    places = Place.objects.restrict(user, scope.CHANGE).filter(closed_on__isnull=True)
    buildings = Node.objects.restrict(user, scope.CHANGE).filter(level=BUILDING)
    return places.order_by("name")[:500], buildings.order_by("path")[:500]


@login_required
def inspect(request):
    """Step one: the team, the place and the mode; step two (`target` chosen): the
    checklist, each failed item with its severity and photo, recorded at once."""
    user = request.user
    teams = queries.inspecting_teams(user)
    if not teams.exists():
        raise PermissionDenied(_("Your role may not record inspections."))
    places, buildings = _targets(user)
    data = request.POST if request.method == "POST" else request.GET
    form = TargetForm(data or None, teams=teams, places=places, buildings=buildings)
    if not data or not form.is_valid():
        return render(request, "supervision/inspect.html", {"form": form})
    kind, _sep, pk = form.cleaned_data["target"].partition(":")
    place = get_for_change(Place, user, pk=pk) if kind == "place" else None
    building = get_for_change(Node, user, pk=pk, level=BUILDING) if kind == "building" else None
    node = building or place.node
    items = services.checklist_for(kind=place.kind if place else BUILDING, node=node)
    errors = []
    if request.method == "POST":
        findings = []
        photos = {}
        try:
            for item in items:
                if request.POST.get(f"fail_{item.pk}"):
                    upload = request.FILES.get(f"photo_{item.pk}")
                    photos[item.pk] = photos_check([upload], field="photos") if upload else []
                    findings.append(
                        services.FindingIn(
                            severity=request.POST.get(f"severity_{item.pk}", ""),
                            item=item,
                            text=request.POST.get(f"text_{item.pk}", "")[:500],
                            photos=photos[item.pk],
                        )
                    )
            inspection = services.inspection_record(
                client_id=_uuid(request.POST.get("client_id")),
                actor=user,
                team=form.cleaned_data["team"],
                place=place,
                building=building,
                mode=form.cleaned_data["mode"],
                findings=findings,
                items_checked=len(items),
                note=request.POST.get("note", "")[:500],
            )
        except DomainError as e:
            errors = e.problems
        else:
            messages.success(
                request,
                _("Inspection recorded: %(n)d findings sent for rectification.")
                % {"n": inspection.findings.count()},
            )
            return redirect("supervision:index")
    return render(
        request,
        "supervision/checklist.html",
        {
            "form": form,
            "target": place or building,
            "items": items,
            "severities": Severity.choices,
            "errors": errors,
            "posted": request.POST if request.method == "POST" else {},
            "client_id": uuid.uuid4(),
            "mode_label": dict(Mode.choices).get(form.cleaned_data["mode"], ""),
        },
        status=422 if errors else 200,
    )


def _finding_page(request, finding, *, fix_form=None, recheck_form=None, status=200):
    user = request.user
    now = timezone.now()
    may_fix = finding.status == Status.OPEN and services.may_report_fix(user, finding)
    may_recheck = (
        finding.status == Status.FIXED
        and scope.allows(user, scope.CHANGE, finding)
        and user.pk not in (finding.fixed_by_id, finding.responsible.user_id)
    )
    return render(
        request,
        "supervision/finding.html",
        {
            "finding": finding,
            "photos": list(finding.photos.all()),
            "fix_form": fix_form or FixForm(),
            "recheck_form": recheck_form or RecheckForm(),
            "may_fix": may_fix,
            "may_recheck": may_recheck,
            "overdue": finding.overdue(now),
            "now": now,
        },
        status=status,
    )


@login_required
def finding(request, finding_id: int):
    return _finding_page(request, queries.finding_for(request.user, finding_id))


@login_required
@require_POST
def fix(request, finding_id: int):
    row = queries.finding_for(request.user, finding_id)
    if not services.may_report_fix(request.user, row):
        raise PermissionDenied(_("Only the person responsible reports this fix."))
    form = FixForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            upload = form.cleaned_data["photo"]
            services.finding_fix(
                actor=request.user,
                finding=row,
                note=form.cleaned_data["note"],
                photos=photos_check([upload], field="photo") if upload else [],
            )
        except DomainError as e:
            for p in e.problems:
                field = "photo" if p.field == "photos" else p.field
                form.add_error(field if field in form.fields else None, p.message)
        else:
            messages.success(request, _("Fix reported; an inspector will re-check it."))
            return redirect("supervision:finding", finding_id=row.pk)
    return _finding_page(request, row, fix_form=form, status=422)


@login_required
@require_POST
def recheck(request, finding_id: int):
    row = queries.finding_for(request.user, finding_id, scope.CHANGE)
    form = RecheckForm(request.POST)
    if form.is_valid():
        try:
            services.finding_recheck(
                actor=request.user,
                finding=row,
                passed=form.cleaned_data["passed"],
                note=form.cleaned_data["note"],
            )
        except DomainError as e:
            _errors_to_form(form, e)
        else:
            messages.success(request, _("Re-check recorded."))
            return redirect("supervision:finding", finding_id=row.pk)
    return _finding_page(request, row, recheck_form=form, status=422)


@login_required
def photo(request, finding_id: int, photo_id: int):
    found = queries.photo_for(request.user, finding_id, photo_id)
    return stored_file_response(found.file, found.content_type)


@login_required
def ledger(request):
    """The ledger (台账) of a node of the login's area: findings per child with the closure
    rate, the overdue list and the repeated failures."""
    user = request.user
    roots = Node.objects.restrict(user).order_by("depth", "path")
    node_id = request.GET.get("node")
    node = scope.get_scoped_or_404(Node, user, pk=node_id) if node_id else roots.first()
    if node is None:
        raise Http404
    now = timezone.now()
    whole, lines = queries.ledger(user, node, now=now)
    return render(
        request,
        "supervision/ledger.html",
        {
            "node": node,
            "whole": whole,
            "lines": lines,
            "overdue": queries.overdue(user, node, now=now)[:SHOWN],
            "repeats": list(queries.repeated_failures(user, node)[:SHOWN]),
            "now": now,
        },
    )


@login_required
def patrols(request):
    """The building chief's daily patrol: each of their buildings, its short checklist."""
    user = request.user
    today = timezone.localdate()
    if request.method == "POST":
        building = Node.objects.filter(
            pk=request.POST.get("building") or 0,
            level=BUILDING,
            posts__person__user=user,
            posts__role="building_chief",
            posts__ended_on__isnull=True,
        ).first() or get_for_change(Node, user, pk=request.POST.get("building"), level=BUILDING)
        items = services.checklist_for(kind=BUILDING, node=building)
        failed = [i for i in items if request.POST.get(f"fail_{i.pk}")]
        try:
            services.patrol_record(
                actor=user,
                building=building,
                failed=failed,
                note=request.POST.get("note", "")[:500],
                day=today,
                client_id=_uuid(request.POST.get("client_id")),
            )
        except DomainError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Patrol recorded."))
        return redirect("supervision:patrols")
    due = queries.patrols_due(user, day=today)
    return render(
        request,
        "supervision/patrols.html",
        {
            "due": [
                (b, p, services.checklist_for(kind=BUILDING, node=b), uuid.uuid4()) for b, p in due
            ],
            "today": today,
        },
    )


@login_required
def checklists(request):
    """The checklists per kind of place (kept by the login's nodes and those above)."""
    user = request.user
    editable = Node.objects.restrict(user, scope.CHANGE).order_by("depth", "path").first()
    form = ChecklistItemForm(request.POST or None)
    if request.method == "POST":
        if editable is None:
            raise PermissionDenied(_("Your role may not edit checklists."))
        if form.is_valid():
            try:
                services.checklist_item_add(actor=user, node=editable, **form.cleaned_data)
            except DomainError as e:
                _errors_to_form(form, e)
            else:
                messages.success(request, _("Item added."))
                return redirect("supervision:checklists")
    items = list(queries.checklist_items_for(user).select_related("node"))
    return render(
        request,
        "supervision/checklists.html",
        {
            "items": items,
            "form": form,
            "editable": editable,
            "changeable": {i.pk for i in items if scope.allows(user, scope.CHANGE, i)},
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def checklist_item(request, item_id: int):
    """Retire a line, or use it again."""
    item = get_for_change(ChecklistItem, request.user, pk=item_id)
    services.checklist_item_update(actor=request.user, item=item, active=not item.active)
    return redirect("supervision:checklists")
