"""Control areas in the daily report and on the dashboard (issue 17 §4):

* per grid, the households under each level at the day's end — a household counts once, under
  the strictest level set on its community, grid, building or unit (areas in force then:
  started before the day ended, not lifted by then);
* per building, its strictest level now: set on the building, on one of its units, or on
  its grid or community (for the dashboard's building board)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bastion.geo.models import Household, Node
from bastion.incidents.models import STRICTNESS, ControlArea, ControlLevel

FIGURES = {
    "households_sealed": _("Households sealed"),
    "households_controlled": _("Households controlled"),
    "households_precaution": _("Households under precaution"),
}
KEY_OF = {
    ControlLevel.SEALED: "households_sealed",
    ControlLevel.CONTROLLED: "households_controlled",
    ControlLevel.PRECAUTION: "households_precaution",
}
_RANK = {level.value: rank for rank, level in enumerate(STRICTNESS)}


def _in_force_at(moment: dt.datetime):
    return ControlArea.objects.filter(since__lt=moment, reverted=False).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gte=moment)
    )


def _under(areas: list[tuple[str, int]]) -> Q:
    """Rows under any of `areas` ((node level, node id)): one IN per level of the tree."""
    by_level: dict[str, list[int]] = defaultdict(list)
    for level, pk in areas:
        by_level[level].append(pk)
    q = Q(pk__in=[])
    for level, ids in by_level.items():
        q |= Q(**{f"{level}_id__in": ids})
    return q


def daily_figures(day: dt.date, grid_ids: list[int]) -> dict[int, dict[str, int]]:
    end = timezone.make_aware(dt.datetime.combine(day, dt.time())) + dt.timedelta(days=1)
    areas: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for level, node_level, node_id in _in_force_at(end).values_list(
        "level", "node__level", "node_id"
    ):
        areas[level].append((node_level, node_id))
    out: dict[int, dict[str, int]] = {}
    stricter = Q(pk__in=[])
    for level in STRICTNESS:
        if not areas[level]:
            continue
        q = _under(areas[level])
        rows = (
            Household.objects.filter(q, grid_id__in=grid_ids)
            .exclude(stricter)
            .order_by()
            .values("grid_id")
            .annotate(n=Count("id"))
        )
        for r in rows:
            out.setdefault(r["grid_id"], {})[KEY_OF[level]] = r["n"]
        stricter |= q
    return out


def building_levels(building_ids: list[int]) -> dict[int, str]:
    """{building id: the strictest level in force now on it, its units, grid or community}
    for the buildings that have one."""
    if not building_ids:
        return {}
    buildings = list(
        Node.objects.filter(pk__in=building_ids).values_list("id", "community_id", "grid_id")
    )
    above = {pk for _b, c, g in buildings for pk in (c, g) if pk is not None}
    active = ControlArea.objects.filter(lifted_at__isnull=True)
    on_nodes = dict(
        active.filter(node_id__in=above | set(building_ids)).values_list("node_id", "level")
    )
    inside: dict[int, list[str]] = defaultdict(list)
    for building_id, level in active.filter(
        node__level="unit", node__building_id__in=building_ids
    ).values_list("node__building_id", "level"):
        inside[building_id].append(level)
    out = {}
    for building_id, community_id, grid_id in buildings:
        found = [on_nodes[pk] for pk in (building_id, community_id, grid_id) if pk in on_nodes]
        found += inside.get(building_id, [])
        if found:
            out[building_id] = min(found, key=_RANK.__getitem__)
    return out
