"""The public site finder over JSON (mounted at /api/v1/testing), and the crews' queue reports
it reads."""

import datetime as dt
from typing import Literal

from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema

from bastion.core.api_support import (
    WRITE_ERRORS,
    DetailOut,
)
from bastion.testing.finder import services
from bastion.testing.scans.api import station_for_change

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_testing_api"
router = Router(tags=["testing"])

# ------------------------------------------------------------------ the public site finder


class QueueReportIn(Schema):
    queue_length: int = Field(ge=0, le=services.QUEUE_MAX, description="People waiting now.")


class QueueReportOut(Schema):
    station_id: int
    queue_length: int
    queue_reported_at: dt.datetime


@router.post("/stations/{station_id}/queue", response={200: QueueReportOut, **WRITE_ERRORS})
def station_queue(request, station_id: int, payload: QueueReportIn):
    """A crew's count of the people waiting in front of its open station; the public site
    finder bases its wait band on it for 15 minutes."""
    station = station_for_change(request, station_id)
    station = services.station_queue_report(
        actor=request.auth, station=station, length=payload.queue_length, source="api"
    )
    return {
        "station_id": station.pk,
        "queue_length": station.queue_length,
        "queue_reported_at": station.queue_reported_at,
    }


class FinderCommunityOut(Schema):
    id: int
    name: str
    street: str
    district: str


class FinderQueueOut(Schema):
    band: Literal["under_25", "25_50", "over_50"]
    minutes: float
    basis: Literal["reported", "scans"]
    waiting: int | None
    saturated: bool


class FinderSiteOut(Schema):
    id: int
    name: str
    address: str
    community: str
    serves_community: bool
    distance_km: float | None
    opens_at: str
    closes_at: str
    all_day: bool
    within_hours: bool
    open_now: bool
    next_open_at: dt.datetime | None
    open_stations: int
    queue: FinderQueueOut | None


class FinderOut(Schema):
    community: FinderCommunityOut
    computed_at: dt.datetime
    window_minutes: int
    sites: list[FinderSiteOut]


@router.get(
    "/finder/{community_id}",
    auth=None,
    response={200: FinderOut, 404: DetailOut},
    url_name="finder",
)
def finder_public(request, community_id: int, response: HttpResponse):
    """Public, no login: the sampling sites near a community (those serving it first), with
    hours, open now or the next opening, open stations and a wait band (the same figures as
    the page /find/{community_id}/, cached per community; see `testing.finder`)."""
    from django.utils.cache import patch_cache_control

    from bastion.testing.finder import queries

    data = queries.finder_data(community_id)
    if data is None:
        raise Http404
    patch_cache_control(response, public=True, max_age=queries.CACHE_SECONDS)
    return data
