"""Requests and errands over JSON (mounted at /api/v1/requests): every write the pages do.

Staff endpoints log in like the rest of the API (bearer token or session) and go through the
scope: outside it is a 404, a role that may only look gets 403 on a write. The household's
own endpoints under /mine log in with its link's token in the `X-Household-Token` header and
see that household only, without staff data. Refusals use the shared shapes of
`core.api_support`: 422 naming the field, 409 for a conflict with the current state.
Writes a device may retry take a `client_id`: a retry answers 200 with the row as it stands.
"""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import APIKeyHeader

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Page, get_for_change
from bastion.core.idempotency import replayed
from bastion.core.photos import photos_check
from bastion.geo import queries as geo_queries
from bastion.geo.models import Household, Node, Resident
from bastion.requests import queries, services
from bastion.requests.models import (
    Errand,
    HouseholdLink,
    Meeting,
    Request,
)

router = Router(tags=["requests"])


class HouseholdTokenAuth(APIKeyHeader):
    """The household's link token, sent as `X-Household-Token`."""

    param_name = "X-Household-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> HouseholdLink | None:
        return services.link_from_token(key or "")


household_auth = HouseholdTokenAuth()


# --------------------------------------------------------------------------- schemas


class NodeRef(Schema):
    id: int
    name: str
    level: str


class PhotoOut(Schema):
    id: int
    kind: str
    url: str


class RequestOut(Schema):
    id: int
    title: str
    description: str
    category: str
    channel: str
    urgency: str
    status: str
    track: str
    place: str
    node: NodeRef
    household_id: int | None
    grid_id: int | None
    created_at: dt.datetime
    triaged_at: dt.datetime | None
    claimed_by: str | None
    claimed_at: dt.datetime | None
    meeting_id: int | None
    assignee: str
    due_on: dt.date | None
    assigned_at: dt.datetime | None
    result: str
    done_at: dt.datetime | None
    report_meeting_id: int | None
    report_note: str
    reported_at: dt.datetime | None
    closed_at: dt.datetime | None
    rating: int | None
    rating_comment: str
    reopen_count: int
    reopen_reason: str
    due_at: dt.datetime | None = Field(description="When the current step falls due.")
    overdue: bool
    photos: list[PhotoOut]
    client_id: UUID | None


class RequestIn(Schema):
    household_id: int | None = Field(None, description="The household, or else `node_id`.")
    node_id: int | None = None
    channel: str
    category: str
    urgency: str = "normal"
    title: str
    description: str = ""
    contact_phone: str = ""
    client_id: UUID | None = Field(
        None, description="Made by the client: a retry returns the request the first call made."
    )


class TriageIn(Schema):
    track: Literal["handle_now", "consult"]


class StepIn(Schema):
    client_id: UUID | None = None


class DoneIn(Schema):
    result: str
    client_id: UUID | None = None


class RequestAssignIn(Schema):
    assignee: str
    due_on: dt.date


class ReportBackIn(Schema):
    meeting_id: int
    note: str = ""


class RequestCloseIn(Schema):
    result: str = Field("", description="Needed when no result has been recorded.")


class RequestRateIn(Schema):
    rating: int = Field(description="1 (very dissatisfied) to 5 (very satisfied).")
    comment: str = ""
    client_id: UUID | None = None


class ReopenIn(Schema):
    reason: str
    client_id: UUID | None = None


class MeetingOut(Schema):
    id: int
    title: str
    community: NodeRef
    starts_at: dt.datetime
    place: str
    status: str
    chair: str
    recorder: str
    notes: str
    held_at: dt.datetime | None


class MeetingIn(Schema):
    community_id: int
    title: str
    starts_at: dt.datetime
    place: str = ""
    client_id: UUID | None = None


class AttendeeIO(Schema):
    category: Literal[
        "committee", "party", "property", "owners", "area_units", "part_time", "residents"
    ]
    name: str
    organisation: str = ""


class AttendeeIn(AttendeeIO):
    """An attendee as sent (bounded and strict, core.api_schema); answered as AttendeeIO."""


class MeetingRecordIn(Schema):
    attendees: list[AttendeeIn] = Field(max_length=500)
    chair: str = ""
    recorder: str = ""
    notes: str = ""


class ItemRef(Schema):
    id: int
    title: str
    status: str
    assignee: str
    due_on: dt.date | None
    result: str


class MeetingDetailOut(MeetingOut):
    attendees: list[AttendeeIO]
    agenda: list[ItemRef]
    report_backs: list[ItemRef]


class ItemIO(Schema):
    name: str
    quantity: str = ""


class ItemIn(ItemIO):
    """An item as sent (bounded and strict, core.api_schema); answered as ItemIO."""


class PersonRef(Schema):
    id: int
    name: str


class ErrandOut(Schema):
    id: int
    status: str
    urgency: str
    items: list[ItemIO]
    household_id: int
    place: str
    grid_id: int | None
    to_unit_door: bool
    courier: PersonRef | None
    payment_note: str
    note: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    assigned_at: dt.datetime | None
    picked_up_at: dt.datetime | None
    delivered_at: dt.datetime | None
    proof: str
    confirmed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str
    rating: int | None
    due_at: dt.datetime
    overdue: bool
    client_id: UUID | None


class ErrandIn(Schema):
    household_id: int
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    urgency: Literal["medicine", "urgent", "normal"]
    note: str = ""
    payment_note: str = ""
    client_id: UUID | None = None


class CourierIn(Schema):
    courier_id: int
    client_id: UUID | None = None


class ConfirmIn(Schema):
    rating: int | None = None
    comment: str = ""
    client_id: UUID | None = None


class CancelIn(Schema):
    reason: str
    client_id: UUID | None = None


class LinkOut(Schema):
    household_id: int
    url: str = Field(description="The household's page; the token is the last path part.")
    token: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class LinkIn(Schema):
    renew: bool = Field(False, description="Revoke the current link and make a new one.")


class FiguresOut(Schema):
    node: NodeRef
    figures: dict[str, int]
    satisfaction: int | None = Field(description="Per cent of ratings 4 or 5.")
    overdue: int


class FiguresReportOut(Schema):
    start: dt.datetime
    end: dt.datetime
    total: FiguresOut
    children: list[FiguresOut]


class TimingOut(Schema):
    track: str
    count: int
    claimed: int
    claim_median_hours: float | None
    claim_mean_hours: float | None
    closed: int
    close_median_hours: float | None
    close_mean_hours: float | None


class OverdueOut(Schema):
    requests: list[RequestOut]
    errands: list[ErrandOut]


# The household's own view: no staff names, no internal notes.


class HomeRequestOut(Schema):
    id: int
    title: str
    description: str
    category: str
    urgency: str
    status: str
    track: str
    created_at: dt.datetime
    due_on: dt.date | None
    result: str
    done_at: dt.datetime | None
    rating: int | None
    rating_comment: str
    can_rate: bool
    can_reopen: bool
    photos: list[PhotoOut]


class HomeErrandOut(Schema):
    id: int
    status: str
    urgency: str
    items: list[ItemIO]
    delivery_code: str = Field(description="Shown to the courier as proof of delivery.")
    to_unit_door: bool
    payment_note: str
    note: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    rating: int | None


class HomeOut(Schema):
    household: str
    members: list[PersonRef]
    requests: list[HomeRequestOut]
    errands: list[HomeErrandOut]


class HomeRequestIn(Schema):
    category: str
    title: str
    description: str = ""
    urgency: str = "normal"
    raised_by_id: int | None = None
    client_id: UUID | None = None


class HomeErrandIn(Schema):
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    urgency: Literal["medicine", "urgent", "normal"]
    note: str = ""
    payment_note: str = ""
    raised_by_id: int | None = None
    client_id: UUID | None = None


# --------------------------------------------------------------------------- shaping


def _node(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def _place(household: Household | None, node: Node) -> str:
    if household is not None:
        return f"{household.building.name} {household.unit.name} {household.room}"
    return node.name


def _photos(photos, *, token: str | None = None) -> list[dict]:
    if token is None:
        return [
            {"id": p.pk, "kind": p.kind, "url": reverse("requests:photo", args=[p.pk])}
            for p in photos
        ]
    return [
        {"id": p.pk, "kind": p.kind, "url": reverse("requests:home_photo", args=[token, p.pk])}
        for p in photos
    ]


def _request(r: Request, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    due = queries.request_due_at(r)
    claimer = r.claimed_by
    return {
        **{
            f: getattr(r, f)
            for f in (
                "id",
                "title",
                "description",
                "category",
                "channel",
                "urgency",
                "status",
                "track",
                "household_id",
                "grid_id",
                "created_at",
                "triaged_at",
                "claimed_at",
                "meeting_id",
                "assignee",
                "due_on",
                "assigned_at",
                "result",
                "done_at",
                "report_meeting_id",
                "report_note",
                "reported_at",
                "closed_at",
                "rating",
                "rating_comment",
                "reopen_count",
                "reopen_reason",
                "client_id",
            )
        },
        "place": _place(r.household, r.node),
        "node": _node(r.node),
        "claimed_by": (
            getattr(getattr(claimer, "person", None), "name", None) or claimer.get_username()
        )
        if claimer
        else None,
        "due_at": due,
        "overdue": due is not None and due < now,
        "photos": _photos(r.photos.order_by("pk")),
    }


def _request_fresh(user, pk: int) -> dict:
    return _request(queries.request_for(user, pk))


def _errand(e: Errand, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    due = queries.errand_due_at(e)
    return {
        **{
            f: getattr(e, f)
            for f in (
                "id",
                "status",
                "urgency",
                "household_id",
                "grid_id",
                "to_unit_door",
                "payment_note",
                "note",
                "created_at",
                "accepted_at",
                "assigned_at",
                "picked_up_at",
                "delivered_at",
                "proof",
                "confirmed_at",
                "cancelled_at",
                "cancel_reason",
                "rating",
                "client_id",
            )
        },
        "items": [{"name": i.name, "quantity": i.quantity} for i in e.items.all()],
        "place": _place(e.household, e.household.unit),
        "courier": {"id": e.courier.pk, "name": e.courier.name} if e.courier_id else None,
        "due_at": due,
        "overdue": e.is_open and due < now,
    }


def _errand_fresh(user, pk: int) -> dict:
    return _errand(queries.errand_for(user, pk))


def _meeting(m: Meeting) -> dict:
    return {
        **{
            f: getattr(m, f)
            for f in (
                "id",
                "title",
                "starts_at",
                "place",
                "status",
                "chair",
                "recorder",
                "notes",
                "held_at",
            )
        },
        "community": _node(m.node),
    }


def _item(r: Request) -> dict:
    return {f: getattr(r, f) for f in ("id", "title", "status", "assignee", "due_on", "result")}


def _link(request: HttpRequest, link: HouseholdLink) -> dict:
    token = services.link_token(link)
    return {
        "household_id": link.household_id,
        "url": request.build_absolute_uri(reverse("requests:home", args=[token])),
        "token": token,
        "created_at": link.created_at,
        "last_used_at": link.last_used_at,
    }


def _figures(nf: queries.NodeFigures) -> dict:
    return {
        "node": _node(nf.node),
        "figures": nf.figures,
        "satisfaction": nf.satisfaction,
        "overdue": nf.overdue,
    }


def _home_request(r: Request, token: str) -> dict:
    return {
        **{
            f: getattr(r, f)
            for f in (
                "id",
                "title",
                "description",
                "category",
                "urgency",
                "status",
                "track",
                "created_at",
                "due_on",
                "result",
                "done_at",
                "rating",
                "rating_comment",
            )
        },
        "can_rate": services.request_allows(r, "rate"),
        "can_reopen": services.request_allows(r, "reopen"),
        "photos": _photos(r.photos.order_by("pk"), token=token),
    }


def _home_errand(e: Errand) -> dict:
    return {
        **{
            f: getattr(e, f)
            for f in (
                "id",
                "status",
                "urgency",
                "delivery_code",
                "to_unit_door",
                "payment_note",
                "note",
                "created_at",
                "delivered_at",
                "confirmed_at",
                "rating",
            )
        },
        "items": [{"name": i.name, "quantity": i.quantity} for i in e.items.all()],
    }


def _photos_in(photos: list[UploadedFile] | None, field: str = "photos"):
    return photos_check(photos or [], field=field)


# --------------------------------------------------------------------------- requests


@router.get("/requests", response=list[RequestOut])
def request_list(
    request,
    page: Query[Page],
    inbox: str = "",
    category: str = "",
    node_id: int | None = None,
    q: str = "",
):
    """The caller's requests; `inbox` is one of triage, claim, claimed, agenda, assigned,
    report, rating, closed (empty: all)."""
    node = geo_queries.node_for(request.user, node_id) if node_id else None
    qs = queries.request_list(request.user, inbox=inbox, category=category, node=node, text=q)
    now = timezone.now()
    rows = qs.select_related("claimed_by__person").prefetch_related("photos")
    return [_request(r, now) for r in rows[page.offset : page.offset + page.limit]]


@router.post("/requests", response={201: RequestOut, 200: RequestOut, **WRITE_ERRORS})
def request_create(request, payload: RequestIn):
    """Collect a request at a household (or at a node of the tree). It waits for triage."""
    user = request.user
    household = node = None
    if payload.household_id is not None:
        household = get_for_change(
            Household.objects.select_related("unit"), user, pk=payload.household_id
        )
    elif payload.node_id is not None:
        node = get_for_change(Node, user, pk=payload.node_id)
    replay = replayed(Request, payload.client_id, user) is not None
    r = services.request_create(
        actor=user,
        household=household,
        node=node,
        channel=payload.channel,
        category=payload.category,
        urgency=payload.urgency,
        title=payload.title,
        description=payload.description,
        contact_phone=payload.contact_phone,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _request_fresh(user, r.pk))


@router.get("/requests/{request_id}", response={200: RequestOut, **READ_ERRORS})
def request_detail(request, request_id: int):
    return _request_fresh(request.user, request_id)


@router.post("/requests/{request_id}/photos", response={201: list[PhotoOut], **WRITE_ERRORS})
def request_photos(
    request,
    request_id: int,
    photos: File[list[UploadedFile]],
    kind: Form[Literal["report", "evidence"]] = "report",
):
    """Add photos (JPEG, PNG or WebP, 5 MB each, 4 at a time): of the problem, or evidence of
    the work."""
    r = get_for_change(Request, request.user, pk=request_id)
    saved = services.request_photos_add(
        request=r, photos=_photos_in(photos), kind=kind, actor=request.user, source="api"
    )
    return Status(201, _photos(saved))


def _move(request, request_id: int, call) -> dict:
    r = get_for_change(Request.objects.select_related("meeting"), request.user, pk=request_id)
    call(r)
    return _request_fresh(request.user, request_id)


@router.post("/requests/{request_id}/triage", response={200: RequestOut, **WRITE_ERRORS})
def request_triage(request, request_id: int, payload: TriageIn):
    """Handle-now (to be claimed) or consult-and-assign (onto the next meeting's agenda)."""
    return _move(
        request,
        request_id,
        lambda r: services.request_triage(
            actor=request.user, request=r, track=payload.track, source="api"
        ),
    )


@router.post("/requests/{request_id}/claim", response={200: RequestOut, **WRITE_ERRORS})
def request_claim(request, request_id: int, payload: StepIn):
    return _move(
        request,
        request_id,
        lambda r: services.request_claim(
            actor=request.user, request=r, client_id=payload.client_id, source="api"
        ),
    )


@router.post("/requests/{request_id}/done", response={200: RequestOut, **WRITE_ERRORS})
def request_done(request, request_id: int, payload: DoneIn):
    """The result of the work (evidence photos go to /photos with kind=evidence)."""
    return _move(
        request,
        request_id,
        lambda r: services.request_done(
            actor=request.user,
            request=r,
            result=payload.result,
            client_id=payload.client_id,
            source="api",
        ),
    )


@router.post("/requests/{request_id}/assign", response={200: RequestOut, **WRITE_ERRORS})
def request_assign(request, request_id: int, payload: RequestAssignIn):
    """At the meeting: who took the item and by when."""
    return _move(
        request,
        request_id,
        lambda r: services.request_assign(
            actor=request.user,
            request=r,
            assignee=payload.assignee,
            due_on=payload.due_on,
            source="api",
        ),
    )


@router.post("/requests/{request_id}/report-back", response={200: RequestOut, **WRITE_ERRORS})
def request_report_back(request, request_id: int, payload: ReportBackIn):
    meeting = queries.meeting_for(request.user, payload.meeting_id)
    return _move(
        request,
        request_id,
        lambda r: services.request_report_back(
            actor=request.user, request=r, meeting=meeting, note=payload.note, source="api"
        ),
    )


@router.post("/requests/{request_id}/close", response={200: RequestOut, **WRITE_ERRORS})
def request_close(request, request_id: int, payload: RequestCloseIn):
    """Close: needs a result (the recorded one, or one given here)."""
    return _move(
        request,
        request_id,
        lambda r: services.request_close(
            actor=request.user, request=r, result=payload.result, source="api"
        ),
    )


@router.post("/requests/{request_id}/rate", response={200: RequestOut, **WRITE_ERRORS})
def request_rate(request, request_id: int, payload: RequestRateIn):
    """The resident's rating taken down by staff (it closes a request that has its result)."""
    return _move(
        request,
        request_id,
        lambda r: services.request_rate(
            actor=request.user,
            request=r,
            rating=payload.rating,
            comment=payload.comment,
            client_id=payload.client_id,
            source="api",
        ),
    )


@router.post("/requests/{request_id}/reopen", response={200: RequestOut, **WRITE_ERRORS})
def request_reopen(request, request_id: int, payload: ReopenIn):
    """Reopened once, with the resident's reason."""
    return _move(
        request,
        request_id,
        lambda r: services.request_reopen(
            actor=request.user,
            request=r,
            reason=payload.reason,
            client_id=payload.client_id,
            source="api",
        ),
    )


@router.get("/overdue", response=OverdueOut)
def overdue(request):
    """Requests and errands overdue now (see the page for the rules)."""
    now = timezone.now()
    return {
        "requests": [
            _request(r, now)
            for r in queries.overdue_requests(request.user, now).prefetch_related("photos")[:500]
        ],
        "errands": [
            _errand(e, now)
            for e in queries.overdue_errands(request.user, now).prefetch_related("items")[:500]
        ],
    }


@router.get("/figures", response={200: FiguresReportOut, **READ_ERRORS})
def figures(
    request, node_id: int | None = None, start: dt.date | None = None, end: dt.date | None = None
):
    """Collected, handle-now done, assigned, reported back, rated and satisfied, open; errands
    ordered, delivered and open: for a node and each of its children, over [start, end]
    (local dates; the last 30 days by default)."""
    user = request.user
    if node_id is not None:
        node = geo_queries.node_for(user, node_id)
    else:
        node = geo_queries.root_nodes(user).first()
        if node is None:
            return Status(404, {"detail": "Not found."})
    end_day = end or timezone.localdate()
    start_day = start or end_day - dt.timedelta(days=29)
    until = queries._day_end(end_day)
    since = queries._day_end(start_day) - dt.timedelta(days=1)
    own, children = queries.children_figures(user, node, since, until)
    return {
        "start": since,
        "end": until,
        "total": _figures(own),
        "children": [_figures(c) for c in children],
    }


@router.get("/timings", response={200: list[TimingOut], **READ_ERRORS})
def timings(
    request, node_id: int | None = None, start: dt.date | None = None, end: dt.date | None = None
):
    """Median and mean hours from collection to claim and to close, per track, for requests
    collected in [start, end] (the last 30 days by default)."""
    user = request.user
    node = geo_queries.node_for(user, node_id) if node_id else None
    end_day = end or timezone.localdate()
    start_day = start or end_day - dt.timedelta(days=29)
    until = queries._day_end(end_day)
    since = queries._day_end(start_day) - dt.timedelta(days=1)
    return [
        {
            "track": t.track,
            "count": t.count,
            "claimed": t.claimed,
            "claim_median_hours": t.claim_median,
            "claim_mean_hours": t.claim_mean,
            "closed": t.closed,
            "close_median_hours": t.close_median,
            "close_mean_hours": t.close_mean,
        }
        for t in queries.timings(user, node, since, until)
    ]


# --------------------------------------------------------------------------- meetings


@router.get("/meetings", response=list[MeetingOut])
def meeting_list(request, page: Query[Page]):
    qs = queries.meetings_for(request.user).order_by("-starts_at", "-pk")
    return [_meeting(m) for m in qs[page.offset : page.offset + page.limit]]


@router.post("/meetings", response={201: MeetingOut, 200: MeetingOut, **WRITE_ERRORS})
def meeting_schedule(request, payload: MeetingIn):
    """Plan a community's meeting; consult-and-assign requests waiting for one join it."""
    community = get_for_change(
        Node.objects.filter(level="community"), request.user, pk=payload.community_id
    )
    replay = replayed(Meeting, payload.client_id, request.user) is not None
    meeting = services.meeting_schedule(
        actor=request.user,
        community=community,
        title=payload.title,
        starts_at=payload.starts_at,
        place=payload.place,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _meeting(queries.meeting_for(request.user, meeting.pk)))


def _meeting_detail(user, pk: int) -> dict:
    m = queries.meeting_for(user, pk)
    return {
        **_meeting(m),
        "attendees": [
            {"category": a.category, "name": a.name, "organisation": a.organisation}
            for a in m.attendees.order_by("pk")
        ],
        "agenda": [_item(r) for r in queries.meeting_agenda(m)],
        "report_backs": [_item(r) for r in queries.meeting_report_backs(m)],
    }


@router.get("/meetings/{meeting_id}", response={200: MeetingDetailOut, **READ_ERRORS})
def meeting_detail(request, meeting_id: int):
    """The meeting with its attendees, its agenda and the report-back of earlier items."""
    return _meeting_detail(request.user, meeting_id)


@router.post("/meetings/{meeting_id}/record", response={200: MeetingDetailOut, **WRITE_ERRORS})
def meeting_record(request, meeting_id: int, payload: MeetingRecordIn):
    """Attendees by category (the list is replaced), chair, recorder and minutes."""
    meeting = get_for_change(Meeting, request.user, pk=meeting_id)
    services.meeting_record(
        actor=request.user,
        meeting=meeting,
        chair=payload.chair,
        recorder=payload.recorder,
        notes=payload.notes,
        source="api",
        attendees=[
            services.AttendeeInput(a.category, a.name, a.organisation) for a in payload.attendees
        ],
    )
    return _meeting_detail(request.user, meeting_id)


@router.post("/meetings/{meeting_id}/hold", response={200: MeetingDetailOut, **WRITE_ERRORS})
def meeting_hold(request, meeting_id: int):
    """Mark the meeting held; items nobody took move on to the next meeting."""
    meeting = get_for_change(Meeting, request.user, pk=meeting_id)
    services.meeting_hold(actor=request.user, meeting=meeting, source="api")
    return _meeting_detail(request.user, meeting_id)


# --------------------------------------------------------------------------- errands


@router.get("/errands", response=list[ErrandOut])
def errand_list(
    request,
    page: Query[Page],
    open: bool = True,
    grid_id: int | None = None,
    courier_id: int | None = None,
):
    """Errands, medicine first (open ones by default)."""
    qs = queries.errands_for(request.user).select_related(*queries.ERRAND_RELATED)
    if open:
        qs = qs.filter(status__in=queries.ERRAND_OPEN)
    if grid_id is not None:
        qs = qs.filter(grid_id=grid_id)
    if courier_id is not None:
        qs = qs.filter(courier_id=courier_id)
    qs = qs.prefetch_related("items").order_by("priority", "created_at", "pk")
    now = timezone.now()
    return [_errand(e, now) for e in qs[page.offset : page.offset + page.limit]]


@router.get("/courier/errands", response=list[ErrandOut])
def courier_errands(request):
    """The caller's own deliveries (as a courier), medicine first."""
    now = timezone.now()
    return [_errand(e, now) for e in queries.courier_errands(request.user)]


@router.post("/errands", response={201: ErrandOut, 200: ErrandOut, **WRITE_ERRORS})
def errand_order(request, payload: ErrandIn):
    """An errand ordered for a household (taken down by staff)."""
    household = get_for_change(
        Household.objects.select_related("unit"), request.user, pk=payload.household_id
    )
    replay = replayed(Errand, payload.client_id, request.user) is not None
    e = services.errand_order(
        actor=request.user,
        household=household,
        urgency=payload.urgency,
        items=[services.ItemInput(i.name, i.quantity) for i in payload.items],
        note=payload.note,
        payment_note=payload.payment_note,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _errand_fresh(request.user, e.pk))


@router.get("/errands/{errand_id}", response={200: ErrandOut, **READ_ERRORS})
def errand_detail(request, errand_id: int):
    return _errand_fresh(request.user, errand_id)


class PhoneOut(Schema):
    whose: str
    value: str


@router.post("/requests/{request_id}/phone", response={200: PhoneOut, **WRITE_ERRORS})
def request_phone(request, request_id: int):
    """The request's contact phone in full, to call the resident back. Only roles that may
    reveal; each reveal is logged (who, whose, when)."""
    r = queries.request_for(request.user, request_id)
    value = services.phone_reveal(user=request.user, subject=r, whose="contact", via="api")
    return {"whose": "contact", "value": value}


@router.post("/errands/{errand_id}/phone/{whose}", response={200: PhoneOut, **WRITE_ERRORS})
def errand_phone(request, errand_id: int, whose: Literal["household", "courier"]):
    """The phone of the errand's household (who ordered it, else the head) or of its courier,
    in full. Only roles that may reveal; each reveal is logged."""
    e = queries.errand_for(request.user, errand_id)
    value = services.phone_reveal(user=request.user, subject=e, whose=whose, via="api")
    return {"whose": whose, "value": value}


@router.post("/errands/{errand_id}/accept", response={200: ErrandOut, **WRITE_ERRORS})
def errand_accept(request, errand_id: int, payload: StepIn):
    e = get_for_change(Errand, request.user, pk=errand_id)
    services.errand_accept(actor=request.user, errand=e, client_id=payload.client_id, source="api")
    return _errand_fresh(request.user, errand_id)


@router.post("/errands/{errand_id}/assign", response={200: ErrandOut, **WRITE_ERRORS})
def errand_assign(request, errand_id: int, payload: CourierIn):
    """Give it to a volunteer, party member or cadre (again, to hand it to another)."""
    e = get_for_change(Errand, request.user, pk=errand_id)
    courier = queries.courier_for(request.user, payload.courier_id)
    services.errand_assign(
        actor=request.user, errand=e, courier=courier, client_id=payload.client_id, source="api"
    )
    return _errand_fresh(request.user, errand_id)


@router.post("/errands/{errand_id}/pick-up", response={200: ErrandOut, **WRITE_ERRORS})
def errand_pick_up(request, errand_id: int, payload: StepIn):
    """The courier has the goods (the errand's own courier, or community staff)."""
    e = queries.errand_for_courier(request.user, errand_id)
    services.errand_pick_up(actor=request.user, errand=e, client_id=payload.client_id, source="api")
    return _errand_fresh(request.user, errand_id)


@router.post("/errands/{errand_id}/deliver", response={200: ErrandOut, **WRITE_ERRORS})
def errand_deliver(
    request,
    errand_id: int,
    code: Form[str] = "",
    client_id: Form[UUID | None] = None,
    photo: File[UploadedFile] = None,
):
    """Delivered, with proof: the household's code, or a photo at the door (multipart)."""
    e = queries.errand_for_courier(request.user, errand_id)
    checked = _photos_in([photo], "photo")[0] if photo else None
    services.errand_deliver(
        actor=request.user, errand=e, code=code, photo=checked, client_id=client_id, source="api"
    )
    return _errand_fresh(request.user, errand_id)


@router.post("/errands/{errand_id}/confirm", response={200: ErrandOut, **WRITE_ERRORS})
def errand_confirm(request, errand_id: int, payload: ConfirmIn):
    """Confirmed for the household (taken down by phone)."""
    e = get_for_change(Errand, request.user, pk=errand_id)
    services.errand_confirm(
        actor=request.user,
        errand=e,
        rating=payload.rating,
        comment=payload.comment,
        client_id=payload.client_id,
        source="api",
    )
    return _errand_fresh(request.user, errand_id)


@router.post("/errands/{errand_id}/cancel", response={200: ErrandOut, **WRITE_ERRORS})
def errand_cancel(request, errand_id: int, payload: CancelIn):
    e = get_for_change(Errand, request.user, pk=errand_id)
    services.errand_cancel(
        actor=request.user,
        errand=e,
        reason=payload.reason,
        client_id=payload.client_id,
        source="api",
    )
    return _errand_fresh(request.user, errand_id)


# --------------------------------------------------------------------------- household links


@router.get("/households/{household_id}/link", response={200: LinkOut, **READ_ERRORS})
def link_detail(request, household_id: int):
    household = queries.household_for(request.user, household_id)
    link = queries.active_link(household)
    if link is None:
        return Status(404, {"detail": "This household has no link."})
    return _link(request, link)


@router.post("/households/{household_id}/link", response={200: LinkOut, **WRITE_ERRORS})
def link_issue(request, household_id: int, payload: LinkIn):
    """The household's link, made if it has none (`renew`: the old one stops working)."""
    household = get_for_change(Household, request.user, pk=household_id)
    link = services.link_issue(
        actor=request.user, household=household, renew=payload.renew, source="api"
    )
    return _link(request, link)


class LinksIssuedOut(Schema):
    building_id: int
    issued: int = Field(description="Links made now (households that had one keep it).")


@router.post("/buildings/{building_id}/links", response={200: LinksIssuedOut, **WRITE_ERRORS})
def links_issue(request, building_id: int):
    """Give every household of the building that has no link one (for its QR sheet)."""
    building = get_for_change(Node.objects.filter(level="building"), request.user, pk=building_id)
    households = Household.objects.restrict(request.user, scope.CHANGE).filter(
        building_id=building.pk
    )
    issued = services.links_issue_many(actor=request.user, households=households, source="api")
    return {"building_id": building.pk, "issued": issued}


@router.post("/households/{household_id}/link/revoke", response={204: None, **WRITE_ERRORS})
def link_revoke(request, household_id: int):
    household = get_for_change(Household, request.user, pk=household_id)
    services.link_revoke(actor=request.user, household=household, source="api")
    return Status(204, None)


# --------------------------------------------------------------------------- the household


def _home_token(request) -> str:
    return request.headers.get("X-Household-Token", "")


@router.get("/mine", response=HomeOut, auth=household_auth)
def home(request):
    """The household's own requests and errands (its link's token in X-Household-Token)."""
    link: HouseholdLink = request.auth
    household = link.household
    token = _home_token(request)
    return {
        "household": f"{household.building.name} {household.unit.name} {household.room}",
        "members": [
            {"id": m.pk, "name": m.name}
            for m in Resident.objects.filter(household=household).order_by("pk")
        ],
        "requests": [
            _home_request(r, token)
            for r in queries.household_requests(household).prefetch_related("photos")[:100]
        ],
        "errands": [_home_errand(e) for e in queries.household_errands(household)[:100]],
    }


def _member(link: HouseholdLink, resident_id: int | None) -> Resident | None:
    if resident_id is None:
        return None
    return Resident.objects.filter(household_id=link.household_id, pk=resident_id).first()


@router.post(
    "/mine/requests",
    response={201: HomeRequestOut, 200: HomeRequestOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_request_create(request, payload: HomeRequestIn):
    link: HouseholdLink = request.auth
    replay = replayed(Request, payload.client_id, link) is not None
    r = services.request_create(
        actor=None,
        link=link,
        channel="resident_page",
        category=payload.category,
        title=payload.title,
        description=payload.description,
        urgency=payload.urgency,
        raised_by=_member(link, payload.raised_by_id),
        client_id=payload.client_id,
        source="api",
    )
    r = queries.household_request(link.household, r.pk)
    return Status(200 if replay else 201, _home_request(r, _home_token(request)))


@router.get(
    "/mine/requests/{request_id}",
    response={200: HomeRequestOut, **READ_ERRORS},
    auth=household_auth,
)
def home_request_detail(request, request_id: int):
    link: HouseholdLink = request.auth
    return _home_request(
        queries.household_request(link.household, request_id), _home_token(request)
    )


@router.post(
    "/mine/requests/{request_id}/photos",
    response={201: list[PhotoOut], **WRITE_ERRORS},
    auth=household_auth,
)
def home_request_photos(request, request_id: int, photos: File[list[UploadedFile]]):
    link: HouseholdLink = request.auth
    r = queries.household_request(link.household, request_id)
    saved = services.request_photos_add(
        request=r, photos=_photos_in(photos), kind="report", link=link, source="api"
    )
    return Status(201, _photos(saved, token=_home_token(request)))


@router.post(
    "/mine/requests/{request_id}/rate",
    response={200: HomeRequestOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_request_rate(request, request_id: int, payload: RequestRateIn):
    link: HouseholdLink = request.auth
    r = queries.household_request(link.household, request_id)
    services.request_rate(
        request=r,
        link=link,
        rating=payload.rating,
        comment=payload.comment,
        client_id=payload.client_id,
        source="api",
    )
    return _home_request(
        queries.household_request(link.household, request_id), _home_token(request)
    )


@router.post(
    "/mine/requests/{request_id}/reopen",
    response={200: HomeRequestOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_request_reopen(request, request_id: int, payload: ReopenIn):
    link: HouseholdLink = request.auth
    r = queries.household_request(link.household, request_id)
    services.request_reopen(
        request=r, link=link, reason=payload.reason, client_id=payload.client_id, source="api"
    )
    return _home_request(
        queries.household_request(link.household, request_id), _home_token(request)
    )


@router.post(
    "/mine/errands",
    response={201: HomeErrandOut, 200: HomeErrandOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_errand_order(request, payload: HomeErrandIn):
    link: HouseholdLink = request.auth
    replay = replayed(Errand, payload.client_id, link) is not None
    e = services.errand_order(
        household=link.household,
        link=link,
        urgency=payload.urgency,
        items=[services.ItemInput(i.name, i.quantity) for i in payload.items],
        note=payload.note,
        payment_note=payload.payment_note,
        raised_by=_member(link, payload.raised_by_id),
        client_id=payload.client_id,
        source="api",
    )
    return Status(
        200 if replay else 201, _home_errand(queries.household_errand(link.household, e.pk))
    )


@router.get(
    "/mine/errands/{errand_id}", response={200: HomeErrandOut, **READ_ERRORS}, auth=household_auth
)
def home_errand_detail(request, errand_id: int):
    link: HouseholdLink = request.auth
    return _home_errand(queries.household_errand(link.household, errand_id))


@router.post(
    "/mine/errands/{errand_id}/confirm",
    response={200: HomeErrandOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_errand_confirm(request, errand_id: int, payload: ConfirmIn):
    link: HouseholdLink = request.auth
    e = queries.household_errand(link.household, errand_id)
    services.errand_confirm(
        errand=e,
        link=link,
        rating=payload.rating,
        comment=payload.comment,
        client_id=payload.client_id,
        source="api",
    )
    return _home_errand(queries.household_errand(link.household, errand_id))


@router.post(
    "/mine/errands/{errand_id}/cancel",
    response={200: HomeErrandOut, **WRITE_ERRORS},
    auth=household_auth,
)
def home_errand_cancel(request, errand_id: int, payload: CancelIn):
    link: HouseholdLink = request.auth
    e = queries.household_errand(link.household, errand_id)
    services.errand_cancel(
        errand=e, link=link, reason=payload.reason, client_id=payload.client_id, source="api"
    )
    return _home_errand(queries.household_errand(link.household, errand_id))
