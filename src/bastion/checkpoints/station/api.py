"""The service station over JSON (under /api/v1/checkpoints): a driver's visit logged (a
retry with its client id writes once; every bad field named), and the day's figures."""

import datetime as dt
from uuid import UUID

from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from bastion.checkpoints import queries as checkpoint_queries
from bastion.checkpoints.station import queries, services
from bastion.checkpoints.station.models import MAX_MEALS, StationVisit
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.people.mobilization.models import Place, PlaceKind

router = Router(tags=["checkpoints"])


class StationVisitIn(Schema):
    client_id: UUID = Field(description="Made by the device; a retry with it replays.")
    plate: str = Field("", max_length=12)
    code: str = Field("", max_length=12, description="A closed-loop pass code.")
    name: str = Field("", max_length=50)
    doc_kind: str = Field("", max_length=16)
    doc_number: str = Field("", max_length=30)
    arrived_at: dt.datetime | None = Field(None, description="Default: now.")
    left_at: dt.datetime | None = None
    rested: bool = False
    meals: int = Field(0, ge=0, le=MAX_MEALS)
    tested: bool = False
    result_at: dt.datetime | None = None


class StationVisitOut(Schema):
    id: int
    plate: str
    loop_pass_id: int | None
    arrived_at: dt.datetime
    left_at: dt.datetime | None
    rested: bool
    meals: int
    tested: bool
    result_at: dt.datetime | None


class StationTodayOut(Schema):
    day: dt.date
    visits: int
    resting: int
    meals: int
    tested: int


def _out(v: StationVisit) -> dict:
    return {f: getattr(v, f) for f in StationVisitOut.model_fields if f != "id"} | {"id": v.pk}


@router.post(
    "/places/{checkpoint_id}/station/visits",
    response={201: StationVisitOut, 200: StationVisitOut, **WRITE_ERRORS},
)
def station_visit_record(request, checkpoint_id: int, payload: StationVisitIn):
    """A driver's visit to the checkpoint's service station (201; 200 for a retry)."""
    place = get_for_change(
        Place.objects.filter(kind=PlaceKind.CHECKPOINT), request.auth, pk=checkpoint_id
    )
    before = StationVisit.objects.filter(client_id=payload.client_id).exists()
    visit = services.station_visit_record(actor=request.auth, place=place, **payload.dict())
    return Status(200 if before else 201, _out(visit))


@router.get("/places/{checkpoint_id}/station", response={200: StationTodayOut, **READ_ERRORS})
def station_today(request, checkpoint_id: int, day: dt.date | None = None):
    """The station's figures of `day` (today by default)."""
    place = checkpoint_queries.place_for(request.auth, checkpoint_id, PlaceKind.CHECKPOINT)
    day = day or timezone.localdate()
    return {"day": day, **vars(queries.station_today(place, day))}
