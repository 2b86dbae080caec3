"""Pages of the daily report: the command-centre dashboard per node, the grid's submission,
recomputation on demand and the .xlsx ledger. Thin: reads in queries, writes in services."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bastion.core.api_support import get_for_change
from bastion.core.errors import DomainError
from bastion.core.scope import CHANGE, can
from bastion.geo.models import Level, Node
from bastion.geo.queries import ancestors, root_nodes
from bastion.reports import queries, services, tasks
from bastion.reports.exports import report_xlsx_response


@login_required
@require_GET
def index(request):
    """The dashboard of the login's own top node."""
    node = next((n for n in root_nodes(request.user) if n.level in queries.REPORT_LEVELS), None)
    if node is None:
        return render(request, "reports/none.html")
    return redirect("reports:dashboard", node_id=node.pk)


@login_required
@require_GET
def dashboard(request, node_id: int):
    now = timezone.now()
    node = queries.report_node(request.user, node_id)
    day = queries.parse_day(request.GET.get("day"), now)
    today = services.local_today(now)
    state = queries.report_day(day)
    grid_report = queries.grid_report(request.user, node, day) if node.level == "grid" else None
    can_change = can(request.user, CHANGE, node)
    child_level = "grid" if node.level == "grid" else node.child_level
    freeze_due = now > services.freeze_moment(day)

    def draw(data: dict) -> dict:
        """The figures parts of the page, drawn once for everyone who sees this node whole
        (nothing in them depends on the login beyond its scope), and the children."""
        keys = [f["key"] for f in data["figures"]]
        context = {
            "node": node,
            "day": day,
            "data": data,
            "ledger": [(c, [c["values"][k] for k in keys]) for c in data["children"]],
            "child_label": Level(child_level).label,
            "freeze_due": freeze_due,
        }
        return {
            "top": str(render_to_string("reports/_dashboard_figures.html", context)),
            "rest": str(render_to_string("reports/_dashboard_tables.html", context)),
            "children": data["children"],
        }

    drawn, _counted_at = queries.dashboard_figures(request.user, node, day, now, draw=draw)
    children = drawn["children"]
    task_id = request.GET.get("task", "")
    try:
        recompute = _recompute_status(node, task_id) if task_id else None
    except Http404:  # an old or foreign task id in the address: no notice
        recompute = None
    reminded = (  # grids reminded of this day's report, by grid id
        queries.reminders(request.user, [c["id"] for c in children], day)
        if child_level == "grid" and node.level != "grid"
        else {}
    )
    open_grids = [  # the grids of a community that have not submitted, to remind
        c
        for c in children
        if child_level == "grid" and c["flags"]["missing"] + c["flags"]["pending"]
    ]
    with_chief = set(
        services.grid_chief_logins([c["id"] for c in open_grids]).values_list("node_id", flat=True)
    )
    context = {
        "node": node,
        "day": day,
        "today": today,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1) if day < today else None,
        # Drawn by our own templates above.
        "figures": {"top": mark_safe(drawn["top"]), "rest": mark_safe(drawn["rest"])},
        "open_grids": [(c, reminded.get(c["id"]), c["id"] in with_chief) for c in open_grids],
        "crumbs": ancestors(request.user, node),
        "state": state,
        "freeze_at": services.freeze_moment(day),
        "freeze_due": freeze_due,
        "can_change": can_change,
        "grid_report": grid_report,
        "recompute": recompute,
        "task_id": task_id,
        "can_remind": can_change and child_level == "grid" and day == today,
        "can_submit": can_change
        and not services.submission_stands(
            report=grid_report, frozen=state is not None and state.frozen, now=now
        ),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_POST
def submit(request, grid_id: int):
    """A grid chief confirms the grid's figures of a day."""
    now = timezone.now()
    grid = get_for_change(Node.objects.filter(level="grid"), request.user, pk=grid_id)
    day = queries.parse_day(request.POST.get("day"), now)
    try:
        report = services.grid_report_submit(grid=grid, day=day, actor=request.user, now=now)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        if report.submitted_at != now:
            messages.info(request, _("This day's report was already submitted; it stands."))
        else:
            messages.success(request, _("Submitted late.") if report.late else _("Submitted."))
    return redirect(f"{_dashboard_url(grid)}?day={day.isoformat()}")


@login_required
@require_POST
def recompute(request, node_id: int):
    """Queue a fresh computation of today's figures under the node."""
    node = get_for_change(
        Node.objects.filter(level__in=queries.REPORT_LEVELS), request.user, pk=node_id
    )
    task_id = tasks.report_recompute_enqueue(node=node)
    if task_id is None:
        messages.info(request, _("Today's report is frozen; it does not change any more."))
        return redirect(_dashboard_url(node))
    return redirect(f"{_dashboard_url(node)}?task={task_id}")


@login_required
@require_GET
def recompute_status(request, node_id: int, task_id: str):
    """What the dashboard polls (htmx) while a recomputation runs: the same notice while it
    runs, and when it has finished a redirect to the fresh page."""
    node = queries.report_node(request.user, node_id)
    status = _recompute_status(node, task_id)
    if status == "done" and request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _dashboard_url(node)
        return response
    return render(
        request,
        "reports/_recompute.html",
        {"node": node, "task_id": task_id, "status": status},
    )


def _recompute_status(node: Node, task_id: str) -> str:
    try:
        finished = tasks.report_recompute_finished(node=node, task_id=task_id)
    except LookupError:
        raise Http404 from None
    return {True: "done", False: "running", None: "failed"}[finished]


@login_required
@require_GET
def export(request, node_id: int):
    now = timezone.now()
    node = queries.report_node(request.user, node_id)
    day = queries.parse_day(request.GET.get("day"), now)
    return report_xlsx_response(request.user, node, day, now)


def _dashboard_url(node: Node) -> str:
    return reverse("reports:dashboard", kwargs={"node_id": node.pk})


@login_required
@require_POST
def remind(request, grid_id: int):
    """Remind a grid's chief of its report of a day not yet submitted (once a day)."""
    now = timezone.now()
    grid = get_for_change(Node.objects.filter(level="grid"), request.user, pk=grid_id)
    day = queries.parse_day(request.POST.get("day"), now)
    try:
        sent = services.grid_report_remind(grid=grid, day=day, actor=request.user, now=now)
    except DomainError as e:
        messages.error(request, str(e))
    else:
        if sent.created_at != now:
            messages.info(
                request,
                _("%(grid)s was already reminded at %(at)s; the reminder stands.")
                % {"grid": grid.name, "at": timezone.localtime(sent.created_at).strftime("%H:%M")},
            )
        else:
            messages.success(request, _("%(grid)s's chief is reminded.") % {"grid": grid.name})
    community = Node.objects.restrict(request.user).filter(pk=grid.community_id).first()
    back = community or grid
    return redirect(f"{_dashboard_url(back)}?day={day.isoformat()}#ledger")
