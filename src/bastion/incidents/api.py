"""Control areas over JSON (mounted at /api/v1/incidents). Thin: reads from
`incidents.queries`, writes through `incidents.services`, rows through the scope."""

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.idempotency import create_once
from bastion.geo.models import Node
from bastion.incidents import queries, services
from bastion.incidents.models import ControlArea
from bastion.incidents.response import services as response

router = Router(tags=["incidents"])


class AreaIn(Schema):
    node_id: int = Field(description="A community, grid, building or unit.")
    level: Literal["sealed", "controlled", "precaution"]
    reason: str
    since: dt.datetime | None = Field(None, description="Now when left out.")
    client_id: UUID | None = None


class LiftIn(Schema):
    at: dt.datetime | None = Field(None, description="Now when left out.")


class AreaOut(Schema):
    id: int
    node_id: int
    node_name: str
    node_level: str
    level: str
    since: dt.datetime
    lifted_at: dt.datetime | None
    reason: str
    active: bool


class LevelOut(Schema):
    node_id: int
    level: str | None = Field(description="The strictest active level on the node or above.")
    area: AreaOut | None


def _out(a: ControlArea) -> dict:
    return {
        "id": a.pk,
        "node_id": a.node_id,
        "node_name": a.node.name,
        "node_level": a.node.level,
        "level": a.level,
        "since": a.since,
        "lifted_at": a.lifted_at,
        "reason": a.reason,
        "active": a.active,
    }


@router.get("/areas", response={200: list[AreaOut], **READ_ERRORS})
def area_list(request, node_id: int | None = None, active: bool = False):
    """The areas of the caller's part of the tree (under `node_id`), active first."""
    node = scope.get_scoped_or_404(Node, request.auth, pk=node_id) if node_id else None
    rows = queries.areas_under(request.auth, node, active_only=active)[:1000]
    return [_out(a) for a in rows]


@router.post("/areas", response={201: AreaOut, **WRITE_ERRORS})
def area_set(request, payload: AreaIn):
    """Put a node under a control level (lifting its previous level, if another)."""
    node = get_for_change(Node, request.auth, pk=payload.node_id)
    area, _created = create_once(
        ControlArea,
        payload.client_id,
        request.auth,
        lambda: services.control_set(
            actor=request.auth,
            node=node,
            level=payload.level,
            reason=payload.reason,
            since=payload.since,
            source="api",
        ),
    )
    return Status(201, _out(area))


@router.post("/areas/{area_id}/lift", response={200: AreaOut, **WRITE_ERRORS})
def area_lift(request, area_id: int, payload: LiftIn):
    """Lift a control area under the lifting rule (no new positive for N days, M negative
    rounds since): refused with the rule and the figures while it fails."""
    area = get_for_change(ControlArea.objects.select_related("node"), request.auth, pk=area_id)
    area = response.area_lift(actor=request.auth, area=area, at=payload.at, source="api")
    return _out(area)


@router.get("/levels/{node_id}", response={200: LevelOut, **READ_ERRORS})
def node_level(request, node_id: int):
    """A node's effective control level: the strictest set on it or above it."""
    node = scope.get_scoped_or_404(Node, request.auth, pk=node_id)
    area = queries.effective_area(node)
    return {
        "node_id": node.pk,
        "level": area.level if area else None,
        "area": _out(area) if area else None,
    }
