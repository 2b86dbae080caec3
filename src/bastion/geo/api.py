"""The tree, households, residents and command zones over JSON (mounted at /api/v1/geo).

Thin: rows are fetched through the scope (`get_scoped_or_404` / `.restrict`), reads come from
geo.queries, writes go through geo.services. ID and phone numbers are masked; one can be shown
in full through `reveal`, which is logged."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_schema import Patch
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.idempotency import create_once
from bastion.core.privacy import personal_data_reveal
from bastion.geo import queries, services
from bastion.geo.identity import mask_document, mask_id_number, mask_mobile
from bastion.geo.models import (
    LEVEL_ORDER,
    CommandZone,
    DocKind,
    Household,
    Node,
    Presence,
    Relation,
    Resident,
    ZoneBuilding,
)

router = Router(tags=["geo"])


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class NodeRef(Schema):
    id: int
    name: str
    level: str


class CountsOut(Schema):
    households: int = 0
    residents: int = 0
    aged: int = Field(0, description="Residents aged 60 or more.")
    immobile: int = 0
    disabled: int = 0
    chronic_illness: int = 0
    pregnant: int = 0
    infant: int = 0


class NodeOut(Schema):
    id: int
    name: str
    level: str
    code: str
    floors: int | None
    parent_id: int | None
    counts: CountsOut


class NodeDetailOut(NodeOut):
    ancestors: list[NodeRef] = Field(description="The ancestors the caller may see, top first.")
    descendants: dict[str, int] = Field(description="How many nodes of each lower level.")
    can_change: bool


class HouseholdRef(Schema):
    id: int
    room: str
    floor: int


class ResidentOut(Schema):
    id: int
    name: str
    sex: str
    age: int
    aged: bool
    id_number: str = Field(description="Masked; POST …/reveal shows it in full.")
    phone: str = Field(description="Masked; POST …/reveal shows it in full.")
    doc_kind: DocKind
    doc_number: str = Field(description="Masked; POST …/reveal shows it in full.")
    guardian_id: int | None
    no_phone: bool
    registered_address: str
    relation: str
    presence: str
    immobile: bool
    disabled: bool
    chronic_illness: bool
    pregnant: bool
    infant: bool
    household: HouseholdRef
    unit_id: int
    building_id: int
    grid_id: int | None
    can_reveal: bool
    client_id: UUID | None


class ResidentIn(Schema):
    name: str
    id_number: str = Field("", description="The ID card's number (document kind id_card).")
    doc_kind: DocKind = DocKind.ID_CARD
    doc_number: str = Field("", description="The number of any other document.")
    birth_date: dt.date | None = Field(None, description="For documents that do not carry it.")
    sex: Literal["M", "F"] | None = Field(None, description="For documents that do not carry it.")
    guardian_id: int | None = Field(None, description="An adult of the same household.")
    no_phone: bool = False
    registered_address: str = Field("", max_length=200, description="Blank: registered here.")
    phone: str = ""
    relation: Relation = Relation.HEAD
    presence: Presence = Presence.HOME
    immobile: bool = False
    disabled: bool = False
    chronic_illness: bool = False
    pregnant: bool = False
    infant: bool = False
    client_id: UUID | None = Field(
        None, description="Made by the device; a retry with the same id returns the same row."
    )


class ResidentPatchIn(Patch):
    """Only the fields sent change; null is refused except where it clears (a guardian)."""

    name: str = None
    id_number: str = None
    doc_kind: DocKind = None
    doc_number: str = None
    birth_date: dt.date = None
    sex: Literal["M", "F"] = None
    guardian_id: int | None = Field(None, description="null: no guardian.")
    no_phone: bool = None
    registered_address: str = Field(None, max_length=200)
    phone: str = Field(None, description='"" when the resident has no phone (with no_phone).')
    relation: Relation = None
    presence: Presence = None
    immobile: bool = None
    disabled: bool = None
    chronic_illness: bool = None
    pregnant: bool = None
    infant: bool = None
    household_id: int = Field(None, description="Move the resident to this household.")


class RevealIn(Schema):
    field: str = Field(description='"id_number", "doc_number" or "phone"')


class RevealOut(Schema):
    field: str
    value: str


class HouseholdOut(Schema):
    id: int
    room: str
    floor: int
    unit: NodeRef
    building: NodeRef
    grid_id: int | None
    client_id: UUID | None
    residents: list[ResidentOut]


class HouseholdIn(Schema):
    room: str
    floor: int
    client_id: UUID | None = Field(
        None, description="Made by the device; a retry with the same id returns the same row."
    )


class GridHouseholdOut(Schema):
    id: int
    room: str
    residents: int


class GridCellOut(Schema):
    unit_id: int
    floor: int
    households: list[GridHouseholdOut]


class BuildingGridOut(Schema):
    building: NodeRef
    units: list[NodeRef]
    floors: list[int] = Field(description="Top floor first.")
    cells: list[GridCellOut]


class ZoneOut(Schema):
    id: int
    name: str
    kind: str
    street_id: int
    buildings: list[NodeRef]


# --------------------------------------------------------------------------------------------
# Shaping rows
# --------------------------------------------------------------------------------------------


def _parent_id(node: Node) -> int | None:
    index = LEVEL_ORDER.index(node.level)
    return getattr(node, f"{LEVEL_ORDER[index - 1]}_id") if index else None


def _node_out(node: Node, counts: dict) -> dict:
    return {
        "id": node.pk,
        "name": node.name,
        "level": node.level,
        "code": node.code,
        "floors": node.floors,
        "parent_id": _parent_id(node),
        "counts": counts,
    }


def _ref(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def _revealable(user, residents: list[Resident]) -> set[int]:
    return set(
        Resident.objects.restrict(user, scope.REVEAL)
        .filter(pk__in=[r.pk for r in residents])
        .values_list("pk", flat=True)
    )


def _resident_out(r: Resident, revealable: set[int]) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "sex": r.sex,
        "age": r.age,
        "aged": r.aged,
        "id_number": mask_id_number(r.id_number or ""),
        "phone": mask_mobile(r.phone),
        "doc_kind": r.doc_kind,
        "doc_number": mask_document(r.doc_number),
        "guardian_id": r.guardian_id,
        "no_phone": r.no_phone,
        "registered_address": r.registered_address,
        "relation": r.relation,
        "presence": r.presence,
        "immobile": r.immobile,
        "disabled": r.disabled,
        "chronic_illness": r.chronic_illness,
        "pregnant": r.pregnant,
        "infant": r.infant,
        "household": {"id": r.household_id, "room": r.household.room, "floor": r.household.floor},
        "unit_id": r.unit_id,
        "building_id": r.building_id,
        "grid_id": r.grid_id,
        "can_reveal": r.pk in revealable,
        "client_id": r.client_id,
    }


def _guardian_field(user, fields: dict) -> dict:
    """A guardian given by id is fetched within the user's scope (404 outside it)."""
    if "guardian_id" in fields:
        guardian_id = fields.pop("guardian_id")
        fields["guardian"] = _resident(user, guardian_id) if guardian_id else None
    return fields


def _residents_out(user, residents) -> list[dict]:
    residents = list(residents)
    revealable = _revealable(user, residents)
    return [_resident_out(r, revealable) for r in residents]


def _resident(user, resident_id: int, action: str = scope.VIEW) -> Resident:
    qs = Resident.objects.select_related("household")
    if action == scope.CHANGE:
        return get_for_change(qs, user, pk=resident_id)
    return scope.get_scoped_or_404(qs, user, action, pk=resident_id)


# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------


@router.get("/nodes", response=list[NodeOut])
def node_roots(request):
    """The top nodes of the caller's view (its role nodes), with their counts."""
    roots = queries.root_nodes(request.user).order_by("path")
    return [_node_out(n, counts) for n, counts in queries.nodes_with_counts(roots)]


@router.get("/nodes/{node_id}", response={200: NodeDetailOut, **READ_ERRORS})
def node_detail(request, node_id: int):
    """One node: its counts, the ancestors the caller may see, and how many nodes of each
    lower level it holds."""
    node = queries.node_for(request.user, node_id)
    return {
        **_node_out(node, queries.node_counts(node)),
        "ancestors": [_ref(a) for a in queries.ancestors(request.user, node)],
        "descendants": queries.descendants_count(node),
        "can_change": scope.can(request.user, scope.CHANGE, node),
    }


@router.get("/nodes/{node_id}/children", response={200: list[NodeOut], **READ_ERRORS})
def node_children(request, node_id: int):
    """The node's children the caller may see, each with its counts."""
    node = queries.node_for(request.user, node_id)
    return [
        _node_out(child, counts or {})
        for child, counts in queries.children_with_counts(request.user, node)
    ]


@router.get("/buildings/{building_id}/grid", response={200: BuildingGridOut, **READ_ERRORS})
def building_grid(request, building_id: int):
    """A building drawn as units × floors: the households of each cell and how many
    residents each holds."""
    building = scope.get_scoped_or_404(Node, request.user, pk=building_id, level="building")
    grid = queries.building_grid(building)
    return {
        "building": _ref(building),
        "units": [_ref(u) for u in grid["units"]],
        "floors": grid["floors"],
        "cells": [
            {
                "unit_id": unit_id,
                "floor": floor,
                "households": [
                    {"id": h.pk, "room": h.room, "residents": h.n_residents} for h in households
                ],
            }
            for (unit_id, floor), households in sorted(grid["cells"].items())
        ],
    }


# --------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------


@router.get("/residents", response=list[ResidentOut])
def resident_search(request, q: str, limit: int = Query(50, ge=1, le=200)):
    """Residents by name (part of it), or by the last digits of their ID or phone number: past
    the last four (what the masks show) only residents the caller may reveal, and logged as a
    reveal."""
    return _residents_out(request.user, queries.resident_search(request.user, q, limit=limit))


@router.get("/residents/{resident_id}", response={200: ResidentOut, **READ_ERRORS})
def resident_detail(request, resident_id: int):
    resident = _resident(request.user, resident_id)
    return _residents_out(request.user, [resident])[0]


@router.post(
    "/households/{household_id}/residents",
    response={201: ResidentOut, 200: ResidentOut, **WRITE_ERRORS},
)
def resident_create(request, household_id: int, payload: ResidentIn):
    """Register a resident in a household. Bad input is answered with 422 and every problem,
    each naming its field; nothing is written. A retry with the same `client_id` returns the
    resident the first request made (200)."""
    household = get_for_change(Household, request.user, pk=household_id)
    fields = _guardian_field(request.user, payload.dict(exclude={"client_id"}))
    resident, created = create_once(
        Resident,
        payload.client_id,
        request.user,
        lambda: services.resident_create(
            household=household,
            actor=request.user,
            source="api",
            client_id=payload.client_id,
            **fields,
        ),
    )
    return Status(201 if created else 200, _residents_out(request.user, [resident])[0])


@router.patch("/residents/{resident_id}", response={200: ResidentOut, **WRITE_ERRORS})
def resident_update(request, resident_id: int, payload: ResidentPatchIn):
    """Change the given fields of a resident (all or nothing; 422 names each bad field).
    Sending the same change again changes nothing."""
    resident = _resident(request.user, resident_id, scope.CHANGE)
    fields = _guardian_field(request.user, payload.dict(exclude_unset=True))
    if "household_id" in fields:
        household_id = fields.pop("household_id")
        fields["household"] = get_for_change(Household, request.user, pk=household_id)
    resident = services.resident_update(
        resident=resident, actor=request.user, source="api", **fields
    )
    resident = Resident.objects.select_related("household").get(pk=resident.pk)
    return _residents_out(request.user, [resident])[0]


@router.post("/residents/{resident_id}/reveal", response={200: RevealOut, **WRITE_ERRORS})
def resident_reveal(request, resident_id: int, payload: RevealIn):
    """Show one of a resident's numbers in full. Only roles that need it may; each reveal is
    logged (who, whom, when)."""
    resident = _resident(request.user, resident_id)
    value = personal_data_reveal(
        user=request.user, subject=resident, field=payload.field, via="api"
    )
    return {"field": payload.field, "value": value}


# --------------------------------------------------------------------------------------------
# Households
# --------------------------------------------------------------------------------------------


def _household_out(user, household: Household) -> dict:
    residents = household.residents.select_related("household").order_by("id")
    return {
        "id": household.pk,
        "room": household.room,
        "floor": household.floor,
        "unit": _ref(household.unit),
        "building": _ref(household.building),
        "grid_id": household.grid_id,
        "client_id": household.client_id,
        "residents": _residents_out(user, residents),
    }


@router.get("/households/{household_id}", response={200: HouseholdOut, **READ_ERRORS})
def household_detail(request, household_id: int):
    """A household and its residents (numbers masked)."""
    household = scope.get_scoped_or_404(
        Household.objects.select_related("unit", "building"), request.user, pk=household_id
    )
    return _household_out(request.user, household)


@router.post(
    "/units/{unit_id}/households", response={201: HouseholdOut, 200: HouseholdOut, **WRITE_ERRORS}
)
def household_create(request, unit_id: int, payload: HouseholdIn):
    """Add a household (room, floor) on a unit. A retry with the same `client_id` returns the
    household the first request made (200)."""
    unit = get_for_change(Node, request.user, pk=unit_id)
    household, created = create_once(
        Household,
        payload.client_id,
        request.user,
        lambda: services.household_create(
            unit=unit, room=payload.room, floor=payload.floor, actor=request.user, source="api"
        ),
    )
    household = Household.objects.select_related("unit", "building").get(pk=household.pk)
    return Status(201 if created else 200, _household_out(request.user, household))


# --------------------------------------------------------------------------------------------
# Command zones
# --------------------------------------------------------------------------------------------


def _zones_out(zones) -> list[dict]:
    zones = zones.prefetch_related(
        Prefetch(
            "memberships",
            ZoneBuilding.objects.select_related("building").order_by("building__path"),
        )
    )
    return [
        {
            "id": z.pk,
            "name": z.name,
            "kind": z.kind,
            "street_id": z.street_id,
            "buildings": [_ref(m.building) for m in z.memberships.all()],
        }
        for z in zones
    ]


@router.get("/zones", response={200: list[ZoneOut], **READ_ERRORS})
def zone_list(request, node: int | None = None):
    """The command zones the caller may see, each with its buildings; with `node`, only the
    zones of that node's streets."""
    zones = CommandZone.objects.restrict(request.user)
    if node is not None:
        place = queries.node_for(request.user, node)
        if place.level not in ("city", "district", "street"):
            zones = zones.none()
        else:
            zones = zones.filter(**{f"{place.level}_id": place.pk})
    return _zones_out(zones.order_by("street_id", "name"))


@router.get("/zones/{zone_id}", response={200: ZoneOut, **READ_ERRORS})
def zone_detail(request, zone_id: int):
    scope.get_scoped_or_404(CommandZone, request.user, pk=zone_id)
    return _zones_out(CommandZone.objects.filter(pk=zone_id))[0]
