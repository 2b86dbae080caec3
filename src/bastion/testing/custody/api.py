"""Chain of custody over JSON (mounted at /api/v1/testing/custody): every write of the pages,
for scanners and the lab's system.

Thin: bags, boxes and rounds are fetched through the scope, writes go through
`testing.custody.services`, reads come from `testing.custody.queries`. Every write takes a
client-made `client_id`; sending it again answers with what the first call made. Mobile
numbers of the people in a hand-over are masked.

A seal refused on a wrong count answers 422 with one problem per difference: `count` (both
counts), `missing` (packed but not scanned in the bag), `extra` (scanned but not packed) and,
when no tubes were scanned, `scanned` (what the system holds, to check against).
"""

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.people.models import Person
from bastion.testing.custody import handovers as custody_handovers
from bastion.testing.custody import queries, services
from bastion.testing.custody.models import Bag, Box, Handover
from bastion.testing.rounds import queries as round_queries
from bastion.testing.rounds.models import Site
from bastion.testing.scans import queries as scan_queries

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_testing_api_custody"
router = Router(tags=["testing: custody"])


# --------------------------------------------------------------------------------- schemas


class OpenIn(Schema):
    round_id: int
    site_id: int
    barcode: str
    client_id: UUID | None = None


class BarcodeIn(Schema):
    barcode: str
    client_id: UUID | None = Field(None, description="Made by the device; a retry replays.")


class SealIn(Schema):
    count: int = Field(ge=0, description="The tubes the packer counted in the bag.")
    scanned: list[str] | None = Field(
        None, description="The tubes scanned in the bag, to name any difference."
    )
    client_id: UUID | None = None


class BagTubeOut(Schema):
    tube_id: int
    barcode: str
    filled: int
    packed_at: dt.datetime


class BagOut(Schema):
    id: int
    barcode: str
    round_id: int
    site_id: int
    status: str
    tubes: int
    counted: int | None
    created_at: dt.datetime
    sealed_at: dt.datetime | None
    box_id: int | None
    boxed_at: dt.datetime | None
    received_at: dt.datetime | None


class BagDetailOut(BagOut):
    items: list[BagTubeOut]


class SideOut(Schema):
    name: str
    phone: str = Field(description="Masked.")


class HandoverIn(Schema):
    leg: Literal["pickup", "relay", "delivery"]
    at: dt.datetime | None = None
    me: Literal["from", "to"] | None = Field(
        None, description="The caller is this side (their linked person, else their name)."
    )
    from_person_id: int | None = None
    from_name: str = ""
    from_phone: str = ""
    to_person_id: int | None = None
    to_name: str = ""
    to_phone: str = ""
    client_id: UUID


class HandoverOut(Schema):
    id: int
    leg: str
    leg_label: str
    at: dt.datetime
    giver: SideOut
    taker: SideOut


class ReceiptIn(Schema):
    bags_counted: int = Field(ge=0)
    tubes_counted: int = Field(ge=0)
    scanned_bags: list[str] | None = None
    received_by: str = ""
    note: str = ""
    at: dt.datetime | None = None
    client_id: UUID


class ReceiptOut(Schema):
    at: dt.datetime
    received_by: str
    bags_expected: int
    bags_counted: int
    tubes_expected: int
    tubes_counted: int
    missing_bags: list[str]
    extra_bags: list[str]
    mismatch: bool
    note: str


class BoxOut(Schema):
    id: int
    barcode: str
    round_id: int
    site_id: int
    status: str
    bags: int
    tubes: int
    created_at: dt.datetime
    dispatched_at: dt.datetime | None
    received_at: dt.datetime | None


class BoxDetailOut(BoxOut):
    bag_list: list[BagOut]
    handovers: list[HandoverOut]
    receipt: ReceiptOut | None


class StepOut(Schema):
    at: dt.datetime | None
    what: str
    detail: str
    warn: bool


class TrailOut(Schema):
    tube_id: int
    barcode: str
    bag: str | None
    box: str | None
    next_step: str
    steps: list[StepOut]


class LateTubeOut(Schema):
    id: int
    barcode: str
    station: str
    closed_at: dt.datetime


class LateBagOut(BagOut):
    where: str


class OverdueOut(Schema):
    round_id: int
    hours: dict[str, int]
    tubes_not_packed: int
    bags_not_sealed: int
    bags_not_received: int
    tubes: list[LateTubeOut]
    open_bags: list[LateBagOut]
    unreceived: list[LateBagOut]


# --------------------------------------------------------------------------------- helpers


def _bag_out(bag: Bag) -> dict:
    return {
        f: getattr(bag, f)
        for f in (
            "id",
            "barcode",
            "round_id",
            "site_id",
            "status",
            "tubes",
            "counted",
            "created_at",
            "sealed_at",
            "box_id",
            "boxed_at",
            "received_at",
        )
    }


def _bag_detail(bag: Bag) -> dict:
    items = [
        {
            "tube_id": i.tube_id,
            "barcode": i.tube.barcode,
            "filled": i.tube.filled,
            "packed_at": i.packed_at,
        }
        for i in queries.bag_tubes(bag)
    ]
    return _bag_out(bag) | {"items": items}


def _box_out(box: Box) -> dict:
    return {
        f: getattr(box, f)
        for f in (
            "id",
            "barcode",
            "round_id",
            "site_id",
            "status",
            "bags",
            "tubes",
            "created_at",
            "dispatched_at",
            "received_at",
        )
    }


def _handover_out(h) -> dict:
    return {
        "id": h.pk,
        "leg": h.leg,
        "leg_label": h.get_leg_display(),
        "at": h.at,
        "giver": queries.side(h, "from"),
        "taker": queries.side(h, "to"),
    }


def _box_detail(box: Box) -> dict:
    receipt = queries.receipt_of(box)
    return _box_out(box) | {
        "bag_list": [_bag_out(b) for b in queries.box_bags(box)],
        "handovers": [_handover_out(h) for h in queries.handovers(box)],
        "receipt": receipt,
    }


def _bag(request, bag_id: int) -> Bag:
    return get_for_change(Bag, request.auth, pk=bag_id)


def _box(request, box_id: int) -> Box:
    return get_for_change(Box, request.auth, pk=box_id)


def _round_and_site(request, payload: OpenIn):
    site = get_for_change(Site, request.auth, pk=payload.site_id)
    return round_queries.round_for(request.auth, payload.round_id), site


# ------------------------------------------------------------------------------------ bags


@router.post("/bags", response={201: BagOut, **WRITE_ERRORS})
def bag_open(request, payload: OpenIn):
    round_, site = _round_and_site(request, payload)
    bag = services.bag_open(
        actor=request.auth,
        round=round_,
        site=site,
        barcode=payload.barcode,
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, _bag_out(bag))


@router.get("/bags/{bag_id}", response={200: BagDetailOut, **READ_ERRORS})
def bag_detail(request, bag_id: int):
    return _bag_detail(queries.bag_for(request.auth, bag_id))


@router.post("/bags/{bag_id}/tubes", response={200: BagDetailOut, **WRITE_ERRORS})
def bag_pack(request, bag_id: int, payload: BarcodeIn):
    bag = _bag(request, bag_id)
    services.tube_pack(
        actor=request.auth,
        bag=bag,
        barcode=payload.barcode,
        client_id=payload.client_id,
        source="api",
    )
    bag.refresh_from_db()
    return _bag_detail(bag)


@router.post("/bags/{bag_id}/unpack", response={200: BagDetailOut, **WRITE_ERRORS})
def bag_unpack(request, bag_id: int, payload: BarcodeIn):
    bag = services.tube_unpack(
        actor=request.auth, bag=_bag(request, bag_id), barcode=payload.barcode, source="api"
    )
    return _bag_detail(bag)


@router.post("/bags/{bag_id}/seal", response={200: BagOut, **WRITE_ERRORS})
def bag_seal(request, bag_id: int, payload: SealIn):
    bag = services.bag_seal(
        actor=request.auth,
        bag=_bag(request, bag_id),
        counted=payload.count,
        scanned=payload.scanned,
        client_id=payload.client_id,
        source="api",
    )
    return _bag_out(bag)


class ReopenIn(Schema):
    reason: str = Field(max_length=200, description="Why the seal is undone (kept in history).")


@router.post("/bags/{bag_id}/reopen", response={200: BagOut, **WRITE_ERRORS})
def bag_reopen(request, bag_id: int, payload: ReopenIn):
    """Undo a mistaken seal before the bag is boxed: back to packing, the reason in its
    history (409 once it is in a box). A retry on a bag already open answers it unchanged."""
    bag = services.bag_reopen(
        actor=request.auth, bag=_bag(request, bag_id), reason=payload.reason, source="api"
    )
    return _bag_out(bag)


# ----------------------------------------------------------------------------------- boxes


@router.post("/boxes", response={201: BoxOut, **WRITE_ERRORS})
def box_open(request, payload: OpenIn):
    round_, site = _round_and_site(request, payload)
    box = services.box_open(
        actor=request.auth,
        round=round_,
        site=site,
        barcode=payload.barcode,
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, _box_out(box))


@router.get("/boxes/{box_id}", response={200: BoxDetailOut, **READ_ERRORS})
def box_detail(request, box_id: int):
    return _box_detail(queries.box_for(request.auth, box_id))


@router.post("/boxes/{box_id}/bags", response={200: BoxDetailOut, **WRITE_ERRORS})
def box_add_bag(request, box_id: int, payload: BarcodeIn):
    box = _box(request, box_id)
    services.bag_box(
        actor=request.auth,
        box=box,
        barcode=payload.barcode,
        client_id=payload.client_id,
        source="api",
    )
    box.refresh_from_db()
    return _box_detail(box)


def _party(request, person_id: int | None, name: str, phone: str) -> custody_handovers.Party:
    if person_id is not None:
        return custody_handovers.Party(
            person=scope.get_scoped_or_404(Person, request.auth, pk=person_id)
        )
    return custody_handovers.Party(name=name, phone=phone)


@router.post("/boxes/{box_id}/handovers", response={201: HandoverOut, **WRITE_ERRORS})
def box_handover(request, box_id: int, payload: HandoverIn):
    box = _box(request, box_id)
    me = custody_handovers.party_of(request.auth)
    giver = (
        me
        if payload.me == "from"
        else _party(request, payload.from_person_id, payload.from_name, payload.from_phone)
    )
    taker = (
        me
        if payload.me == "to"
        else _party(request, payload.to_person_id, payload.to_name, payload.to_phone)
    )
    handover = custody_handovers.box_handover(
        actor=request.auth,
        box=box,
        leg=payload.leg,
        giver=giver,
        taker=taker,
        at=payload.at,
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, _handover_out(handover))


@router.post("/boxes/{box_id}/receipt", response={201: ReceiptOut, **WRITE_ERRORS})
def box_receive(request, box_id: int, payload: ReceiptIn):
    receipt = custody_handovers.box_receive(
        actor=request.auth,
        box=_box(request, box_id),
        bags_counted=payload.bags_counted,
        tubes_counted=payload.tubes_counted,
        scanned_bags=payload.scanned_bags,
        received_by=payload.received_by,
        note=payload.note,
        at=payload.at,
        client_id=payload.client_id,
        source="api",
    )
    return Status(201, receipt)


# ---------------------------------------------------------------------------------- reads


@router.get("/tubes/{tube_id}/trail", response={200: TrailOut, **READ_ERRORS})
def tube_trail(request, tube_id: int):
    trail = queries.trail(request.auth, scan_queries.tube_for(request.auth, tube_id))
    return {
        "tube_id": trail.tube.pk,
        "barcode": trail.tube.barcode,
        "bag": trail.bag.barcode if trail.bag else None,
        "box": trail.box.barcode if trail.box else None,
        "next_step": trail.next_step,
        "steps": [
            {"at": s.at, "what": s.what, "detail": s.detail, "warn": s.warn} for s in trail.steps
        ],
    }


@router.get("/rounds/{round_id}/overdue", response={200: OverdueOut, **READ_ERRORS})
def round_overdue(request, round_id: int):
    round_ = round_queries.round_for(request.auth, round_id)
    late = queries.overdue(request.auth, round_)
    return {
        "round_id": round_.pk,
        "hours": late.hours,
        "tubes_not_packed": late.tubes_total,
        "bags_not_sealed": late.open_bags_total,
        "bags_not_received": late.unreceived_total,
        "tubes": [
            {
                "id": t.pk,
                "barcode": t.barcode,
                "station": t.station.name,
                "closed_at": t.closed_at,
            }
            for t in late.tubes
        ],
        "open_bags": [_bag_out(b) | {"where": queries.where_is(b)} for b in late.open_bags],
        "unreceived": [_bag_out(b) | {"where": queries.where_is(b)} for b in late.unreceived],
    }


@router.get("/rounds/{round_id}/bags", response={200: list[BagOut], **READ_ERRORS})
def round_bags(request, round_id: int, status: Literal["open", "sealed"] | None = None):
    round_ = round_queries.round_for(request.auth, round_id)
    bags = queries.bags_for(request.auth).filter(round=round_).order_by("-created_at")
    if status:
        bags = bags.filter(status=status)
    return [_bag_out(b) for b in bags[:1000]]


class HandoverRevealIn(Schema):
    side: Literal["from", "to"] = Field(description="who handed over, or who took over")


class HandoverRevealOut(Schema):
    side: str
    phone: str


@router.post("/handovers/{handover_id}/reveal", response={200: HandoverRevealOut, **WRITE_ERRORS})
def handover_reveal(request, handover_id: int, payload: HandoverRevealIn):
    """One side's mobile in full, as given at the hand-over. Only roles that may reveal numbers
    may; each reveal is logged."""
    handover = scope.get_scoped_or_404(Handover, request.auth, scope.REVEAL, pk=handover_id)
    phone = custody_handovers.handover_phone_reveal(
        user=request.auth, handover=handover, side=payload.side, via="api"
    )
    return {"side": payload.side, "phone": phone}
