"""Reads of the tree shared by views, API, exports and reports. All take the user and scope."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Case, Count, Q, QuerySet, When
from django.http import Http404
from django.utils.translation import gettext_lazy

from bastion.core.history import history_of
from bastion.core.privacy import number_search_q
from bastion.core.scope import VIEW, get_scoped_or_404, root_node_ids
from bastion.geo.changes import (
    FieldChange,
    field_changes,
    login_name,
    referenced_names,
    source_label,
)
from bastion.geo.models import (
    LEVEL_ORDER,
    Household,
    Level,
    Node,
    Relation,
    Resident,
    aged_cutoff,
    child_level,
)

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
    """How many nodes of each lower level the node holds. (The ordering by path that Node's
    manager adds is cleared: left in, it splits the GROUP BY into one row per node.)"""
    rows = (
        node.subtree()
        .filter(depth__gt=node.depth)
        .order_by()
        .values("level")
        .annotate(n=Count("id"))
    )
    return {row["level"]: row["n"] for row in rows}


# Lists of residents by what sets them apart (the search page's filters).
RESIDENT_FILTERS = {
    "elsewhere": (~Q(registered_address=""), gettext_lazy("Registered elsewhere")),
    "no_phone": (Q(no_phone=True), gettext_lazy("No phone")),
    "guardian": (Q(doc_kind="none"), gettext_lazy("Under guardian")),
    "other_document": (
        ~Q(doc_kind__in=["id_card", "none"]),
        gettext_lazy("Passport or permit"),
    ),
}


def resident_search(user, text: str, *, limit: int = 50, only: str = "") -> QuerySet[Resident]:
    """Residents by name (substring), by the last digits of ID, document or phone number, or a
    document number, as far as the user may see numbers (`core.privacy.number_search_q`:
    past the last four digits only where a reveal is, logged); narrowed by one of
    RESIDENT_FILTERS (which alone lists them all)."""
    text = text.strip().upper()
    qs = Resident.objects.restrict(user).select_related("household", "unit", "building", "grid")
    if only in RESIDENT_FILTERS:
        qs = qs.filter(RESIDENT_FILTERS[only][0])
    elif not text:
        return qs.none()
    if not text:
        match = Q()
    elif text.rstrip("X").isdigit():
        match = number_search_q(
            user=user, rows=qs, text=text, ending=("id_number", "phone", "doc_number")
        )
    else:
        match = Q(name__contains=text) | number_search_q(
            user=user, rows=qs, text=text, exact=("doc_number",)
        )
    return qs.filter(match).order_by("name", "id")[:limit]


def building_grid(building: Node) -> dict:
    """Units × floors × rooms of a building: {"units": [...], "floors": [top..bottom],
    "cells": {(unit_id, floor): [household, ...]}} with each household's resident count
    (`n_residents`), its counts of aged and flagged members (`n_aged`, `n_immobile`, ...) and
    its colour in the building view (`mark`, one of MARKS)."""
    units = list(building.children().order_by("code", "name"))
    households = (
        Household.objects.filter(building_id=building.pk)
        .annotate(**_household_figures())
        .order_by("floor", "room")
    )
    cells: dict[tuple[int, int], list] = {}
    floors: set[int] = set()
    for h in households:
        h.mark = household_mark(h)
        cells.setdefault((h.unit_id, h.floor), []).append(h)
        floors.add(h.floor)
    top = max(floors | {building.floors or 0}) if floors or building.floors else 0
    floor_list = sorted(floors | set(range(1, top + 1)), reverse=True)
    return {"units": units, "floors": floor_list, "cells": cells}


# --- Reads for the web pages (tree browser, building view, household and resident pages) ---

# A household's colour in the building view: the most urgent kind of member it holds.
MARKS = ("immobile", "aged", "care", "plain", "empty")
CARE_FLAGS = ("disabled", "chronic_illness", "pregnant", "infant")


def nodes_with_counts(nodes: Iterable[Node]) -> list[tuple[Node, dict]]:
    """Nodes of any levels with their figures: one grouped query per level and table."""
    nodes = list(nodes)
    by_level: dict[str, list[int]] = {}
    for n in nodes:
        by_level.setdefault(n.level, []).append(n.pk)
    counts: dict[int, dict] = {}
    for level, ids in by_level.items():
        counts |= counts_by(level, ids)
    return [(n, counts[n.pk]) for n in nodes]


def descendants_summary(node: Node) -> list[tuple[str, str, int]]:
    """(level, level label, how many) for every lower level, top down, zeros included."""
    counts = descendants_count(node)
    below = LEVEL_ORDER[LEVEL_ORDER.index(node.level) + 1 :]
    return [(level, Level(level).label, counts.get(level, 0)) for level in below]


def _household_figures() -> dict:
    cutoff = aged_cutoff()
    figures = {
        "n_residents": Count("residents"),
        "n_aged": Count("residents", filter=Q(residents__birth_date__lte=cutoff)),
    }
    figures |= {
        f"n_{f}": Count("residents", filter=Q(**{f"residents__{f}": True})) for f in FLAG_FIELDS
    }
    return figures


def household_mark(household: Household) -> str:
    """One of MARKS for a household annotated by `_household_figures`."""
    if not household.n_residents:
        return "empty"
    if household.n_immobile:
        return "immobile"
    if household.n_aged:
        return "aged"
    if any(getattr(household, f"n_{f}") for f in CARE_FLAGS):
        return "care"
    return "plain"


def unit_households(user, unit: Node) -> list[Household]:
    """The households of a unit, floor by floor, each with its resident figures and mark."""
    households = list(
        Household.objects.restrict(user)
        .filter(unit_id=unit.pk)
        .annotate(**_household_figures())
        .order_by("floor", "room")
    )
    for h in households:
        h.mark = household_mark(h)
    return households


def household_residents(user, household: Household) -> QuerySet[Resident]:
    """The residents of a household, head first, then by age."""
    head_first = Case(When(relation=Relation.HEAD, then=0), default=1)
    return (
        Resident.objects.restrict(user)
        .filter(household_id=household.pk)
        .order_by(head_first, "birth_date", "id")
    )


@dataclass
class BuildingPlan:
    """A building drawn as floors (rows, top floor first) × units (columns) of room cells."""

    units: list[Node]
    rows: list[tuple[int, list[list[Household]]]]
    marks: dict[str, int] = field(default_factory=dict)

    @property
    def households(self) -> int:
        return sum(self.marks.values())


def building_plan(building: Node) -> BuildingPlan:
    """`building_grid` reshaped for drawing: one row per floor, one cell per unit (two queries
    whatever the building's size)."""
    grid = building_grid(building)
    cells = grid["cells"]
    marks = dict.fromkeys(MARKS, 0)
    for households in cells.values():
        for h in households:
            marks[h.mark] += 1
    rows = [
        (floor, [cells.get((u.pk, floor), []) for u in grid["units"]]) for floor in grid["floors"]
    ]
    return BuildingPlan(units=grid["units"], rows=rows, marks=marks)


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor: str
    action: str
    source: str  # how it was made, in words
    changes: list[FieldChange]
    origin: str = ""  # `ChangeLog.source` as logged ("web", "api", "resident"...)


def change_history(
    user, obj: models.Model, extra_labels: Mapping[str, str] | None = None
) -> list[HistoryEntry]:
    """The change log of a row the user may see, newest first, as a person reads it
    (`geo.changes`: names in the UI's language, local times, referenced rows by name, numbers
    masked; a full number is shown only through a logged reveal)."""
    entries = list(history_of(obj).select_related("actor__person"))
    names = referenced_names(user, entries)
    return [
        HistoryEntry(
            at=e.at,
            actor=login_name(e.actor),
            action=e.action,
            source=source_label(e.source),
            changes=field_changes(e, names, extra_labels),
            origin=e.source,
        )
        for e in entries
    ]


def area_focus(user, area: Node, node_id: int | None = None) -> Node:
    """The node whose figures to show for work over `area` (a round, a campaign): the one
    asked for, in the user's view (a node holding the area shows the area itself), else the
    area if the user sees it, else the user's highest node inside it; 404 otherwise."""
    if node_id is not None:
        node = get_scoped_or_404(Node, user, VIEW, pk=node_id)
        if node.path.startswith(area.path):
            return node
        if area.path.startswith(node.path):
            return area  # inside a node the user sees, so seen too
        raise Http404
    if Node.objects.restrict(user).filter(pk=area.pk).exists():
        return area
    own = (
        Node.objects.filter(pk__in=root_node_ids(user), path__startswith=area.path)
        .order_by("depth", "path")
        .first()
    )
    if own is None:
        raise Http404
    return own
