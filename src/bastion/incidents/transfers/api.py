"""Transfers over JSON (mounted at /api/v1/transfers): plan (once per client id), depart,
arrive, cancel, the list. Thin: reads in `queries`, writes in `services`, rows through the
scope; names and document numbers masked, the reason only to roles that see health data."""

import datetime as dt
from typing import Literal
from uuid import UUID

from ninja import Field, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.geo.models import Node, Resident
from bastion.incidents.transfers import queries, services
from bastion.incidents.transfers.models import Transfer

router = Router(tags=["transfers"])

DocKindIn = Literal[
    "id_card", "hmt_residence", "pr_card", "passport_cn", "passport", "hk_macao_permit",
    "taiwan_permit",
]  # fmt: skip
ReasonIn = Literal[
    "positive", "close_contact", "secondary_contact", "abnormal_check", "fever", "release",
    "other",
]  # fmt: skip


class TransferIn(Schema):
    resident_id: int | None = Field(
        None, description="A resident of the register; or give name and document."
    )
    name: str = Field("", max_length=50)
    doc_kind: DocKindIn | Literal[""] = ""
    doc_number: str = Field("", max_length=18)
    phone: str = Field("", max_length=11)
    from_place_id: int | None = Field(
        None,
        description="A checkpoint or quarantine site; a resident leaves from home when left out.",
    )
    destination: Literal["hospital", "quarantine", "home"]
    to_hospital: str = Field("", max_length=100)
    to_place_id: int | None = Field(None, description="The quarantine site (a place).")
    reason: ReasonIn
    note: str = Field("", max_length=200)
    source: str = Field("", max_length=20, description="The module that asked for it.")
    source_id: int | None = None
    plate: str = Field("", max_length=12)
    escort: str = Field("", max_length=100)
    planned_at: dt.datetime | None = Field(None, description="Now when left out.")
    client_id: UUID | None = None


class DepartIn(Schema):
    at: dt.datetime | None = Field(None, description="Now when left out.")
    plate: str = Field("", max_length=12, description="Needed when none was given at planning.")
    escort: str = Field("", max_length=100)


class ArriveIn(Schema):
    at: dt.datetime | None = Field(None, description="Now when left out.")


class CancelIn(Schema):
    reason: str = Field(max_length=200)
    at: dt.datetime | None = Field(None, description="Now when left out.")


class TransferOut(Schema):
    id: int
    name: str = Field(description="Masked unless the caller may see health data.")
    document: str = Field(description="Masked.")
    resident_id: int | None
    from_name: str
    destination: str
    to_name: str
    to_place_id: int | None
    reason: str | None = Field(description="Hidden (null) unless the caller may see health data.")
    source: str
    source_id: int | None
    plate: str
    escort: str
    state: str
    planned_at: dt.datetime
    departed_at: dt.datetime | None
    arrived_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str


def _out(user, t: Transfer) -> dict:
    c = queries.transfer_card(user, t)
    return {
        "id": t.pk,
        "name": c["name"],
        "document": c["doc"] or "",
        "resident_id": t.resident_id,
        "from_name": c["from"],
        "destination": t.destination,
        "to_name": t.to_name,
        "to_place_id": t.to_place_id,
        "reason": t.reason if c["reason"] else None,
        "source": t.source,
        "source_id": t.source_id,
        "plate": t.plate,
        "escort": t.escort,
        "state": t.state,
        "planned_at": t.planned_at,
        "departed_at": t.departed_at,
        "arrived_at": t.arrived_at,
        "cancelled_at": t.cancelled_at,
        "cancel_reason": t.cancel_reason,
    }


def _one(user, pk: int) -> Transfer:
    return queries.transfers_for(user).get(pk=pk)


@router.get("/", response={200: list[TransferOut], **READ_ERRORS})
def transfer_list(
    request,
    view: Literal["today", "on_the_way", "all"] = "today",
    node_id: int | None = None,
    source: str = "",
    source_id: int | None = None,
):
    """The caller's transfers (either end in scope): today's, on the way, or all (the latest
    1,000), under `node_id`; those a module attached by `source` and `source_id`."""
    node = scope.get_scoped_or_404(Node, request.auth, pk=node_id) if node_id else None
    rows = queries.transfer_list(request.auth, view=view, node=node)
    if source:
        rows = rows.filter(source=source)
    if source_id is not None:
        rows = rows.filter(source_id=source_id)
    return [_out(request.auth, t) for t in rows[:1000]]


@router.post("/", response={201: TransferOut, **WRITE_ERRORS})
def transfer_plan(request, payload: TransferIn):
    """Plan a transfer. Retried with the same `client_id`: the first transfer, nothing new."""
    user = request.auth
    resident = (
        scope.get_scoped_or_404(
            Resident.objects.select_related("household"), user, pk=payload.resident_id
        )
        if payload.resident_id is not None
        else None
    )
    from_place = (
        scope.get_scoped_or_404(queries.from_places_for(user), user, pk=payload.from_place_id)
        if payload.from_place_id is not None
        else None
    )
    to_place = (
        queries.quarantine_sites_for(user).filter(pk=payload.to_place_id).first()
        if payload.to_place_id is not None
        else None
    )
    if payload.to_place_id is not None and to_place is None:
        raise scope.NotFound(Transfer, {"to_place_id": payload.to_place_id})
    transfer = services.transfer_plan(
        actor=user,
        resident=resident,
        name=payload.name,
        doc_kind=payload.doc_kind,
        doc_number=payload.doc_number,
        phone=payload.phone,
        from_place=from_place,
        destination=payload.destination,
        to_hospital=payload.to_hospital,
        to_place=to_place,
        reason=payload.reason,
        note=payload.note,
        source=payload.source,
        source_id=payload.source_id,
        plate=payload.plate,
        escort=payload.escort,
        planned_at=payload.planned_at,
        client_id=payload.client_id,
        via="api",
    )
    return Status(201, _out(user, _one(user, transfer.pk)))


@router.post("/{transfer_id}/depart", response={200: TransferOut, **WRITE_ERRORS})
def transfer_depart(request, transfer_id: int, payload: DepartIn):
    """The vehicle left: planned → on the way (once; a second departure is refused)."""
    t = get_for_change(Transfer, request.auth, pk=transfer_id)
    services.transfer_depart(
        actor=request.auth, transfer=t, at=payload.at, plate=payload.plate,
        escort=payload.escort, via="api",
    )  # fmt: skip
    return _out(request.auth, _one(request.auth, t.pk))


@router.post("/{transfer_id}/arrive", response={200: TransferOut, **WRITE_ERRORS})
def transfer_arrive(request, transfer_id: int, payload: ArriveIn):
    """Handed over at the destination: on the way → arrived."""
    t = get_for_change(Transfer, request.auth, pk=transfer_id)
    services.transfer_arrive(actor=request.auth, transfer=t, at=payload.at, via="api")
    return _out(request.auth, _one(request.auth, t.pk))


@router.post("/{transfer_id}/cancel", response={200: TransferOut, **WRITE_ERRORS})
def transfer_cancel(request, transfer_id: int, payload: CancelIn):
    """Call off a transfer not yet arrived, with the reason."""
    t = get_for_change(Transfer, request.auth, pk=transfer_id)
    services.transfer_cancel(
        actor=request.auth, transfer=t, reason=payload.reason, at=payload.at, via="api"
    )
    return _out(request.auth, _one(request.auth, t.pk))
