"""Reads of the tree shared by views, API, exports and reports. All take the user and scope."""

from django.db.models import Count, Q, QuerySet

from bastion.accounts.scope import get_scoped_or_404, root_node_ids
from bastion.geo.models import Household, Node, Resident, aged_cutoff, child_level

FLAG_FIELDS = ("immobile", "disabled", "chronic_illness", "pregnant", "infant")
COUNT_KEYS = ("households", "residents", "aged", *FLAG_FIELDS)


def node_for(user, node_id: int, action: str = "view") -> Node:
    return get_scoped_or_404(Node, user, action, pk=node_id)


def root_nodes(user) -> QuerySet[Node]:
    """The top nodes of a login's view: its role nodes, or the cities for a superuser."""
    if user.is_superuser:
        return Node.objects.filter(depth=1)
    return Node.objects.filter(pk__in=root_node_ids(user)).restrict(user)


def children(user, node: Node) -> QuerySet[Node]:
    return node.children().restrict(user).order_by("code", "name")


def ancestors(user, node: Node) -> list[Node]:
    """The breadcrumb: the ancestors of `node` the user may see."""
    return list(node.ancestors().restrict(user))


def _resident_counts(group_by: str, where: Q) -> dict[int, dict]:
    cutoff = aged_cutoff()
    aggregates = {"residents": Count("id"), "aged": Count("id", filter=Q(birth_date__lte=cutoff))}
    aggregates |= {f: Count("id", filter=Q(**{f: True})) for f in FLAG_FIELDS}
    rows = Resident.objects.filter(where).values(group_by).annotate(**aggregates)
    return {row.pop(group_by): row for row in rows}


def counts_by(level: str, node_ids: list[int]) -> dict[int, dict]:
    """Households, residents and flags for each node of one level: one GROUP BY per table on
    the ancestor column, never a tree walk."""
    column = f"{level}_id"
    where = Q(**{f"{column}__in": node_ids})
    result = {nid: dict.fromkeys(COUNT_KEYS, 0) for nid in node_ids}
    for nid, row in _resident_counts(column, where).items():
        result[nid].update(row)
    households = Household.objects.filter(where).values(column).annotate(n=Count("id"))
    for row in households:
        result[row[column]]["households"] = row["n"]
    return result


def node_counts(node: Node) -> dict:
    return counts_by(node.level, [node.pk])[node.pk]


def children_with_counts(user, node: Node) -> list[tuple[Node, dict]]:
    kids = list(children(user, node))
    level = child_level(node.level)
    if not kids or level is None:
        return [(k, {}) for k in kids]
    counts = counts_by(level, [k.pk for k in kids])
    return [(k, counts[k.pk]) for k in kids]


def descendants_count(node: Node) -> dict[str, int]:
    """How many nodes of each lower level the node holds."""
    rows = (
        node.subtree().filter(depth__gt=node.depth)
        .values("level").annotate(n=Count("id"))
    )
    return {row["level"]: row["n"] for row in rows}


def resident_search(user, text: str, *, limit: int = 50) -> QuerySet[Resident]:
    """Residents by name (substring), or by the last digits of ID or phone number."""
    text = text.strip().upper()
    qs = Resident.objects.restrict(user).select_related("household", "unit", "building")
    if not text:
        return qs.none()
    if text.rstrip("X").isdigit():
        match = Q(id_number__endswith=text) | Q(phone__endswith=text)
    else:
        match = Q(name__contains=text)
    return qs.filter(match).order_by("name", "id")[:limit]


def building_grid(building: Node) -> dict:
    """Units × floors × rooms of a building: {"units": [...], "floors": [top..bottom],
    "cells": {(unit_id, floor): [household, ...]}} with each household's resident count."""
    units = list(building.children().order_by("code", "name"))
    households = (
        Household.objects.filter(building_id=building.pk)
        .annotate(n_residents=Count("residents"))
        .order_by("floor", "room")
    )
    cells: dict[tuple[int, int], list] = {}
    floors: set[int] = set()
    for h in households:
        cells.setdefault((h.unit_id, h.floor), []).append(h)
        floors.add(h.floor)
    top = max(floors | {building.floors or 0}) if floors or building.floors else 0
    floor_list = sorted(floors | set(range(1, top + 1)), reverse=True)
    return {"units": units, "floors": floor_list, "cells": cells}
