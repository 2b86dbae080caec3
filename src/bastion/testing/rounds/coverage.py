"""Coverage of a round: who was expected, sampled, resulted, missing, at a node and its
children, and the missing list and home visits built on it.

Counting never walks the tree: coverage is one GROUP BY on the child level's ancestor column
of the residents and one of the scans, filtered by the round's area column and the node's
own column(s)."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from bastion.core.figcache import figures_cached
from bastion.geo.models import Household, Node, Presence, Resident, child_level
from bastion.testing.rounds.models import Round
from bastion.testing.rounds.projection import Projection, deadline_projection
from bastion.testing.scans.models import Result, Scan, ScanKind

T = TypeVar("T")


def area_where(round_: Round, node: Node) -> Q:
    """Rows of `node` inside the round's area: the area's column, the node's column, and the
    node's grid column (so the (round, grid) index serves building and unit level too)."""
    q = Q(**({f"{round_.node.level}_id": round_.node_id} | {f"{node.level}_id": node.pk}))
    if node.grid_id and node.level in ("building", "unit"):
        q &= Q(grid_id=node.grid_id)
    return q


def _counted_scans(round_: Round) -> QuerySet[Scan]:
    return Scan.objects.filter(
        round=round_, kind=ScanKind.RESIDENT, retest=False, voided_at__isnull=True
    )


COVERAGE_KEYS = ("expected", "sampled", "resulted", "positive", "missing", "away", "moved_out")


def _figures(expected: dict | None, scans: dict | None) -> dict:
    row = dict.fromkeys(COVERAGE_KEYS, 0)
    row.update(expected or {})
    row.update(scans or {})
    row["missing"] = max(row["expected"] - row["sampled"], 0)
    row["percent"] = (
        min(100, round(100 * row["sampled"] / row["expected"])) if row["expected"] else 0
    )
    return row


def _grouped(rows: QuerySet, group_by: str | None, aggregates: dict) -> dict:
    if group_by is None:
        return {None: rows.aggregate(**aggregates)}
    return {r.pop(group_by): r for r in rows.values(group_by).annotate(**aggregates)}


def coverage_counts(user, round_: Round, node: Node, group_by: str | None = None) -> dict:
    """{group: figures} for `node` in `round_` (one group, None, without `group_by`):
    expected (residents present), away and moved out (excluded), sampled, resulted,
    positive, missing. Two grouped queries."""
    where = area_where(round_, node)
    residents = Resident.objects.restrict(user).filter(where)
    expected = _grouped(
        residents,
        group_by,
        {
            "expected": Count("id", filter=Q(presence=Presence.HOME)),
            "away": Count("id", filter=Q(presence=Presence.AWAY)),
            "moved_out": Count("id", filter=Q(presence=Presence.MOVED_OUT)),
        },
    )
    scans = _grouped(
        _counted_scans(round_).restrict(user).filter(where),
        group_by,
        {
            "sampled": Count("id"),
            "resulted": Count("id", filter=Q(result__in=[Result.NEGATIVE, Result.POSITIVE])),
            "positive": Count("id", filter=Q(result=Result.POSITIVE)),
        },
    )
    keys = set(expected) | set(scans)
    return {k: _figures(expected.get(k), scans.get(k)) for k in keys}


@dataclass
class Coverage:
    round: Round
    node: Node
    totals: dict
    children: list[tuple[Node, dict]]
    walk_ins: int = 0


def coverage(user, round_: Round, node: Node) -> Coverage:
    """The round's figures at `node` and at each of its children."""
    totals = coverage_counts(user, round_, node).get(None) or _figures(None, None)
    children: list[tuple[Node, dict]] = []
    level = child_level(node.level)
    if level:
        by_child = coverage_counts(user, round_, node, f"{level}_id")
        by_child.pop(None, None)
        kids = Node.objects.filter(pk__in=list(by_child)).order_by("code", "name", "pk")
        children = [(kid, by_child[kid.pk]) for kid in kids]
    walk_ins = 0
    if node.pk == round_.node_id or round_.node.path.startswith(node.path):
        walk_ins = (
            Scan.objects.restrict(user)
            .filter(round=round_, kind=ScanKind.WALK_IN, voided_at__isnull=True, retest=False)
            .count()
        )
    return Coverage(round_, node, totals, children, walk_ins)


# The round page's figures in the figures cache (`core.figcache`). Scans arrive all day, so
# they are counted again once a minute, not at each scan.
FIGURES = "testing.coverage"


def _round_fingerprint(round_: Round) -> str:
    """The round's own settings (deadline, pooling, custody hours...): an edit to the round
    leaves the figures drawn with the old ones behind."""
    return repr([f.value_from_object(round_) for f in round_._meta.concrete_fields])


def round_figures(
    user,
    round_: Round,
    node: Node,
    *,
    now: dt.datetime,
    projected: bool,
    draw: Callable[[Coverage, Projection | None, dt.datetime], T],
) -> tuple[T, dt.datetime]:
    """The round page's coverage at `node` and (when `projected`) its deadline projection,
    as `draw(coverage, projection, counted_at)` makes them into what the page shows: counted
    and drawn at most once a minute per round, node, scope and language. Also answers when
    they were counted."""

    def compute() -> T:
        cov = coverage(user, round_, node)
        late = deadline_projection(user, round_, node, now) if projected else None
        return draw(cov, late, now)

    return figures_cached(
        name=FIGURES,
        node=node,
        user=user,
        parts=(round_.pk, projected, _round_fingerprint(round_)),
        compute=compute,
        now=now,
    )


# ------------------------------------------------------------------------- missing list


def sampled_in(round_: Round) -> Exists:
    return Exists(_counted_scans(round_).filter(resident_id=OuterRef("pk")))


def missing_residents(user, round_: Round, node: Node) -> QuerySet[Resident]:
    """Residents of `node` present and expected in the round and not (validly) sampled: the
    missing list (漏检), in building, unit, floor, room order."""
    return (
        Resident.objects.restrict(user)
        .filter(area_where(round_, node), presence=Presence.HOME)
        .exclude(sampled_in(round_))
        .select_related("household", "unit", "building", "grid")
        .order_by("building__path", "unit__path", "household__floor", "household__room", "pk")
    )


@dataclass
class HouseholdGroup:
    household: Household
    residents: list[Resident] = field(default_factory=list)


@dataclass
class UnitGroup:
    unit: Node
    building: Node
    households: list[HouseholdGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(h.residents) for h in self.households)


def group_by_unit(residents) -> list[UnitGroup]:
    """Residents (ordered by place) grouped by unit, then household."""
    units: list[UnitGroup] = []
    for r in residents:
        if not units or units[-1].unit.pk != r.unit_id:
            units.append(UnitGroup(r.unit, r.building))
        group = units[-1]
        if not group.households or group.households[-1].household.pk != r.household_id:
            group.households.append(HouseholdGroup(r.household))
        group.households[-1].residents.append(r)
    return units


def missing_list(
    user, round_: Round, node: Node, *, limit: int = 2000
) -> tuple[list[UnitGroup], int]:
    """The missing list grouped by unit and household (at most `limit` residents), and how
    many are missing in all."""
    rows = missing_residents(user, round_, node)
    total = rows.count()
    return group_by_unit(rows[:limit]), total


def excluded_residents(user, round_: Round, node: Node, *, limit: int = 500) -> QuerySet[Resident]:
    """Residents of the area not expected, with their reason (away, moved out)."""
    return (
        Resident.objects.restrict(user)
        .filter(area_where(round_, node))
        .exclude(presence=Presence.HOME)
        .select_related("household", "unit", "building")
        .order_by("presence", "building__path", "unit__path", "household__room", "pk")[:limit]
    )


def home_visit_residents(user, round_: Round, node: Node) -> QuerySet[Resident]:
    """Residents who cannot come out (immobile or disabled), present and not yet sampled, in
    place order."""
    return missing_residents(user, round_, node).filter(Q(immobile=True) | Q(disabled=True))


def home_visits(user, round_: Round, node: Node) -> list[UnitGroup]:
    """The home-sampling team's list for a grid (or any node), grouped by unit."""
    return group_by_unit(home_visit_residents(user, round_, node))
