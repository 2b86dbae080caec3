"""Orders over JSON (mounted at /api/v1/orders): issue one, the orders of the caller's area
with their tallies, the board with its call list, and the recipient's own rows: acknowledge
(one tap, a client id makes a retry harmless) and report done (a note, an optional photo).
Thin: reads in `orders.queries`, writes in `orders.services`."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Page, get_for_change
from bastion.core.idempotency import replayed
from bastion.core.photos import photos_check
from bastion.geo.models import Node
from bastion.orders import queries, services
from bastion.orders.models import Order, Priority, Recipient
from bastion.people.mobilization.models import Team

router = Router(tags=["orders"])


class OrderIn(Schema):
    node_id: int
    title: str = Field(max_length=120)
    text: str = Field("", max_length=5000)
    priority: Literal["flash", "urgent", "routine"] = Priority.ROUTINE.value
    roles: list[str] = Field(max_length=20)
    team_id: int | None = None
    ack_minutes: int = Field(services.ACK_MINUTES, ge=1, le=24 * 60)
    due_at: dt.datetime
    client_id: UUID | None = None


class TallyOut(Schema):
    total: int
    acknowledged: int
    done: int
    escalated: int


class OrderOut(Schema):
    id: int
    node_id: int
    title: str
    text: str
    priority: str
    roles: list[str]
    team_id: int | None
    issued_at: dt.datetime
    ack_by: dt.datetime
    due_at: dt.datetime
    recipient_count: int
    tally: TallyOut | None = None


class LineOut(Schema):
    community: str
    grid: str
    tally: TallyOut


class CallOut(Schema):
    recipient_id: int
    person_id: int
    name: str
    role: str
    node_id: int
    phone: str
    above_person_id: int | None
    above_name: str
    above_phone: str


class BoardOut(Schema):
    order: OrderOut
    tally: TallyOut
    lines: list[LineOut]
    calls: list[CallOut]


class MineOut(Schema):
    id: int
    order: OrderOut
    role: str
    acknowledged_at: dt.datetime | None
    done_at: dt.datetime | None
    done_note: str
    has_photo: bool


class AcknowledgeIn(Schema):
    client_id: UUID | None = None


def _tally(t: queries.Tally | None) -> dict | None:
    if t is None:
        return None
    return {"total": t.total, "acknowledged": t.acknowledged, "done": t.done, "escalated": t.late}


def _order(o: Order, tally: queries.Tally | None = None) -> dict:
    return {
        "id": o.pk,
        "node_id": o.node_id,
        "title": o.title,
        "text": o.text,
        "priority": o.priority,
        "roles": o.roles,
        "team_id": o.team_id,
        "issued_at": o.issued_at,
        "ack_by": o.ack_by,
        "due_at": o.due_at,
        "recipient_count": o.recipient_count,
        "tally": _tally(tally),
    }


def _mine(r: Recipient) -> dict:
    return {
        "id": r.pk,
        "order": _order(r.order),
        "role": r.role,
        "acknowledged_at": r.acknowledged_at,
        "done_at": r.done_at,
        "done_note": r.done_note,
        "has_photo": bool(r.done_photo),
    }


@router.post("", response={201: OrderOut, 200: OrderOut, **WRITE_ERRORS})
def order_issue(request, payload: OrderIn):
    """Issue an order to the holders of `roles` (post roles, or "team" with `team_id`) in the
    subtree of `node_id`; refused naming the field when it would reach nobody, has no title
    or a deadline has passed. A retry with the same `client_id` answers the first order."""
    user = request.user
    node = get_for_change(Node, user, pk=payload.node_id)
    team = (
        scope.get_scoped_or_404(Team, user, pk=payload.team_id)
        if payload.team_id is not None
        else None
    )
    replay = replayed(Order, payload.client_id, user) is not None
    now = timezone.now()
    order = services.order_issue_once(
        client_id=payload.client_id,
        actor=user,
        node=node,
        title=payload.title,
        text=payload.text,
        priority=payload.priority,
        roles=payload.roles,
        team=team,
        ack_by=now + dt.timedelta(minutes=payload.ack_minutes),
        due_at=payload.due_at,
        at=now,
        source="api",
    )
    return Status(200 if replay else 201, _order(order))


@router.get("", response=list[OrderOut])
def orders(request, page: Query[Page]):
    """Orders issued in the caller's area (and above it), newest first, with the tallies of
    the rows the caller sees."""
    rows = list(queries.orders_for(request.user)[page.offset : page.offset + page.limit])
    tallies = queries.tallies(request.user, rows, now=timezone.now())
    return [_order(o, tallies.get(o.pk)) for o in rows]


@router.get("/mine", response=list[MineOut])
def mine(request, page: Query[Page]):
    """The caller's own rows: the orders that reached them, open ones first."""
    return [_mine(r) for r in queries.my_rows(request.user)[page.offset : page.offset + page.limit]]


@router.get("/{order_id}/board", response={200: BoardOut, **READ_ERRORS})
def board(request, order_id: int):
    """Acknowledged / not / done per community and grid, and the call list of those not
    acknowledged past the deadline with the chief above each (numbers masked: the logged
    reveal is /api/v1/people/persons/{person_id}/reveal)."""
    user = request.user
    order = queries.order_for(user, order_id)
    now = timezone.now()
    services.order_escalate(order=order, now=now)
    b = queries.board(user, order, now=now)
    return {
        "order": _order(order, b.tally),
        "tally": _tally(b.tally),
        "lines": [
            {"community": line.community, "grid": line.grid, "tally": _tally(line.tally)}
            for line in b.lines
        ],
        "calls": [
            {
                "recipient_id": c.row.pk,
                "person_id": c.row.person_id,
                "name": c.row.person.name,
                "role": c.row.role,
                "node_id": c.row.node_id,
                "phone": c.phone,
                "above_person_id": c.row.above_id,
                "above_name": c.row.above.name if c.row.above_id else "",
                "above_phone": c.above_phone,
            }
            for c in queries.call_list(user, order, now=now)
        ],
    }


@router.post("/{order_id}/acknowledge", response={200: MineOut, **WRITE_ERRORS})
def acknowledge(request, order_id: int, payload: AcknowledgeIn):
    """The caller has the order (again: no change, the first time stays)."""
    row = queries.my_row(request.user, order_id)
    row = services.order_acknowledge(
        actor=request.user, recipient=row, client_id=payload.client_id, source="api"
    )
    return _mine(row)


@router.post("/{order_id}/done", response={200: MineOut, **WRITE_ERRORS})
def done(
    request,
    order_id: int,
    note: Form[str],
    photo: File[UploadedFile] = None,
):
    """The caller's work on the order is done: a note, and a photo (JPEG, PNG or WebP, 5 MB)."""
    row = queries.my_row(request.user, order_id)
    checked = photos_check([photo], field="photo") if photo else []
    row = services.order_done(
        actor=request.user,
        recipient=row,
        note=note,
        photo=checked[0] if checked else None,
        source="api",
    )
    return _mine(row)
