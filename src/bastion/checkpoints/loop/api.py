"""The closed loop over JSON (under /api/v1/checkpoints): issue a pass to a person let
through under escort, read a pass by its code, confirm the arrival (twice is once; an
unknown or expired code is refused naming `code`)."""

import datetime as dt
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from bastion.checkpoints.loop import services
from bastion.checkpoints.loop.models import LoopPass
from bastion.checkpoints.models import Occupant
from bastion.core.api_support import WRITE_ERRORS, get_for_change
from bastion.core.errors import DomainError
from bastion.geo.identity import mask_mobile, mask_name
from bastion.geo.models import Node

router = Router(tags=["checkpoints"])


class LoopPassIn(Schema):
    client_id: UUID = Field(description="Made by the device; a retry with it replays.")
    destination_id: int = Field(description="The community (or a grid or building in it).")
    address: str = Field(max_length=100)
    contact_name: str = Field(max_length=50)
    contact_phone: str = Field(max_length=20)


class LoopPassOut(Schema):
    id: int
    code: str
    plate: str
    name: str = Field(description="Masked.")
    checkpoint: str
    destination_id: int
    address: str
    contact_name: str
    contact_phone: str = Field(description="Masked.")
    issued_at: dt.datetime
    due_at: dt.datetime
    expires_at: dt.datetime
    arrived_at: dt.datetime | None
    overdue: bool


def pass_out(p: LoopPass) -> dict:
    return {
        "id": p.pk,
        "code": p.code,
        "plate": p.occupant.entry.plate,
        "name": mask_name(p.occupant.name),
        "checkpoint": p.checkpoint.name,
        "destination_id": p.destination_id,
        "address": p.address,
        "contact_name": p.contact_name,
        "contact_phone": mask_mobile(p.contact_phone),
        "issued_at": p.issued_at,
        "due_at": p.due_at,
        "expires_at": p.expires_at,
        "arrived_at": p.arrived_at,
        "overdue": p.arrived_at is None and p.due_at <= timezone.now(),
    }


@router.post(
    "/people/{occupant_id}/loop-pass", response={201: LoopPassOut, 200: LoopPassOut, **WRITE_ERRORS}
)
def loop_pass_issue(request, occupant_id: int, payload: LoopPassIn):
    """A pass code for a person let through under escort (201; 200 for a retry)."""
    occupant = get_for_change(
        Occupant.objects.select_related("entry"), request.auth, pk=occupant_id
    )
    # Where the driver goes is seldom in the crew's own area: any node of the tree.
    destination = Node.objects.filter(pk=payload.destination_id).first()
    if destination is None:
        raise DomainError(_("No such destination."), field="destination_id")
    before = LoopPass.objects.filter(client_id=payload.client_id).exists()
    made = services.loop_pass_issue(
        actor=request.auth,
        occupant=occupant,
        destination=destination,
        address=payload.address,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        client_id=payload.client_id,
    )
    made = LoopPass.objects.select_related("occupant__entry", "checkpoint").get(pk=made.pk)
    return Status(200 if before else 201, pass_out(made))


@router.get("/loop-passes/{code}", response={200: LoopPassOut, **WRITE_ERRORS})
def loop_pass_read(request, code: str):
    """A pass by its code, for the destination's staff (422 naming `code` when unknown here
    or expired)."""
    return pass_out(services.loop_pass_find(actor=request.auth, code=code))


@router.post("/loop-passes/{code}/arrive", response={200: LoopPassOut, **WRITE_ERRORS})
def loop_arrival_confirm(request, code: str):
    """The driver arrived at the destination: confirmed once (a second call answers the
    same pass); an unknown or expired code is refused naming `code`."""
    return pass_out(services.loop_arrival_confirm(actor=request.auth, code=code))
