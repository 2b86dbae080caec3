"""Screening over JSON (mounted at /api/v1/screening): campaigns and their coverage, a grid
chief's list for today, visits (single or batched, idempotent by client id), call lists,
their rows, callbacks and follow-ups.

Thin: rows are fetched through the scope (`screening.queries`, `get_for_change`), writes go
through `screening.services`. Refusals use the shared shapes of `core.api_support`: 422 with
every problem (field and row), 409 for a conflict with the current state, 403, 404. ID and
phone numbers are masked."""

import datetime as dt
from decimal import Decimal
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Page, get_for_change
from bastion.geo import queries as geo_queries
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Node, Resident
from bastion.screening import queries, services
from bastion.screening.models import (
    Callback,
    CallList,
    CallRow,
    Campaign,
    CampaignHousehold,
    FollowUp,
    RowStatus,
)

router = Router(tags=["screening"])


# --------------------------------------------------------------------------- schemas


class NodeRef(Schema):
    id: int
    name: str
    level: str


class CampaignOut(Schema):
    id: int
    name: str
    node: NodeRef
    starts_on: dt.date
    ends_on: dt.date
    active: bool


class CampaignIn(Schema):
    node_id: int
    name: str
    starts_on: dt.date
    ends_on: dt.date
    client_id: UUID | None = Field(
        None,
        description="Made by the client: a retry returns the campaign the first request opened.",
    )


class CountsOut(Schema):
    total: int
    not_yet: int
    reached: int
    not_reachable: int
    away: int
    cleared: int
    left: int
    percent: int


class ChildCoverageOut(Schema):
    node: NodeRef
    counts: CountsOut
    grid_chief: str | None = None


class CoverageOut(Schema):
    node: NodeRef
    totals: CountsOut
    children: list[ChildCoverageOut]


class EntryOut(Schema):
    household_id: int
    building: str
    unit: str
    room: str
    floor: int
    status: str
    channel: str
    attempts: int
    last_attempt_at: dt.datetime | None
    carried_over: bool = Field(
        description="Tried on an earlier day and not cleared: first on today's list."
    )


class ProgressOut(Schema):
    total: int
    cleared: int
    left_today: int
    carried: int
    done_today: int
    percent: int


class TodayOut(Schema):
    campaign_id: int
    grid: NodeRef
    day: dt.date
    progress: ProgressOut
    left: list[EntryOut]
    done: list[EntryOut]


class FindingIn(Schema):
    resident_id: int
    temperature: Decimal | None = Field(None, description="°C; 37.3 or more counts as fever.")
    fever: bool = False
    cough: bool = False
    sore_throat: bool = False
    fatigue: bool = False
    taste_smell_loss: bool = False
    diarrhoea: bool = False
    other_symptoms: str = ""
    travel_place: str = ""
    travel_date: dt.date | None = None
    health_code: Literal["", "green", "yellow", "red"] = ""
    needs_medicine: bool = False
    needs_help: bool = False
    needs_note: str = ""


class VisitIn(Schema):
    client_id: UUID = Field(
        description="Made by the device; a retry with the same id changes "
        "nothing and returns the stored visit."
    )
    outcome: Literal["reached", "not_reachable", "away"]
    channel: Literal["", "visit", "phone", "chat"] = ""
    at: dt.datetime | None = Field(None, description="When it happened; now if not given.")
    note: str = ""
    findings: list[FindingIn] = []


class BatchVisitIn(VisitIn):
    campaign_id: int
    household_id: int


class VisitBatchIn(Schema):
    visits: list[BatchVisitIn] = Field(max_length=1000)


class VisitOut(Schema):
    id: int
    client_id: UUID
    campaign_id: int
    household_id: int
    outcome: str
    channel: str
    day: dt.date
    at: dt.datetime
    created: bool
    household_status: str | None = None


class BatchOut(Schema):
    visits: list[VisitOut]


class CallListOut(Schema):
    id: int
    name: str
    kind: str
    node: NodeRef
    filename: str
    created_at: dt.datetime
    counts: dict[str, int]


class ResidentRef(Schema):
    id: int
    name: str
    building: str
    unit: str
    room: str


class CallRowOut(Schema):
    id: int
    call_list_id: int
    row: int
    name: str
    phone: str = Field(description="Masked.")
    id_number: str = Field(description="Masked.")
    address: str
    drug_category: str
    event_at: dt.datetime | None
    place: str
    status: str
    matched_by: str
    resident: ResidentRef | None
    candidates: list[ResidentRef]


class ResolveIn(Schema):
    resident_id: int | None = None
    outside: bool = False


class CallbackOut(Schema):
    id: int
    status: str
    resident: ResidentRef
    phone: str = Field(description="The resident's mobile, masked.")
    call_list_id: int
    kind: str
    drug_category: str
    event_at: dt.datetime | None
    created_on: dt.date
    done_on: dt.date | None
    fever_now: bool | None
    temperature: Decimal | None
    drug_user: str
    drug_used_on: dt.date | None
    illness_history: str
    travel_place: str
    travel_date: dt.date | None
    note: str


class CallbackIn(Schema):
    client_id: UUID
    fever_now: bool
    temperature: Decimal | None = None
    drug_user: str = ""
    drug_used_on: dt.date | None = None
    illness_history: str = ""
    travel_place: str = ""
    travel_date: dt.date | None = None
    note: str = ""
    at: dt.datetime | None = None


class FollowUpOut(Schema):
    id: int
    resident: ResidentRef
    grid_id: int
    source: str
    opened_on: dt.date
    closed_on: dt.date | None
    outcome: str


class FollowUpCloseIn(Schema):
    outcome: str


# --------------------------------------------------------------------------- helpers


def _node(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def _campaign(campaign: Campaign) -> dict:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "node": _node(campaign.node),
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "active": campaign.is_active(timezone.localdate()),
    }


def _counts(counts: dict) -> dict:
    return {k: counts[k] for k in CountsOut.model_fields}


def _entry(entry: CampaignHousehold, today: dt.date) -> dict:
    household = entry.household
    return {
        "household_id": entry.household_id,
        "building": entry.building.name,
        "unit": entry.unit.name,
        "room": household.room,
        "floor": household.floor,
        "status": entry.status,
        "channel": entry.channel,
        "attempts": entry.attempts,
        "last_attempt_at": entry.last_attempt_at,
        "carried_over": entry.status == "not_reachable"
        and entry.last_attempt_on is not None
        and entry.last_attempt_on < today,
    }


def _resident(resident: Resident) -> dict:
    return {
        "id": resident.pk,
        "name": resident.name,
        "building": resident.building.name,
        "unit": resident.unit.name,
        "room": resident.household.room,
    }


def _visit(result: services.VisitResult, status: str | None = None) -> dict:
    visit = result.visit
    return {
        "id": visit.pk,
        "client_id": visit.client_id,
        "campaign_id": visit.campaign_id,
        "household_id": visit.household_id,
        "outcome": visit.outcome,
        "channel": visit.channel,
        "day": visit.day,
        "at": visit.at,
        "created": result.created,
        "household_status": status,
    }


def _findings(items: list[FindingIn]) -> tuple[services.FindingInput, ...]:
    return tuple(services.FindingInput(**item.model_dump()) for item in items)


def _call_lists(user, lists) -> list[dict]:
    lists = list(lists)
    counts = queries.call_list_counts(user, lists)
    return [
        {
            "id": call_list.pk,
            "name": call_list.name,
            "kind": call_list.kind,
            "node": _node(call_list.node),
            "filename": call_list.filename,
            "created_at": call_list.created_at,
            "counts": counts[call_list.pk],
        }
        for call_list in lists
    ]


def _call_rows(user, rows: list[CallRow]) -> list[dict]:
    candidates = queries.candidates_of(user, rows)
    return [
        {
            "id": row.pk,
            "call_list_id": row.call_list_id,
            "row": row.row,
            "name": row.name,
            "phone": mask_mobile(row.phone),
            "id_number": mask_id_number(row.id_number),
            "address": row.address,
            "drug_category": row.drug_category,
            "event_at": row.event_at,
            "place": row.place,
            "status": row.status,
            "matched_by": row.matched_by,
            "resident": _resident(row.resident) if row.resident_id else None,
            "candidates": [_resident(r) for r in candidates[row.pk]],
        }
        for row in rows
    ]


def _callback(callback: Callback) -> dict:
    row = callback.call_row
    return {
        "id": callback.pk,
        "status": callback.status,
        "resident": _resident(callback.resident),
        "phone": mask_mobile(callback.resident.phone),
        "call_list_id": row.call_list_id,
        "kind": row.call_list.kind,
        "drug_category": row.drug_category,
        "event_at": row.event_at,
        "created_on": callback.created_on,
        **{
            name: getattr(callback, name)
            for name in (
                "done_on",
                "fever_now",
                "temperature",
                "drug_user",
                "drug_used_on",
                "illness_history",
                "travel_place",
                "travel_date",
                "note",
            )
        },
    }


def _follow_up(follow_up: FollowUp) -> dict:
    return {
        "id": follow_up.pk,
        "resident": _resident(follow_up.resident),
        "grid_id": follow_up.grid_id,
        "source": follow_up.source,
        "opened_on": follow_up.opened_on,
        "closed_on": follow_up.closed_on,
        "outcome": follow_up.outcome,
    }


# --------------------------------------------------------------------------- campaigns


@router.get("/campaigns", response=list[CampaignOut])
def campaign_list(request, page: Query[Page], active: bool | None = None):
    """Campaigns over the caller's area or covering part of it."""
    qs = queries.campaigns_for(request.user)
    if active is not None:
        today = timezone.localdate()
        running = {"starts_on__lte": today, "ends_on__gte": today}
        qs = qs.filter(**running) if active else qs.exclude(**running)
    return [_campaign(c) for c in qs[page.offset : page.offset + page.limit]]


@router.post("/campaigns", response={201: CampaignOut, 200: CampaignOut, **WRITE_ERRORS})
def campaign_open(request, payload: CampaignIn):
    """Open a campaign over a node: every household below it goes on its grid's list."""
    node = get_for_change(Node, request.user, pk=payload.node_id)
    replay = payload.client_id and Campaign.objects.filter(client_id=payload.client_id).exists()
    campaign = services.campaign_open(
        actor=request.user,
        node=node,
        name=payload.name,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _campaign(campaign))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **READ_ERRORS})
def campaign_detail(request, campaign_id: int):
    return _campaign(queries.campaign_for(request.user, campaign_id))


@router.get("/campaigns/{campaign_id}/coverage", response={200: CoverageOut, **READ_ERRORS})
def campaign_coverage(request, campaign_id: int, node_id: int | None = None):
    """Households total / not yet / reached / not reachable / away at a node of the campaign
    (default: the campaign's node, or the caller's own part of it) and at each child."""
    user = request.user
    campaign = queries.campaign_for(user, campaign_id)
    cover = queries.coverage(user, campaign, geo_queries.area_focus(user, campaign.node, node_id))
    return {
        "node": _node(cover.node),
        "totals": _counts(cover.totals),
        "children": [
            {
                "node": _node(child),
                "counts": _counts(counts),
                "grid_chief": chief.person.name if chief else None,
            }
            for child, counts, chief in cover.children
        ],
    }


@router.get(
    "/campaigns/{campaign_id}/grids/{grid_id}/today", response={200: TodayOut, **READ_ERRORS}
)
def grid_today(request, campaign_id: int, grid_id: int):
    """A grid chief's list: what is left today (yesterday's not cleared first), what was done
    today."""
    user = request.user
    campaign = queries.campaign_for(user, campaign_id)
    grid = scope.get_scoped_or_404(
        Node.objects.filter(level="grid", path__startswith=campaign.node.path), user, pk=grid_id
    )
    today = timezone.localdate()
    return {
        "campaign_id": campaign.pk,
        "grid": _node(grid),
        "day": today,
        "progress": queries.grid_progress(user, campaign, grid, today),
        "left": [_entry(e, today) for e in queries.left_today(user, campaign, grid, today)],
        "done": [_entry(e, today) for e in queries.done_today(user, campaign, grid, today)],
    }


@router.get(
    "/campaigns/{campaign_id}/households/{household_id}", response={200: EntryOut, **READ_ERRORS}
)
def household_status(request, campaign_id: int, household_id: int):
    campaign = queries.campaign_for(request.user, campaign_id)
    entry = queries.entry_for(request.user, campaign, household_id)
    return _entry(entry, timezone.localdate())


@router.post(
    "/campaigns/{campaign_id}/households/{household_id}/visits",
    response={201: VisitOut, 200: VisitOut, **WRITE_ERRORS},
)
def visit_record(request, campaign_id: int, household_id: int, payload: VisitIn):
    """Mark a household reached (by visit, phone or chat), not reachable or away, with
    findings per resident when reached. Idempotent by `client_id` (200 on a retry)."""
    user = request.user
    campaign = queries.campaign_for(user, campaign_id)
    entry = get_for_change(
        CampaignHousehold.objects.filter(campaign=campaign), user, household_id=household_id
    )
    result = services.visit_record(
        actor=user,
        entry=entry,
        outcome=payload.outcome,
        channel=payload.channel,
        client_id=payload.client_id,
        at=payload.at,
        note=payload.note,
        findings=_findings(payload.findings),
        source="api",
    )
    entry.refresh_from_db(fields=["status"])
    return Status(201 if result.created else 200, _visit(result, entry.status))


@router.post("/visits", response={200: BatchOut, **WRITE_ERRORS})
def visits_batch(request, payload: VisitBatchIn):
    """Up to 1,000 visits in one transaction (a phone syncing after being offline). All or
    nothing: problems name the item (`row`, from 1). Items already stored (same client id)
    are returned with `created: false`."""
    items = [
        services.VisitInput(
            client_id=v.client_id,
            campaign_id=v.campaign_id,
            household_id=v.household_id,
            outcome=v.outcome,
            channel=v.channel,
            at=v.at,
            note=v.note,
            findings=_findings(v.findings),
        )
        for v in payload.visits
    ]
    results = services.visits_record(actor=request.user, visits=items, source="api")
    return {"visits": [_visit(r) for r in results]}


# --------------------------------------------------------------------------- call lists


@router.get("/call-lists", response=list[CallListOut])
def call_list_list(request, page: Query[Page]):
    lists = queries.call_lists_for(request.user)[page.offset : page.offset + page.limit]
    return _call_lists(request.user, lists)


@router.post("/call-lists", response={201: CallListOut, 200: CallListOut, **WRITE_ERRORS})
def call_list_import(
    request,
    node_id: Form[int],
    kind: Form[str],
    file: File[UploadedFile],
    name: Form[str] = "",
    client_id: Form[UUID | None] = None,
):
    """Import a list (.xlsx or .csv) into a node's area, all or nothing: every bad row is
    listed (row and field) and nothing is kept. Rows are matched to residents; matched rows
    become callbacks on the resident's grid."""
    user = request.user
    node = get_for_change(Node, user, pk=node_id)
    replay = bool(client_id) and queries.call_lists_for(user).filter(client_id=client_id).exists()
    call_list = services.call_list_import(
        actor=user,
        node=node,
        kind=kind,
        name=name,
        filename=file.name or "",
        content=file.read(),
        client_id=client_id,
        source="api",
    )
    return Status(200 if replay else 201, _call_lists(user, [call_list])[0])


@router.post("/call-lists/{list_id}/rows", response={200: CallListOut, **WRITE_ERRORS})
def call_rows_add(request, list_id: int, file: File[UploadedFile]):
    """More rows for an open list (a case's contacts as tracing finds them), all or nothing
    like an import; matched rows become callbacks."""
    user = request.user
    call_list = get_for_change(CallList, user, pk=list_id)
    services.call_rows_add(
        actor=user, call_list=call_list, filename=file.name or "", content=file.read(), source="api"
    )
    return _call_lists(user, [call_list])[0]


@router.get("/call-lists/{list_id}", response={200: CallListOut, **READ_ERRORS})
def call_list_detail(request, list_id: int):
    return _call_lists(request.user, [queries.call_list_for(request.user, list_id)])[0]


@router.get("/call-lists/{list_id}/rows", response={200: list[CallRowOut], **READ_ERRORS})
def call_list_rows(
    request,
    list_id: int,
    page: Query[Page],
    status: Literal["matched", "ambiguous", "unmatched", "outside"] | None = None,
):
    """The rows the caller may see; `status=unmatched` and `ambiguous` are those to settle."""
    user = request.user
    call_list = queries.call_list_for(user, list_id)
    rows = queries.call_rows(user, call_list, [status] if status else RowStatus.values)
    return _call_rows(user, list(rows[page.offset : page.offset + page.limit]))


@router.post("/call-rows/{row_id}/resolve", response={200: CallRowOut, **WRITE_ERRORS})
def call_row_resolve(request, row_id: int, payload: ResolveIn):
    """Settle an unmatched or ambiguous row: pick the resident (a callback opens on their
    grid) or mark it not in our area. Sending the same answer again changes nothing."""
    user = request.user
    row = get_for_change(CallRow, user, pk=row_id)
    resident = (
        get_for_change(Resident, user, pk=payload.resident_id)
        if payload.resident_id is not None
        else None
    )
    row = services.call_row_resolve(
        actor=user, row=row, resident=resident, outside=payload.outside, source="api"
    )
    row = queries.call_rows(user, row.call_list, RowStatus.values).filter(pk=row.pk).first()
    return _call_rows(user, [row])[0]


@router.get("/callbacks", response=list[CallbackOut])
def callback_list(
    request,
    page: Query[Page],
    status: Literal["open", "done"] | None = None,
    grid_id: int | None = None,
):
    rows = queries.callbacks_for(request.user, status=status, grid_id=grid_id)
    return [_callback(cb) for cb in rows[page.offset : page.offset + page.limit]]


@router.get("/callbacks/{callback_id}", response={200: CallbackOut, **READ_ERRORS})
def callback_detail(request, callback_id: int):
    return _callback(queries.callback_for(request.user, callback_id))


@router.post("/callbacks/{callback_id}/record", response={200: CallbackOut, **WRITE_ERRORS})
def callback_record(request, callback_id: int, payload: CallbackIn):
    """Record a callback's outcome; fever now opens a follow-up. A retry with the same
    client id returns the recorded callback."""
    user = request.user
    callback = get_for_change(Callback, user, pk=callback_id)
    services.callback_record(actor=user, callback=callback, source="api", **payload.model_dump())
    return _callback(queries.callback_for(user, callback_id))


@router.get("/follow-ups", response=list[FollowUpOut])
def follow_up_list(request, page: Query[Page], open: bool = True, grid_id: int | None = None):
    rows = queries.follow_ups_for(request.user, open_only=open, grid_id=grid_id)
    return [_follow_up(f) for f in rows[page.offset : page.offset + page.limit]]


@router.post("/follow-ups/{follow_up_id}/close", response={200: FollowUpOut, **WRITE_ERRORS})
def follow_up_close(request, follow_up_id: int, payload: FollowUpCloseIn):
    user = request.user
    follow_up = get_for_change(FollowUp.objects.select_related("resident"), user, pk=follow_up_id)
    services.follow_up_close(actor=user, follow_up=follow_up, outcome=payload.outcome, source="api")
    return _follow_up(queries.follow_up_for(user, follow_up_id))
