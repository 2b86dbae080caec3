"""Reads of the daily report shared by the pages, the API and the export. Every read takes the
login, fetches the node through the scope function and narrows the daily rows with
`.restrict(user)`; every figure is a GROUP BY on an ancestor column of the grid rows."""

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from django.db.models import Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast, NullIf
from django.http import Http404

from bastion.core.figcache import figures_cached
from bastion.geo.models import Node, child_level
from bastion.geo.queries import children, node_for
from bastion.notices.queries import for_source
from bastion.reports import registry
from bastion.reports.models import DailyFigure, GridReport, ReportDay
from bastion.reports.services import FIGURES, freeze_moment, local_today

T = TypeVar("T")

REPORT_LEVELS = ("city", "district", "street", "community", "grid")
TREND_DAYS = 14
LAGGARDS = 10
# The laggard ranking: households left over households under screening.
LEFT_KEY = "households_left"
SCREENED_KEY = "households_screened"


def parse_day(value: str | None, now: dt.datetime) -> dt.date:
    """The day asked for (YYYY-MM-DD), today when absent, unreadable or in the future."""
    today = local_today(now)
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        return today
    return min(day, today)


def report_node(user, node_id: int) -> Node:
    """A node whose report the login may read; buildings and units have none (404)."""
    node = node_for(user, node_id)
    if node.level not in REPORT_LEVELS:
        raise Http404
    return node


def report_day(day: dt.date) -> ReportDay | None:
    return ReportDay.objects.filter(day=day).first()


def _column(level: str) -> str:
    return f"{level}_id"


def _rows(user, node: Node) -> QuerySet[DailyFigure]:
    return DailyFigure.objects.restrict(user).filter(
        **{_column(node.level): node.pk}, key__in=registry.figure_keys()
    )


def _child_column(node: Node) -> str:
    return _column("grid" if node.level == "grid" else child_level(node.level))


def day_totals(user, node: Node, day: dt.date) -> dict[str, int]:
    totals = dict.fromkeys(registry.figure_keys(), 0)
    rows = _rows(user, node).filter(day=day).values("key").annotate(v=Sum("value"))
    totals.update({r["key"]: r["v"] for r in rows})
    return totals


def figure_trend(user, node: Node, end: dt.date, days: int = TREND_DAYS) -> dict:
    """Each figure's value on each of the `days` days ending at `end` (None: no report)."""
    day_list = [end - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    index = {d: i for i, d in enumerate(day_list)}
    series: dict[str, list[int | None]] = {k: [None] * days for k in registry.figure_keys()}
    rows = (
        _rows(user, node)
        .filter(day__range=(day_list[0], end))
        .values("day", "key")
        .annotate(v=Sum("value"))
    )
    for r in rows:
        series[r["key"]][index[r["day"]]] = r["v"]
    return {"days": day_list, "series": series}


def children_figures(user, node: Node, day: dt.date) -> list[tuple[Node, dict[str, int]]]:
    """The node's children with their figures of `day` (a grid: the grid itself)."""
    kids = [node] if node.level == "grid" else list(children(user, node))
    column = _child_column(node)
    keys = registry.figure_keys()
    values = {k.pk: dict.fromkeys(keys, 0) for k in kids}
    rows = _rows(user, node).filter(day=day).values(column, "key").annotate(v=Sum("value"))
    for r in rows:
        if r[column] in values:
            values[r[column]][r["key"]] = r["v"]
    return [(k, values[k.pk]) for k in kids]


def submission_flags(user, node: Node, day: dt.date, now: dt.datetime) -> dict:
    """Grids' submissions of `day` counted per child of `node` and in total: on time, late,
    and not submitted — `missing` once the freeze moment has passed, else `pending`."""
    column = _child_column(node)
    open_key = "missing" if now > freeze_moment(day) else "pending"
    rows = (
        GridReport.objects.restrict(user)
        .filter(**{_column(node.level): node.pk}, day=day)
        .values(column)
        .annotate(
            on_time=Count("id", filter=Q(submitted_at__isnull=False, late=False)),
            late=Count("id", filter=Q(late=True)),
            open=Count("id", filter=Q(submitted_at__isnull=True)),
        )
    )
    empty = {"on_time": 0, "late": 0, "missing": 0, "pending": 0}
    per_child: dict[int, dict[str, int]] = {}
    total = dict(empty)
    for r in rows:
        counts = dict(empty, on_time=r["on_time"], late=r["late"], **{open_key: r["open"]})
        per_child[r[column]] = counts
        for k, v in counts.items():
            total[k] += v
    return {"children": per_child, "total": total, "empty": empty}


def grid_report(user, grid: Node, day: dt.date) -> GridReport | None:
    return (
        GridReport.objects.restrict(user)
        .filter(grid_id=grid.pk, day=day)
        .select_related("submitted_by")
        .first()
    )


def laggards(user, node: Node, day: dt.date, limit: int = LAGGARDS) -> list[dict]:
    """The grids under `node` with the largest share of households left on `day` (then the
    most left): one GROUP BY grid_id over the day's rows, sorted and cut in the database."""
    keys = registry.figure_keys()
    if node.level == "grid" or LEFT_KEY not in keys:
        return []
    base_keys = [LEFT_KEY, SCREENED_KEY] if SCREENED_KEY in keys else ["households"]
    rows = (
        DailyFigure.objects.restrict(user)
        .filter(**{_column(node.level): node.pk}, day=day, key__in={LEFT_KEY, *base_keys})
        .values("grid_id")
        .annotate(
            left=Sum("value", filter=Q(key=LEFT_KEY)),
            base=Sum("value", filter=Q(key__in=base_keys)),
        )
        .filter(left__gt=0)
        .annotate(share=Cast("left", FloatField()) / NullIf(Cast("base", FloatField()), 0.0))
        .order_by(F("share").desc(nulls_last=True), "-left", "grid_id")[:limit]
    )
    rows = list(rows)
    names = dict(Node.objects.filter(pk__in=[r["grid_id"] for r in rows]).values_list("id", "name"))
    return [
        {
            "grid_id": r["grid_id"],
            "name": names.get(r["grid_id"], ""),
            "left": r["left"],
            "base": r["base"],
            "share": round(r["share"] or 0.0, 4),
        }
        for r in rows
    ]


def building_board(user, node: Node) -> dict | None:
    """The buildings of a community (or grid) by grid, each with its completion 0..1 from the
    registered building-status hook (None: nothing registered, drawn grey)."""
    if node.level not in ("community", "grid"):
        return None
    where = {_column(node.level): node.pk}
    grids = list(
        Node.objects.restrict(user)
        .filter(level="grid", **where)
        .order_by("code", "name")
        .values("id", "name")
    )
    buildings = list(
        Node.objects.restrict(user)
        .filter(level="building", **where)
        .order_by("code", "name")
        .values("id", "name", "grid_id")
    )
    hook = registry.building_status()
    status = hook.compute([b["id"] for b in buildings]) if hook and buildings else {}
    by_grid: dict[int, list[dict]] = {g["id"]: [] for g in grids}
    for b in buildings:
        value = status.get(b["id"])
        by_grid.setdefault(b["grid_id"], []).append(
            {
                "id": b["id"],
                "name": b["name"],
                "status": None if value is None else max(0.0, min(1.0, float(value))),
            }
        )
    return {
        "registered": hook is not None,
        "label": str(hook.label) if hook and hook.label else None,
        "grids": [dict(g, buildings=by_grid[g["id"]]) for g in grids],
    }


CONTROL_BOARD_LEVELS = ("street", "community", "grid")


def control_board(user, node: Node) -> dict | None:
    """The buildings of the login's part of `node` (a street, community or grid) by grid,
    each with its control level from the registered building-levels hook (strictest first;
    None: no level), and how many buildings stand at each level, in all and per grid."""
    hook = registry.building_levels()
    if hook is None or node.level not in CONTROL_BOARD_LEVELS:
        return None
    where = {_column(node.level): node.pk}
    grids = list(
        Node.objects.restrict(user)
        .filter(level="grid", **where)
        .order_by("path")
        .values("id", "name", "community__name")
    )
    buildings = list(
        Node.objects.restrict(user)
        .filter(level="building", **where)
        .order_by("path")
        .values("id", "name", "grid_id")
    )
    found = hook.compute([b["id"] for b in buildings]) if buildings else {}
    keys = [key for key, _label in hook.levels]
    rank = {key: i for i, key in enumerate(keys)}
    by_grid: dict[int, list[dict]] = {g["id"]: [] for g in grids}
    for b in buildings:
        level = found.get(b["id"])
        by_grid.setdefault(b["grid_id"], []).append(
            {"id": b["id"], "name": b["name"], "level": level, "rank": rank.get(level)}
        )

    def tally(tiles: list[dict]) -> list[int]:
        return [sum(1 for t in tiles if t["level"] == key) for key in keys]

    every = [t for tiles in by_grid.values() for t in tiles]
    return {
        "label": str(hook.label) if hook.label else None,
        "levels": [
            {"key": key, "label": str(label), "rank": i, "buildings": n}
            for i, ((key, label), n) in enumerate(zip(hook.levels, tally(every), strict=True))
        ],
        "buildings": len(every),
        "plain": sum(1 for t in every if t["level"] is None),
        "grids": [
            dict(
                g,
                community=g.pop("community__name") if node.level == "street" else None,
                buildings=by_grid[g["id"]],
                counts=tally(by_grid[g["id"]]),
            )
            for g in grids
        ],
    }


def module_labels() -> list[dict]:
    return [{"name": m.name, "label": m.title} for m in registry.modules()]


def figure_labels() -> list[dict]:
    return [
        {"key": f.key, "label": str(f.label), "module": m.name}
        for m in registry.modules()
        for f in m.figures
    ]


def report_table(user, node: Node, day: dt.date, now: dt.datetime) -> dict:
    """The ledger of `node` for `day`: one row per child with its figures and submission
    counts, and the total row."""
    rows = children_figures(user, node, day)
    flags = submission_flags(user, node, day, now)
    keys = registry.figure_keys()
    total = {k: sum(values[k] for _n, values in rows) for k in keys}
    return {
        "node": node,
        "day": day,
        "state": report_day(day),
        "figures": figure_labels(),
        "rows": [
            (child, values, flags["children"].get(child.pk, flags["empty"]))
            for child, values in rows
        ],
        "total": total,
        "flags": flags["total"],
    }


def dashboard_data(user, node: Node, day: dt.date, now: dt.datetime) -> dict:
    """Everything the command-centre page draws, JSON-ready."""
    trend = figure_trend(user, node, day)
    table = report_table(user, node, day, now)
    state = table["state"]
    current = {k: s[-1] for k, s in trend["series"].items()}
    previous = {k: s[-2] for k, s in trend["series"].items()}
    return {
        "node": {"id": node.pk, "name": node.name, "level": node.level},
        "day": day.isoformat(),
        "computed_at": state.computed_at.isoformat() if state and state.computed_at else None,
        "frozen_at": state.frozen_at.isoformat() if state and state.frozen_at else None,
        "freeze_at": freeze_moment(day).isoformat(),
        "figures": [
            dict(
                f,
                value=current[f["key"]] or 0,
                previous=previous[f["key"]],
                delta=None
                if previous[f["key"]] is None or current[f["key"]] is None
                else current[f["key"]] - previous[f["key"]],
            )
            for f in table["figures"]
        ],
        "modules": module_labels(),
        "trend": {"days": [d.isoformat() for d in trend["days"]], "series": trend["series"]},
        "children": [
            {
                "id": child.pk,
                "name": child.name,
                "level": child.level,
                "values": values,
                "flags": flags,
            }
            for child, values, flags in table["rows"]
        ],
        "flags": table["flags"],
        "laggards": laggards(user, node, day),
        "board": building_board(user, node),
        "control_board": control_board(user, node),
    }


def dashboard_figures(
    user,
    node: Node,
    day: dt.date,
    now: dt.datetime,
    draw: Callable[[dict], T] | None = None,
) -> tuple[dict | T, dt.datetime]:
    """`dashboard_data` (or what `draw` makes of it: the page's figures drawn once) from the
    figures cache: counted again when a report is computed, frozen or submitted, else at
    most once a minute per node, day, scope and language; and when it was counted."""
    return figures_cached(
        name=FIGURES,
        node=node,
        user=user,
        parts=(day.isoformat(), now > freeze_moment(day), "drawn" if draw else "data"),
        compute=lambda: (draw or _as_is)(dashboard_data(user, node, day, now)),
        now=now,
    )


def _as_is(data: dict) -> dict:
    return data


def reminders(user, grid_ids: list[int], day: dt.date) -> dict[int, object]:
    """The reminders sent to these grids for their report of `day`, by grid id (one each at
    most: `services.grid_report_remind`)."""
    reports = dict(
        GridReport.objects.restrict(user)
        .filter(grid_id__in=grid_ids, day=day)
        .values_list("pk", "grid_id")
    )
    sent = for_source(user, "reports.gridreport", list(reports))
    return {reports[report_id]: n for report_id, n in sent.items()}
