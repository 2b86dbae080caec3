"""The daily report and dashboard as JSON under /api/v1/reports/, scoped like the pages."""

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema

from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.geo.models import Node
from bastion.reports import queries, services, tasks
from bastion.reports.exports import report_xlsx_response

router = Router(tags=["reports"])


class FigureOut(Schema):
    key: str
    label: str
    module: str


class FlagsOut(Schema):
    on_time: int
    late: int
    missing: int
    pending: int


class RowOut(Schema):
    id: int
    name: str
    level: str
    values: dict[str, int]
    flags: FlagsOut


class ReportOut(Schema):
    node: dict
    day: dt.date
    computed_at: dt.datetime | None
    frozen_at: dt.datetime | None
    figures: list[FigureOut]
    rows: list[RowOut]
    total: dict[str, int]
    flags: FlagsOut


class DashboardFigureOut(FigureOut):
    value: int
    previous: int | None
    delta: int | None


class ModuleOut(Schema):
    name: str
    label: str


class TrendOut(Schema):
    days: list[dt.date]
    series: dict[str, list[int | None]]


class LaggardOut(Schema):
    grid_id: int
    name: str
    left: int
    base: int | None
    share: float


class DashboardOut(Schema):
    node: dict
    day: dt.date
    computed_at: dt.datetime | None
    frozen_at: dt.datetime | None
    freeze_at: dt.datetime
    figures: list[DashboardFigureOut]
    modules: list[ModuleOut]
    trend: TrendOut
    children: list[RowOut]
    flags: FlagsOut
    laggards: list[LaggardOut]
    board: dict | None


class SubmissionOut(Schema):
    grid_id: int
    day: dt.date
    submitted_at: dt.datetime
    late: bool


class QueuedOut(Schema):
    queued: bool
    frozen: bool


@router.get("/figures", response=list[FigureOut])
def figures(request):
    """Every registered figure, in report column order."""
    return queries.figure_labels()


@router.get("/nodes/{node_id}/report", response={200: ReportOut, **READ_ERRORS})
def report(request, node_id: int, day: str | None = None):
    """A node's daily report: one row per child (a grid: the grid itself), the total row and
    the grids' submissions (on time, late, missing / pending)."""
    now = timezone.now()
    node = queries.report_node(request.user, node_id)
    table = queries.report_table(request.user, node, queries.parse_day(day, now), now)
    state = table["state"]
    return {
        "node": {"id": node.pk, "name": node.name, "level": node.level},
        "day": table["day"],
        "computed_at": state.computed_at if state else None,
        "frozen_at": state.frozen_at if state else None,
        "figures": table["figures"],
        "rows": [
            {"id": c.pk, "name": c.name, "level": c.level, "values": v, "flags": f}
            for c, v, f in table["rows"]
        ],
        "total": table["total"],
        "flags": table["flags"],
    }


@router.get("/nodes/{node_id}/dashboard", response={200: DashboardOut, **READ_ERRORS})
def dashboard(request, node_id: int, day: str | None = None):
    """Everything the dashboard draws: the day's figures, the 14-day trend, the children,
    the ten laggard grids and (for a community or grid) the building board."""
    now = timezone.now()
    node = queries.report_node(request.user, node_id)
    data, _counted_at = queries.dashboard_figures(
        request.user, node, queries.parse_day(day, now), now
    )
    return data


@router.get("/nodes/{node_id}/export.xlsx", response={200: None, **READ_ERRORS})
def export(request, node_id: int, day: str | None = None):
    now = timezone.now()
    node = queries.report_node(request.user, node_id)
    return report_xlsx_response(request.user, node, queries.parse_day(day, now), now)


@router.post("/grids/{grid_id}/submit", response={200: SubmissionOut, **WRITE_ERRORS})
def submit(request, grid_id: int, day: str | None = None):
    """The grid chief confirms the grid's figures of `day` (today when left out)."""
    now = timezone.now()
    grid = get_for_change(Node.objects.filter(level="grid"), request.user, pk=grid_id)
    report = services.grid_report_submit(
        grid=grid, day=queries.parse_day(day, now), actor=request.user, now=now, source="api"
    )
    return {
        "grid_id": grid.pk,
        "day": report.day,
        "submitted_at": report.submitted_at,
        "late": report.late,
    }


@router.post("/nodes/{node_id}/recompute", response={200: QueuedOut, **WRITE_ERRORS})
def recompute(request, node_id: int):
    """Queue a fresh computation of today's figures for the grids under the node."""
    node = get_for_change(
        Node.objects.filter(level__in=queries.REPORT_LEVELS), request.user, pk=node_id
    )
    queued = tasks.report_recompute_enqueue(node=node) is not None
    return {"queued": queued, "frozen": not queued}
