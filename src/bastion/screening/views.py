"""Screening pages: campaigns and their coverage, a grid chief's list for today (phone-first),
a household's visit with findings per resident, call lists and their rows to resolve,
callbacks and follow-ups. Thin: reads in `screening.queries`, writes in `screening.services`,
every row fetched through the scope (outside it is a 404)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bastion.core import scope
from bastion.core.errors import DomainError
from bastion.core.scope import get_scoped_or_404
from bastion.geo import queries as geo_queries
from bastion.geo.models import Node, Resident
from bastion.screening import queries, services
from bastion.screening.forms import (
    MARKS,
    CallbackForm,
    CallListForm,
    CampaignForm,
    FindingForm,
    FollowUpCloseForm,
    MarkForm,
    ResolveForm,
    RowsAddForm,
)
from bastion.screening.models import (
    CallbackStatus,
    Campaign,
    CampaignHousehold,
    RowStatus,
)
from bastion.screening.services import problem_column

OPEN_AT_LEVELS = ("street", "community")
MATCHED_SHOWN = 200
TILES = 6


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _area_choices(user):
    """Nodes a user may open a campaign on or import a list into: streets and communities in
    their change scope, and their own grids."""
    nodes = Node.objects.restrict(user, scope.CHANGE)
    return nodes.filter(
        Q(level__in=OPEN_AT_LEVELS) | Q(level="grid", pk__in=scope.root_node_ids(user))
    ).order_by("path")


@login_required
def index(request):
    user = request.user
    today = timezone.localdate()
    campaigns = list(queries.campaigns_for(user)[:50])
    grids = queries.active_grids(user, today)
    return render(
        request,
        "screening/index.html",
        {
            "today": today,
            # A chief's few lists as tiles; above that, the campaign pages lead to the grids.
            "grids": grids if len(grids) <= TILES else [],
            "grid_count": len(grids),
            "campaigns": campaigns,
            "call_lists": queries.call_lists_for(user)[:20],
            "callbacks_open": queries.callbacks_for(user, status=CallbackStatus.OPEN).count(),
            "follow_ups_open": queries.follow_ups_for(user).count(),
            "can_change": scope.has_action(user, scope.CHANGE),
        },
    )


@login_required
def today(request):
    """A chief's shortcut: straight to their list when they have one grid in one campaign."""
    grids = queries.active_grids(request.user, timezone.localdate())
    if len(grids) == 1:
        campaign, grid, _counts = grids[0]
        return redirect("screening:grid", campaign_id=campaign.pk, grid_id=grid.pk)
    return redirect("screening:index")


@login_required
def campaign_new(request):
    user = request.user
    today = timezone.localdate()
    form = CampaignForm(
        request.POST or None,
        nodes=_area_choices(user),
        initial={"starts_on": today, "ends_on": today + dt.timedelta(days=6)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.campaign_open(
                actor=user,
                node=data["node"],
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                client_id=data["client_id"],
            )
        except DomainError as error:
            form.add_problems(error)
        else:
            messages.success(request, _("Campaign opened."))
            return redirect("screening:campaign", campaign_id=campaign.pk)
    return render(request, "screening/campaign_new.html", {"form": form})


@login_required
def campaign_detail(request, campaign_id: int):
    user = request.user
    campaign = queries.campaign_for(user, campaign_id)
    node_id = request.GET.get("node", "")
    node = geo_queries.area_focus(user, campaign.node, int(node_id) if node_id.isdigit() else None)
    crumbs = [n for n in geo_queries.ancestors(user, node) if n.path.startswith(campaign.node.path)]
    return render(
        request,
        "screening/campaign.html",
        {
            "campaign": campaign,
            "coverage": queries.coverage(user, campaign, node),
            "crumbs": crumbs,
            "active": campaign.is_active(timezone.localdate()),
            "fevers": queries.fever_findings(user, campaign, node),
        },
    )


def _grid(request, campaign: Campaign, grid_id: int) -> Node:
    grid = get_scoped_or_404(Node.objects.filter(level="grid"), request.user, pk=grid_id)
    if not grid.path.startswith(campaign.node.path):
        raise Http404
    return grid


@login_required
def grid_today(request, campaign_id: int, grid_id: int):
    """The grid chief's list of what is left today (phone-first)."""
    user = request.user
    campaign = queries.campaign_for(user, campaign_id)
    grid = _grid(request, campaign, grid_id)
    today = timezone.localdate()
    return render(
        request,
        "screening/grid.html",
        {
            "campaign": campaign,
            "grid": grid,
            "today": today,
            "active": campaign.is_active(today),
            "progress": queries.grid_progress(user, campaign, grid, today),
            "left": [
                (entry, MarkForm()) for entry in queries.left_today(user, campaign, grid, today)
            ],
            "done": queries.done_today(user, campaign, grid, today),
            "chief": queries.grid_chiefs([grid.pk]).get(grid.pk),
            "can_change": scope.can(user, scope.CHANGE, grid),
        },
    )


def _entry(
    request, campaign_id: int, household_id: int, action: str = scope.VIEW
) -> CampaignHousehold:
    campaign = queries.campaign_for(request.user, campaign_id, action)
    return queries.entry_for(request.user, campaign, household_id, action)


def _household_page(
    request,
    entry: CampaignHousehold,
    *,
    mark: MarkForm | None = None,
    forms: list[FindingForm] | None = None,
    status: int = 200,
):
    grid_url = reverse("screening:grid", args=[entry.campaign_id, entry.grid_id])
    return render(
        request,
        "screening/household.html",
        {
            "entry": entry,
            "campaign": entry.campaign,
            "forms": forms or [FindingForm(resident=r) for r in queries.household_residents(entry)],
            "mark": mark or MarkForm(),
            "visits": queries.household_visits(entry),
            "can_change": scope.can(request.user, scope.CHANGE, entry),
            "active": entry.campaign.is_active(timezone.localdate()),
            "next": _back(request, grid_url),
        },
        status=status,
    )


def _route_problems(error: DomainError, form: MarkForm, finding_forms: list[FindingForm]):
    """Put each problem on the form it is about: `findings.<resident id>.<field>` on that
    resident's findings form, the rest on the mark form."""
    by_resident = {str(f.resident.pk): f for f in finding_forms}
    for problem in error.problems:
        parts = (problem.field or "").split(".")
        target = by_resident.get(parts[1]) if parts[0] == "findings" and len(parts) == 3 else None
        if target is None:
            form.add_problems(DomainError([problem]))
        else:
            target.add_error(parts[2] if parts[2] in target.fields else None, problem.message)


@login_required
def household(request, campaign_id: int, household_id: int):
    """One household in a campaign: its residents with a findings form each, its visits."""
    return _household_page(request, _entry(request, campaign_id, household_id))


@login_required
@require_POST
def household_mark(request, campaign_id: int, household_id: int):
    """Record one attempt: a tap on the chief's list (htmx swaps the card), or the household
    page with findings per resident."""
    user = request.user
    entry = _entry(request, campaign_id, household_id, scope.CHANGE)
    form = MarkForm(request.POST)
    with_findings = "findings" in request.POST
    finding_forms = (
        [FindingForm(request.POST, resident=r) for r in queries.household_residents(entry)]
        if with_findings
        else []
    )
    saved = form.is_valid() & all([f.is_valid() for f in finding_forms])
    if saved:
        outcome, channel = form.outcome_channel
        try:
            services.visit_record(
                actor=user,
                entry=entry,
                outcome=outcome,
                channel=channel,
                client_id=form.cleaned_data["client_id"],
                note=form.cleaned_data["note"],
                findings=[f.as_input() for f in finding_forms if f.entered()],
                source="web",
            )
        except DomainError as error:
            _route_problems(error, form, finding_forms)
            saved = False
    if with_findings and not saved:
        return _household_page(request, entry, mark=form, forms=finding_forms, status=422)
    grid_url = reverse("screening:grid", args=[entry.campaign_id, entry.grid_id])
    if _is_htmx(request):
        entry.refresh_from_db()
        today = timezone.localdate()
        return render(
            request,
            "screening/_mark_result.html",
            {
                "entry": entry,
                "form": form,
                "saved": saved,
                "campaign": entry.campaign,
                "progress": queries.grid_progress(user, entry.campaign, entry.grid, today),
            },
        )  # 200 either way: htmx swaps only successful answers, and the card shows the error
    if saved:
        messages.success(
            request,
            _("%(household)s: %(mark)s.")
            % {"household": entry.household, "mark": dict(MARKS)[form.cleaned_data["mark"]]},
        )
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect(_back(request, grid_url))


# --------------------------------------------------------------------------- call lists


@login_required
def call_list_import(request):
    user = request.user
    form = CallListForm(request.POST or None, request.FILES or None, nodes=_area_choices(user))
    problems = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            call_list = services.call_list_import(
                actor=user,
                node=data["node"],
                kind=data["kind"],
                name=data["name"],
                filename=upload.name,
                content=upload.read(),
                client_id=data["client_id"],
            )
        except DomainError as error:  # nothing was imported: the same form may be sent again
            problems = [(p, problem_column(p)) for p in error.problems]
        else:
            messages.success(request, _("List imported."))
            return redirect("screening:call_list", list_id=call_list.pk)
    return render(
        request,
        "screening/call_list_import.html",
        {
            "form": form,
            "problems": problems,
            "columns": services.CALL_COLUMNS,
        },
    )


@login_required
def call_list_detail(request, list_id: int):
    user = request.user
    call_list = queries.call_list_for(user, list_id)
    to_resolve = list(
        queries.call_rows(user, call_list, [RowStatus.AMBIGUOUS, RowStatus.UNMATCHED])
    )
    candidates = queries.candidates_of(user, to_resolve)
    matched = queries.call_rows(user, call_list, [RowStatus.MATCHED]).select_related("callback")[
        :MATCHED_SHOWN
    ]
    return render(
        request,
        "screening/call_list.html",
        {
            "call_list": call_list,
            "counts": queries.call_list_counts(user, [call_list])[call_list.pk],
            "to_resolve": [(row, candidates[row.pk]) for row in to_resolve],
            "matched": matched,
            "matched_shown": MATCHED_SHOWN,
            "outside": queries.call_rows(user, call_list, [RowStatus.OUTSIDE]),
            "can_change": scope.can(user, scope.CHANGE, call_list),
        },
    )


@login_required
@require_POST
def call_rows_add(request, list_id: int):
    """More rows for an open list from a file (a case's contacts as tracing finds them)."""
    user = request.user
    call_list = queries.call_list_for(user, list_id, scope.CHANGE)
    form = RowsAddForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise DomainError(_("Choose a file (.xlsx or .csv)."), field="file")
        upload = form.cleaned_data["file"]
        counts = services.call_rows_add(
            actor=user, call_list=call_list, filename=upload.name, content=upload.read()
        )
    except DomainError as error:  # nothing was added
        messages.error(request, " ".join(p.message for p in error.problems))
    else:
        messages.success(
            request,
            _("Rows added: %(rows)d, matched to residents: %(matched)d.")
            % {"rows": counts["rows"], "matched": counts.get(RowStatus.MATCHED, 0)},
        )
    return redirect("screening:call_list", list_id=call_list.pk)


@login_required
@require_POST
def call_row_resolve(request, row_id: int):
    user = request.user
    row = queries.call_row_for(user, row_id, scope.CHANGE)
    form = ResolveForm(request.POST)
    back = reverse("screening:call_list", args=[row.call_list_id])
    try:
        if not form.is_valid():
            raise DomainError(_("Pick a resident, or mark the row as not in our area."))
        data = form.cleaned_data
        resident = None
        if data["outside"]:
            pass
        elif data["resident"]:
            resident = get_scoped_or_404(Resident, user, scope.CHANGE, pk=data["resident"])
        elif data["lookup"]:
            resident = queries.resident_by_number(user, data["lookup"])
        services.call_row_resolve(actor=user, row=row, resident=resident, outside=data["outside"])
    except DomainError as error:
        for problem in error.problems:
            messages.error(
                request,
                _("Row %(row)s: %(message)s") % {"row": row.row, "message": problem.message},
            )
    else:
        messages.success(request, _("Row %(row)s settled.") % {"row": row.row})
    return redirect(f"{back}#resolve")


# --------------------------------------------------------------------------- callbacks


@login_required
def callbacks(request):
    user = request.user
    status = request.GET.get("status", CallbackStatus.OPEN)
    if status not in CallbackStatus.values:
        status = ""
    rows = queries.callbacks_for(user, status=status or None)
    return render(
        request,
        "screening/callbacks.html",
        {
            "callbacks": rows[:300],
            "count": rows.count(),
            "status": status,
            "statuses": CallbackStatus.choices,
        },
    )


@login_required
def callback_detail(request, callback_id: int):
    user = request.user
    callback = queries.callback_for(user, callback_id)
    form = CallbackForm(request.POST or None)
    if request.method == "POST":
        callback = queries.callback_for(user, callback_id, scope.CHANGE)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.callback_record(actor=user, callback=callback, **data)
            except DomainError as error:
                form.add_problems(error)
            else:
                messages.success(request, _("Callback recorded."))
                return redirect(_back(request, reverse("screening:callbacks")))
    return render(
        request,
        "screening/callback.html",
        {
            "callback": callback,
            "row": callback.call_row,
            "form": form,
            "can_change": scope.can(user, scope.CHANGE, callback),
            "can_reveal": scope.can(user, scope.REVEAL, callback.resident),
        },
    )


@login_required
def follow_ups(request):
    user = request.user
    open_only = request.GET.get("all") != "1"
    rows = queries.follow_ups_for(user, open_only=open_only)
    return render(
        request,
        "screening/follow_ups.html",
        {
            "follow_ups": [(f, FollowUpCloseForm(prefix=f"f{f.pk}")) for f in rows[:300]],
            "count": rows.count(),
            "open_only": open_only,
        },
    )


@login_required
@require_POST
def follow_up_close(request, follow_up_id: int):
    user = request.user
    follow_up = queries.follow_up_for(user, follow_up_id, scope.CHANGE)
    form = FollowUpCloseForm(request.POST, prefix=f"f{follow_up.pk}")
    try:
        if not form.is_valid():
            raise DomainError(_("Say what came of the follow-up."), field="outcome")
        services.follow_up_close(
            actor=user, follow_up=follow_up, outcome=form.cleaned_data["outcome"]
        )
    except DomainError as error:
        for problem in error.problems:
            messages.error(request, f"{follow_up.resident.name}: {problem.message}")
    else:
        messages.success(
            request, _("Follow-up of %(name)s closed.") % {"name": follow_up.resident.name}
        )
    return redirect(_back(request, reverse("screening:follow_ups")))
