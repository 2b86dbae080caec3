"""Reads of supervision, shared by the pages, the API and the daily report: the findings a
login sees (through the scope), its own rectification tasks, the overdue list up the tree,
the ledger per node with the closure rate, repeated failures, and the daily figures (findings
open and overdue, patrols missed)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.core import scope
from bastion.core.levels import LEVEL_ORDER
from bastion.core.scope import NotFound
from bastion.geo.models import Node
from bastion.people.models import Post, PostRole
from bastion.supervision.models import (
    ChecklistItem,
    Finding,
    Inspection,
    Patrol,
    Photo,
    Status,
    SupervisionTeam,
)

FIGURES = {
    "findings_open": _("Findings open"),
    "findings_overdue": _("Findings overdue"),
    "patrols_missed": _("Daily patrols missed"),
}


# --------------------------------------------------------------------------- rows


def findings_for(user, action: str = scope.VIEW) -> QuerySet[Finding]:
    return Finding.objects.restrict(user, action).select_related(
        "inspection", "inspection__place", "inspection__target_building", "responsible", "item"
    )


def finding_for(user, pk, action: str = scope.VIEW) -> Finding:
    """A finding the login sees through the scope, or one it is responsible for."""
    own = Q(responsible__user=user) if getattr(user, "is_authenticated", False) else Q()
    q = scope.scope_q(user, action) | own if own else scope.scope_q(user, action)
    try:
        return (
            Finding.objects.filter(q)
            .select_related("inspection", "inspection__place", "inspection__target_building")
            .select_related("responsible", "item", "repeat_of")
            .get(pk=pk)
        )
    except (Finding.DoesNotExist, ValueError, TypeError):
        raise NotFound(Finding, {"pk": pk}) from None


def photo_for(user, finding_pk, pk) -> Photo:
    finding = finding_for(user, finding_pk)
    try:
        return Photo.objects.get(finding=finding, pk=pk)
    except (Photo.DoesNotExist, ValueError, TypeError):
        raise NotFound(Photo, {"pk": pk}) from None


def my_tasks(user) -> QuerySet[Finding]:
    """The login's own rectification tasks (it is the person responsible), open first."""
    if not getattr(user, "is_authenticated", False):
        return Finding.objects.none()
    return (
        Finding.objects.filter(responsible__user=user)
        .exclude(status=Status.CLOSED)
        .select_related("inspection", "inspection__place", "inspection__target_building")
        .order_by("status", "due_at", "pk")
    )


def teams_for(user) -> QuerySet[SupervisionTeam]:
    return SupervisionTeam.objects.filter(scope.seen_from_below_q(user)).prefetch_related(
        "members__person"
    )


def inspecting_teams(user) -> QuerySet[SupervisionTeam]:
    """The teams the login inspects with: those of its area (to change), and its own."""
    if not getattr(user, "is_authenticated", False):
        return SupervisionTeam.objects.none()
    mine = Q(members__person__user=user) if scope.has_action(user, scope.CHANGE) else Q(pk__in=[])
    return (
        SupervisionTeam.objects.filter(scope.scope_q(user, scope.CHANGE) | mine)
        .distinct()
        .order_by("name", "pk")
    )


def inspections_for(user) -> QuerySet[Inspection]:
    return Inspection.objects.restrict(user).select_related("team", "place", "target_building")


def checklist_items_for(user) -> QuerySet[ChecklistItem]:
    return ChecklistItem.objects.filter(scope.seen_from_below_q(user)).order_by(
        "kind", "node__depth", "position", "pk"
    )


# --------------------------------------------------------------------------- overdue, ledger


def overdue(user, node: Node | None = None, *, now: dt.datetime | None = None) -> list[Finding]:
    """Open findings past their deadline that the login sees (under `node`), oldest deadline
    first: the list a street or a community works through."""
    now = now or timezone.now()
    rows = findings_for(user).filter(status=Status.OPEN, due_at__lte=now)
    if node is not None:
        rows = rows.filter(**{f"{node.level}_id": node.pk})
    return list(rows.order_by("due_at", "pk"))


@dataclass
class LedgerLine:
    node: Node | None
    total: int
    closed: int
    open: int
    fixed: int
    overdue: int
    reopened: int
    repeated: int

    @property
    def closure_rate(self) -> float | None:
        return self.closed / self.total if self.total else None


def ledger(user, node: Node, *, now: dt.datetime | None = None) -> tuple[LedgerLine, list]:
    """The ledger (台账) of `node`: findings per child node (one GROUP BY on the child's
    column) and the whole, with the closure rate, the overdue, reopened and repeated."""
    now = now or timezone.now()
    index = LEVEL_ORDER.index(node.level)
    child = LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None
    rows = Finding.objects.restrict(user).filter(**{f"{node.level}_id": node.pk}).order_by()
    column = f"{child}_id" if child else f"{node.level}_id"
    grouped = rows.values(column).annotate(
        total=Count("id"),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
        open=Count("id", filter=Q(status=Status.OPEN)),
        fixed=Count("id", filter=Q(status=Status.FIXED)),
        overdue=Count("id", filter=Q(status=Status.OPEN, due_at__lte=now)),
        reopened=Count("id", filter=Q(reopened__gt=0)),
        repeated=Count("id", filter=Q(repeat_of__isnull=False)),
    )
    names = {n.pk: n for n in Node.objects.filter(pk__in=[r[column] for r in grouped])}
    keys = ("total", "closed", "open", "fixed", "overdue", "reopened", "repeated")
    lines = [
        LedgerLine(names.get(r[column]), *(r[k] for k in keys))
        for r in sorted(grouped, key=lambda r: getattr(names.get(r[column]), "path", ""))
    ]
    whole = LedgerLine(node, *(sum(getattr(line, k) for line in lines) for k in keys))
    return whole, lines


def repeated_failures(user, node: Node | None = None) -> QuerySet[Finding]:
    """Findings on an item the same place had failed before, newest first (accountability)."""
    rows = findings_for(user).filter(repeat_of__isnull=False).select_related("repeat_of")
    if node is not None:
        rows = rows.filter(**{f"{node.level}_id": node.pk})
    return rows.order_by("-found_at", "-pk")


# --------------------------------------------------------------------------- the daily report


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per grid, at the end of `day` (local): findings open (open or fix reported, found by
    then), those of them past their deadline, and buildings with a chief not patrolled."""
    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    result: dict[int, dict[str, int]] = {}
    rows = (
        Finding.objects.filter(grid_id__in=grid_ids, found_at__lt=end)
        .exclude(status=Status.CLOSED, rechecked_at__lt=end)
        .order_by()
        .values("grid_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(status=Status.OPEN, due_at__lt=end)),
        )
    )
    for r in rows:
        result.setdefault(r["grid_id"], {}).update(
            findings_open=r["open"], findings_overdue=r["overdue"]
        )
    chiefs = (
        Post.objects.filter(
            grid_id__in=grid_ids,
            role=PostRole.BUILDING_CHIEF,
            ended_on__isnull=True,
            started_on__lte=day,
        )
        .order_by()
        .values_list("grid_id", "node_id")
    )
    patrolled = set(
        Patrol.objects.filter(grid_id__in=grid_ids, day=day).values_list("building_id", flat=True)
    )
    for grid_id, building_id in chiefs:
        if building_id not in patrolled:
            figures = result.setdefault(grid_id, {})
            figures["patrols_missed"] = figures.get("patrols_missed", 0) + 1
    return result


def patrols_due(user, *, day: dt.date) -> list[tuple[Node, Patrol | None]]:
    """The buildings the login is chief of, each with its patrol of the day (or None)."""
    if not getattr(user, "is_authenticated", False):
        return []
    buildings = Node.objects.filter(
        posts__person__user=user,
        posts__role=PostRole.BUILDING_CHIEF,
        posts__ended_on__isnull=True,
    ).order_by("path")
    done = {p.building_id: p for p in Patrol.objects.filter(building__in=buildings, day=day)}
    return [(b, done.get(b.pk)) for b in buildings]
