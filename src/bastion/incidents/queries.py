"""Reads of control areas, shared by the page, the API, the node page and mass testing.

The effective control level of a resident (or of any located row) is the strictest active
level on any of its ancestors: one query over the ancestor ids of a whole batch
(`active_levels`), then a lookup per row (`strictest_of`)."""

from collections.abc import Iterable

from django.db.models import F, QuerySet
from django.http import Http404

from bastion.core import rawsql
from bastion.core.scope import VIEW, seen_from_below_q
from bastion.geo.models import LEVEL_ORDER, Household, Node, Resident
from bastion.incidents.models import AREA_LEVELS, STRICTNESS, ControlArea

# Positions of the levels an area may sit on among the ancestor columns (city_id..unit_id).
AREA_COLUMNS = tuple(LEVEL_ORDER.index(level) for level in AREA_LEVELS)
_RANK = {level.value: rank for rank, level in enumerate(STRICTNESS)}


def areas_for(user, action: str = VIEW) -> QuerySet[ControlArea]:
    """Areas in the user's part of the tree, and (to see) the areas set on the nodes above
    it, which bind the user's residents too."""
    return ControlArea.objects.filter(seen_from_below_q(user, action)).select_related(
        "node", "set_by__person", "lifted_by__person"
    )


def area_for(user, pk: int, action: str = VIEW) -> ControlArea:
    """One area the user may see (or, with CHANGE, change); otherwise 404."""
    try:
        return areas_for(user, action).get(pk=pk)
    except (ControlArea.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def active_levels(node_ids: Iterable[int]) -> dict[int, str]:
    """{node id: level} of the active areas among `node_ids`: one query."""
    ids = {i for i in node_ids if i is not None}
    if not ids:
        return {}
    # Plain SQL: every scan asks this, and compiling the query cost more than running it.
    among, params = rawsql.any_of("node_id", sorted(ids))
    return dict(
        rawsql.rows(
            f"SELECT node_id, level FROM {rawsql.table(ControlArea)} "
            f"WHERE lifted_at IS NULL AND {among}",
            params,
        )
    )


def active_area_join(alias: str) -> str:
    """A LEFT JOIN of the active areas set on the nodes above the located rows `alias`
    (selectable as `ca.node_id, ca.level`): a row comes once per area over it, or once with
    NULLs. For hot reads that want people and their control levels in one statement."""
    columns = ", ".join(f"{alias}.{level}_id" for level in AREA_LEVELS)
    return (
        f"LEFT JOIN {rawsql.table(ControlArea)} ca "
        f"ON ca.lifted_at IS NULL AND ca.node_id IN ({columns})"
    )


def ancestor_ids(located: tuple) -> tuple:
    """The ids in a row's ancestor columns (city_id..unit_id) where an area may sit."""
    return tuple(located[i] for i in AREA_COLUMNS)


def strictest_of(ids: Iterable[int], levels: dict[int, str]) -> str | None:
    """The strictest of the levels set on `ids` (None: no control level)."""
    found = [levels[i] for i in ids if i in levels]
    return min(found, key=_RANK.__getitem__) if found else None


def effective_area(node: Node) -> ControlArea | None:
    """The active area that decides `node`'s level: the strictest on it or above it."""
    ids = [getattr(node, f"{level}_id") for level in AREA_LEVELS]
    areas = list(
        ControlArea.objects.filter(
            node_id__in=[i for i in ids if i], lifted_at__isnull=True
        ).select_related("node")
    )
    return min(areas, key=lambda a: (_RANK[a.level], -a.node.depth), default=None)


def areas_under(user, node: Node | None, *, active_only: bool = False) -> QuerySet[ControlArea]:
    """The user's areas in `node`'s subtree (all of them without a node), active first."""
    rows = areas_for(user)
    if node is not None:
        rows = rows.filter(**{f"{node.level}_id": node.pk})
    if active_only:
        rows = rows.filter(lifted_at__isnull=True)
    return rows.order_by("lifted_at", "-since", "-id")


def level_counts(user, node: Node | None = None) -> dict[str, int]:
    """{level: active areas} in the user's view (under `node`)."""
    counts = dict.fromkeys((lvl.value for lvl in STRICTNESS), 0)
    for level in areas_under(user, node, active_only=True).values_list("level", flat=True):
        counts[level] += 1
    return counts


def people_under(node: Node) -> dict[str, int]:
    """Households and residents under `node`: whom a change of its level reaches."""
    where = {f"{node.level}_id": node.pk}
    return {
        "households": Household.objects.filter(**where).count(),
        "residents": Resident.objects.filter(**where).count(),
    }


def level_after(node: Node, level: str | None) -> str | None:
    """The level `node`'s residents would be under if `node` itself were set to `level`
    (None: no area on it): the strictest of that and the areas above it."""
    above = [getattr(node, f"{lvl}_id") for lvl in AREA_LEVELS if lvl != node.level]
    levels = active_levels(above)
    found = [lvl for lvl in (strictest_of(above, levels), level) if lvl]
    return min(found, key=_RANK.__getitem__) if found else None


def active_on(node: Node) -> ControlArea | None:
    """The area set on `node` itself and in force."""
    return ControlArea.objects.filter(node=node, lifted_at__isnull=True).first()


def last_changes(areas: Iterable[ControlArea]) -> set[int]:
    """Which of `areas` are their node's last change (the one a revert undoes): the area in
    force, or with none in force the one lifted last; never a reverted one. One query, on
    the stored rows (not on the instances handed in)."""
    areas = list(areas)
    latest: dict[int, tuple[int, bool]] = {}
    for node_id, pk, reverted in (
        ControlArea.objects.filter(node_id__in={a.node_id for a in areas})
        .order_by("node_id", F("lifted_at").desc(nulls_first=True), "-since", "-id")
        .values_list("node_id", "pk", "reverted")
    ):
        latest.setdefault(node_id, (pk, reverted))
    return {pk for pk, reverted in latest.values() if not reverted} & {a.pk for a in areas}


def replaced_by(area: ControlArea) -> ControlArea | None:
    """The area of the same node that `area` replaced when it was set (lifted at the moment
    `area` started), if any."""
    return (
        ControlArea.objects.filter(node_id=area.node_id, lifted_at=area.since, reverted=False)
        .exclude(pk=area.pk)
        .order_by("-since", "-id")
        .first()
    )


def level_over_rows(rows: Iterable) -> list[str | None]:
    """The control level over each of `rows` (located rows: nodes, households, residents,
    errands...), in order: one query for the whole batch, never one per row."""
    rows = list(rows)
    ids = [tuple(getattr(r, f"{lvl}_id", None) for lvl in AREA_LEVELS) for r in rows]
    levels = active_levels(i for t in ids for i in t)
    return [strictest_of(t, levels) for t in ids]
