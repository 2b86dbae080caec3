"""Mobilization over JSON (mounted at /api/v1/mobilization): the reserve pool, dispatch and
recall, the extra-cadre rule, report-in (its submission is public), places on duty, rosters,
check-in and check-out, organisations at sites, allowances.

Thin: rows are fetched through the scope (a row outside it is 404; one the caller may see but
not act on is 403), reads come from people.queries, writes go through people.services. Every
write a device may retry carries a client-made id: a retried check-in, dispatch, place, team
or award returns what the first request made."""

import datetime as dt
from decimal import Decimal
from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, DetailOut, ErrorsOut, get_for_change
from bastion.core.errors import DomainError
from bastion.core.idempotency import create_once
from bastion.geo import queries as geo_queries
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Node
from bastion.ledgers.responses import xlsx_response
from bastion.people import queries, services
from bastion.people.models import (
    AllowanceMonth,
    AvailabilityStatus,
    Award,
    Deployment,
    DeploymentKind,
    Dispatch,
    MonthStatus,
    Organisation,
    Person,
    Place,
    PlaceKind,
    PostRole,
    ReportIn,
    ReportInStatus,
    Skill,
    Team,
    TeamKind,
    TeamMember,
)

router = Router(tags=["mobilization"])
MAX_PAGE = 500
PUBLIC_ERRORS = {409: ErrorsOut, 422: ErrorsOut, 429: ErrorsOut}


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class NodeRef(Schema):
    id: int
    name: str
    level: str


class PersonRef(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked.")


class PoolMemberOut(Schema):
    person: PersonRef
    place: str = Field(description="Where the person lives.")
    availability: AvailabilityStatus
    available_until: dt.date | None
    skills: list[Skill]
    deployed_to: NodeRef | None = Field(description="Where the person is sent today.")


class PoolPageOut(Schema):
    count: int
    items: list[PoolMemberOut]


class AvailabilityIn(Schema):
    status: AvailabilityStatus
    until: dt.date | None = None
    note: str = ""
    skills: list[Skill] | None = Field(None, description="Replaces the skills when given.")


class AvailabilityOut(Schema):
    person_id: int
    status: AvailabilityStatus
    until: dt.date | None
    note: str
    skills: list[Skill]


class DispatchIn(Schema):
    person_ids: list[int] = Field(..., min_length=1, max_length=2000)
    kind: DeploymentKind = DeploymentKind.RESERVE
    node_id: int | None = Field(None, description="A community or lower; or give place_id.")
    place_id: int | None = None
    starts_on: dt.date
    ends_on: dt.date
    note: str = ""
    client_id: UUID | None = Field(
        None, description="Made by the device; a retry with the same id sends nobody twice."
    )


class DeploymentOut(Schema):
    id: int
    dispatch_id: int
    person: PersonRef
    kind: DeploymentKind
    node: NodeRef
    place_id: int | None
    starts_on: dt.date
    ends_on: dt.date
    recalled_on: dt.date | None
    recall_reason: str


class DispatchOut(Schema):
    id: int
    kind: DeploymentKind
    node: NodeRef
    place_id: int | None
    starts_on: dt.date
    ends_on: dt.date
    client_id: UUID | None
    deployments: list[DeploymentOut]


class DeploymentPageOut(Schema):
    count: int
    items: list[DeploymentOut]


class RecallIn(Schema):
    on: dt.date | None = Field(None, description="The first day no longer there; today.")
    reason: str = ""


class CoverageOut(Schema):
    community: NodeRef
    cadres: int
    minimum: int
    short: int


class ReportInSubmitIn(Schema):
    community_token: str = Field(..., description="From the community's QR code.")
    name: str
    id_number: str
    phone: str
    employer: str = ""
    skills: list[Skill] = []
    note: str = ""


class ReportInReceiptOut(Schema):
    status: ReportInStatus
    community: str
    submitted_at: dt.datetime


class ReportInOut(Schema):
    id: int
    community: NodeRef
    name: str
    id_number: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    employer: str
    skills: list[str]
    note: str
    status: ReportInStatus
    submitted_at: dt.datetime
    person_id: int | None
    post_id: int | None
    task: str
    reason: str


class ReportInConfirmIn(Schema):
    role: PostRole | None = Field(None, description="A post to give, on post_node_id.")
    post_node_id: int | None = Field(None, description="The community when not given.")
    task: str = ""


class ReportInRejectIn(Schema):
    reason: str


class PlaceIn(Schema):
    node_id: int
    name: str
    kind: PlaceKind
    address: str = ""
    chief_id: int | None = None
    shifts_per_day: int = Field(3, ge=1, le=6)
    shift_hours: int = Field(8, ge=1, le=24)
    first_shift_at: dt.time = dt.time(8, 0)
    required: int = Field(2, ge=1, le=50)
    opened_on: dt.date | None = None
    ref_type: str = Field("", description='Another module\'s record, e.g. "testing.site".')
    ref_id: int | None = None
    client_id: UUID | None = None


class PlacePatchIn(Schema):
    name: str | None = None
    address: str | None = None
    chief_id: int | None = Field(None, description="0 removes the point chief.")
    required: int | None = Field(None, ge=1, le=50)
    closed_on: dt.date | None = None


class PlaceOut(Schema):
    id: int
    name: str
    kind: PlaceKind
    node: NodeRef
    address: str
    chief: PersonRef | None
    shifts_per_day: int
    shift_hours: int
    first_shift_at: dt.time
    required: int
    opened_on: dt.date
    closed_on: dt.date | None
    ref_type: str
    ref_id: int | None
    client_id: UUID | None


class CheckOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    note: str
    client_id: UUID | None


class DutyOut(Schema):
    assignment_id: int
    person: PersonRef
    check_in: CheckOut | None
    check_out: CheckOut | None


class ShiftOut(Schema):
    id: int
    day: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    required: int
    missing: int
    duties: list[DutyOut]
    handover: list[str] = Field(description="Notes left by the shift before.")


class PlaceRosterOut(PlaceOut):
    day: dt.date
    shifts: list[ShiftOut]


class PlaceListItemOut(PlaceOut):
    shifts: int
    rostered: int
    checked_in: int
    short: int = Field(description="Shifts of the day short of people or not built.")


class RosterIn(Schema):
    day: dt.date


class ShiftAssignIn(Schema):
    person_id: int


class AssignmentOut(Schema):
    id: int
    shift_id: int
    place_id: int
    person: PersonRef
    starts_at: dt.datetime
    ends_at: dt.datetime


class SwapIn(Schema):
    other_assignment_id: int


class TransferIn(Schema):
    person_id: int


class CheckInIn(Schema):
    client_id: UUID = Field(..., description="Made by the device; a retry changes nothing.")
    at: dt.datetime | None = Field(None, description="When, by the device's clock; now.")


class CheckOutIn(CheckInIn):
    note: str = Field("", description="Handover note for the next shift.")


class GapOut(Schema):
    place_id: int
    place: str
    day: dt.date
    index: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    required: int
    rostered: int
    built: bool


class MyDutyOut(Schema):
    assignment_id: int
    place_id: int
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    check_in: CheckOut | None
    check_out: CheckOut | None


class TeamIn(Schema):
    kind: TeamKind
    name: str
    node_id: int | None = None
    place_id: int | None = Field(None, description="Required for a temporary party branch.")
    formed_on: dt.date | None = None
    client_id: UUID | None = None


class MemberOut(Schema):
    person: PersonRef
    title: str
    joined_on: dt.date


class TeamOut(Schema):
    id: int
    kind: TeamKind
    name: str
    node: NodeRef
    place_id: int | None
    organisation_id: int | None
    formed_on: dt.date
    members: int
    client_id: UUID | None


class TeamDetailOut(TeamOut):
    member_list: list[MemberOut]


class MemberIn(Schema):
    person_id: int
    title: str = ""


class KindCountOut(Schema):
    kind: TeamKind
    teams: int
    members: int


class TeamCountsOut(Schema):
    node: NodeRef
    counts: list[KindCountOut]


class MonthIn(Schema):
    node_id: int
    month: dt.date = Field(..., description="Any day of the month.")
    payer_id: int | None = Field(None, description="Who pays those without an employer.")


class RateOut(Schema):
    key: str
    label: str
    unit: str
    amount: Decimal


class AllowanceRateIn(Schema):
    key: str = Field(..., description='A place kind, or "post:<role>".')
    amount: Decimal = Field(..., ge=0)


class AwardIn(Schema):
    person_id: int
    title: str
    amount: Decimal = Field(..., gt=0)
    node_id: int | None = Field(None, description="The awarding node; the month's if not.")
    awarded_on: dt.date | None = None
    client_id: UUID | None = None


class AwardOut(Schema):
    id: int
    person: PersonRef
    title: str
    amount: Decimal
    awarded_on: dt.date
    client_id: UUID | None


class LedgerPersonOut(Schema):
    person_id: int
    name: str
    id_number: str = Field(description="Masked.")
    payer: str
    days: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal
    total: Decimal


class LedgerPayerOut(Schema):
    payer: str
    persons: int
    daily: Decimal
    monthly: Decimal
    awards: Decimal
    total: Decimal


class MonthOut(Schema):
    id: int
    node: NodeRef
    month: str = Field(description="YYYY-MM.")
    status: MonthStatus
    payer: str
    computed_at: dt.datetime | None
    closed_at: dt.datetime | None


class MonthDetailOut(MonthOut):
    rates: list[RateOut]
    persons: list[LedgerPersonOut]
    payers: list[LedgerPayerOut]
    total: Decimal


class ComputedOut(Schema):
    lines: int


# --------------------------------------------------------------------------------------------
# Shaping rows
# --------------------------------------------------------------------------------------------


def _node(node: Node) -> dict:
    return {"id": node.pk, "name": node.name, "level": node.level}


def _person(p: Person) -> dict:
    return {"id": p.pk, "name": p.name, "phone": mask_mobile(p.phone)}


def _deployment(d: Deployment) -> dict:
    return {
        "id": d.pk,
        "dispatch_id": d.dispatch_id,
        "person": _person(d.person),
        "kind": d.kind,
        "node": _node(d.node),
        "place_id": d.place_id,
        "starts_on": d.starts_on,
        "ends_on": d.ends_on,
        "recalled_on": d.recalled_on,
        "recall_reason": d.recall_reason,
    }


def _place(p: Place) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "kind": p.kind,
        "node": _node(p.node),
        "address": p.address,
        "chief": _person(p.chief) if p.chief_id else None,
        "shifts_per_day": p.shifts_per_day,
        "shift_hours": p.shift_hours,
        "first_shift_at": p.first_shift_at,
        "required": p.required,
        "opened_on": p.opened_on,
        "closed_on": p.closed_on,
        "ref_type": p.ref_type,
        "ref_id": p.ref_id,
        "client_id": p.client_id,
    }


def _check(event) -> dict | None:
    if event is None:
        return None
    return {
        "id": event.pk,
        "kind": event.kind,
        "at": event.at,
        "note": event.note,
        "client_id": event.client_id,
    }


def _roster(place: Place, day: dt.date) -> dict:
    return {
        **_place(place),
        "day": day,
        "shifts": [
            {
                "id": row.shift.pk,
                "day": row.shift.day,
                "index": row.shift.index,
                "starts_at": row.shift.starts_at,
                "ends_at": row.shift.ends_at,
                "required": row.shift.required,
                "missing": row.missing,
                "duties": [
                    {
                        "assignment_id": d.assignment.pk,
                        "person": _person(d.person),
                        "check_in": _check(d.check_in),
                        "check_out": _check(d.check_out),
                    }
                    for d in row.duties
                ],
                "handover": [e.note for e in row.handover],
            }
            for row in queries.place_roster(place, day)
        ],
    }


def _assignment(a) -> dict:
    return {
        "id": a.pk,
        "shift_id": a.shift_id,
        "place_id": a.shift.place_id,
        "person": _person(a.person),
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
    }


def _team(t: Team, members: int | None = None) -> dict:
    if members is None:
        members = t.members.filter(left_on__isnull=True).count()
    return {
        "id": t.pk,
        "kind": t.kind,
        "name": t.name,
        "node": _node(t.node),
        "place_id": t.place_id,
        "organisation_id": t.organisation_id,
        "formed_on": t.formed_on,
        "members": members,
        "client_id": t.client_id,
    }


def _month(m: AllowanceMonth) -> dict:
    return {
        "id": m.pk,
        "node": _node(m.node),
        "month": f"{m.month:%Y-%m}",
        "status": m.status,
        "payer": m.payer.name if m.payer_id else "",
        "computed_at": m.computed_at,
        "closed_at": m.closed_at,
    }


def _report_in(r: ReportIn) -> dict:
    return {
        "id": r.pk,
        "community": _node(r.community),
        "name": r.name,
        "id_number": mask_id_number(r.id_number),
        "phone": mask_mobile(r.phone),
        "employer": r.employer_name,
        "skills": [s for s in r.skills.split(",") if s],
        "note": r.note,
        "status": r.status,
        "submitted_at": r.submitted_at,
        "person_id": r.person_id,
        "post_id": r.post_id,
        "task": r.task,
        "reason": r.reason,
    }


def _node_or_root(user, node_id: int | None) -> Node:
    if node_id is not None:
        return geo_queries.node_for(user, node_id)
    root = geo_queries.root_nodes(user).first()
    if root is None:
        raise Http404
    return root


# --------------------------------------------------------------------------------------------
# The pool, dispatch and recall, the extra-cadre rule
# --------------------------------------------------------------------------------------------


@router.get("/pool", response={200: PoolPageOut, **READ_ERRORS})
def pool(
    request,
    node: int | None = None,
    skill: Skill | None = None,
    availability: str = Query("", pattern="^(|available|limited|unavailable|deployed)$"),
    q: str = "",
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    """The reserve pool under a node (persons holding a reserve post, by where they live):
    availability, skills, and where each is sent today."""
    place = _node_or_root(request.user, node)
    persons = queries.pool(
        request.user, place, skill=skill or "", availability=availability, text=q
    )
    page = list(persons[offset : offset + limit])
    ids = [p.pk for p in page]
    skills = queries.skills_of(ids)
    sent = queries.current_deployments(ids, timezone.localdate())
    homes = queries.place_paths(request.user, page)
    return {
        "count": persons.count(),
        "items": [
            {
                "person": _person(p),
                "place": homes[p.pk],
                "availability": p.availability_status,
                "available_until": p.available_until,
                "skills": skills.get(p.pk, []),
                "deployed_to": _node(sent[p.pk].node) if p.pk in sent else None,
            }
            for p in page
        ],
    }


@router.put("/persons/{person_id}/availability", response={200: AvailabilityOut, **WRITE_ERRORS})
def availability_set(request, person_id: int, payload: AvailabilityIn):
    """Whether a person can be called on (and until when); `skills` replaces their skills."""
    person = get_for_change(Person, request.user, pk=person_id)
    row = services.availability_set(
        person=person,
        status=payload.status,
        until=payload.until,
        note=payload.note,
        skills=payload.skills,
        actor=request.user,
        source="api",
    )
    return {
        "person_id": person.pk,
        "status": row.status,
        "until": row.until,
        "note": row.note,
        "skills": list(person.skills.order_by("skill").values_list("skill", flat=True)),
    }


def _dispatch_out(dispatch: Dispatch) -> dict:
    deployments = dispatch.deployments.select_related("person", "node").order_by("id")
    return {
        "id": dispatch.pk,
        "kind": dispatch.kind,
        "node": _node(dispatch.node),
        "place_id": dispatch.place_id,
        "starts_on": dispatch.starts_on,
        "ends_on": dispatch.ends_on,
        "client_id": dispatch.client_id,
        "deployments": [_deployment(d) for d in deployments],
    }


@router.post("/dispatches", response={201: DispatchOut, 200: DispatchOut, **WRITE_ERRORS})
def dispatch_create(request, payload: DispatchIn):
    """Send a selection of persons (that the caller may see) to a node or a place the caller
    may change, for a period. Refused as a whole, naming each person, if one is unavailable
    or already sent somewhere on one of those days."""
    place = node = None
    if payload.place_id is not None:
        place = get_for_change(
            Place.objects.select_related("node"), request.user, pk=payload.place_id
        )
    elif payload.node_id is not None:
        node = get_for_change(Node, request.user, pk=payload.node_id)
    ids = set(payload.person_ids)
    persons = list(Person.objects.restrict(request.user).filter(pk__in=ids))
    if missing := sorted(ids - {p.pk for p in persons}):
        # Missing or outside the caller's scope: the same answer, so nothing is revealed.
        raise DomainError(
            _("No such person: %(ids)s.") % {"ids": ", ".join(map(str, missing))},
            field="person_ids",
        )
    dispatch, created = create_once(
        Dispatch,
        payload.client_id,
        request.user,
        lambda: services.dispatch_create(
            persons=persons,
            kind=payload.kind,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            node=node,
            place=place,
            note=payload.note,
            actor=request.user,
            source="api",
            client_id=payload.client_id,
        ),
    )
    return Status(201 if created else 200, _dispatch_out(dispatch))


@router.get("/deployments", response={200: DeploymentPageOut, **READ_ERRORS})
def deployment_list(
    request,
    node: int | None = None,
    state: str = Query("active", pattern="^(active|upcoming|ended|all)$"),
    kind: DeploymentKind | None = None,
    day: dt.date | None = None,
    q: str = "",
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    """Persons sent into a node's subtree: on duty on `day` (today), to come, ended, or all."""
    place = _node_or_root(request.user, node)
    rows = queries.deployments_under(
        request.user, place, state=state, day=day, kind=kind or "", text=q
    )
    return {"count": rows.count(), "items": [_deployment(d) for d in rows[offset : offset + limit]]}


@router.post("/deployments/{deployment_id}/recall", response={200: DeploymentOut, **WRITE_ERRORS})
def deployment_recall(request, deployment_id: int, payload: RecallIn):
    """Call a person back: from `on` (today) on they are no longer there."""
    deployment = get_for_change(
        Deployment.objects.select_related("person", "node"), request.user, pk=deployment_id
    )
    deployment = services.deployment_recall(
        deployment=deployment,
        on=payload.on,
        reason=payload.reason,
        actor=request.user,
        source="api",
    )
    return _deployment(deployment)


@router.get("/coverage", response={200: list[CoverageOut], **READ_ERRORS})
def coverage(
    request,
    node: int | None = None,
    day: dt.date | None = None,
    short_only: bool = False,
    minimum: int | None = Query(None, ge=0, le=1000),
):
    """The extra-cadre rule: each community (under `node`) with the persons sent down to it
    on duty on `day`, and how many it is short of the minimum (BASTION_MIN_EXTRA_CADRES)."""
    place = _node_or_root(request.user, node)
    rows = queries.extra_cadres(request.user, place, day=day, minimum=minimum)
    return [
        {
            "community": _node(r.community),
            "cadres": r.cadres,
            "minimum": r.minimum,
            "short": r.short,
        }
        for r in rows
        if r.short or not short_only
    ]


# --------------------------------------------------------------------------------------------
# Report-in
# --------------------------------------------------------------------------------------------


@router.post(
    "/report-in",
    auth=None,
    response={201: ReportInReceiptOut, 200: ReportInReceiptOut, **PUBLIC_ERRORS},
)
def report_in_submit(request: HttpRequest, payload: ReportInSubmitIn):
    """Public, no login: a party member registers with their home community (the token comes
    from its QR code). Sending the same registration again answers 200 with it; an ID number
    registered otherwise is refused (409); too many from one address, 429."""
    community = queries.community_from_token(payload.community_token)
    if community is None:
        raise DomainError(
            _("This link is not valid: scan your community's QR code again."),
            field="community_token",
        )
    try:
        row, created = services.report_in_submit(
            community=community,
            name=payload.name,
            id_number=payload.id_number,
            phone=payload.phone,
            employer_name=payload.employer,
            skills=payload.skills,
            note=payload.note,
            source_key=services.report_in_source_key(request.META.get("REMOTE_ADDR", "")),
            source="api",
        )
    except services.TooManyReports as error:
        return Status(429, {"errors": error.as_list()})
    return Status(
        201 if created else 200,
        {"status": row.status, "community": community.name, "submitted_at": row.submitted_at},
    )


@router.get("/report-ins", response={200: list[ReportInOut], **READ_ERRORS})
def report_in_list(
    request,
    node: int | None = None,
    status: ReportInStatus | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    place = _node_or_root(request.user, node)
    rows = queries.report_ins_under(request.user, place, status=status or "")
    return [_report_in(r) for r in rows[offset : offset + limit]]


@router.post("/report-ins/{report_in_id}/confirm", response={200: ReportInOut, **WRITE_ERRORS})
def report_in_confirm(request, report_in_id: int, payload: ReportInConfirmIn):
    """Take a registration: the person is found by ID number or created, and gets a post
    (on `post_node_id`, the community by default) or a task."""
    row = get_for_change(
        ReportIn.objects.select_related("community"), request.user, pk=report_in_id
    )
    post_node = None
    if payload.post_node_id is not None:
        post_node = get_for_change(Node, request.user, pk=payload.post_node_id)
    row = services.report_in_confirm(
        report_in=row,
        actor=request.user,
        role=payload.role or "",
        post_node=post_node,
        task=payload.task,
        source="api",
    )
    return _report_in(row)


@router.post("/report-ins/{report_in_id}/reject", response={200: ReportInOut, **WRITE_ERRORS})
def report_in_reject(request, report_in_id: int, payload: ReportInRejectIn):
    row = get_for_change(
        ReportIn.objects.select_related("community"), request.user, pk=report_in_id
    )
    row = services.report_in_reject(
        report_in=row, reason=payload.reason, actor=request.user, source="api"
    )
    return _report_in(row)


# --------------------------------------------------------------------------------------------
# Places and rosters
# --------------------------------------------------------------------------------------------


@router.get("/places", response={200: list[PlaceListItemOut], **READ_ERRORS})
def place_list(
    request, node: int | None = None, kind: PlaceKind | None = None, day: dt.date | None = None
):
    """Places on duty under a node, with the figures of `day` (today)."""
    place_node = _node_or_root(request.user, node)
    day = day or timezone.localdate()
    places = list(queries.places_under(request.user, place_node, kind=kind or ""))
    figures = queries.place_figures(places, day)
    return [{**_place(p), **figures[p.pk]} for p in places]


@router.post("/places", response={201: PlaceOut, 200: PlaceOut, **WRITE_ERRORS})
def place_create(request, payload: PlaceIn):
    node = get_for_change(Node, request.user, pk=payload.node_id)
    chief = None
    if payload.chief_id is not None:
        chief = queries.duty_person(request.user, payload.chief_id)
    place, created = create_once(
        Place,
        payload.client_id,
        request.user,
        lambda: services.place_create(
            node=node,
            name=payload.name,
            kind=payload.kind,
            address=payload.address,
            chief=chief,
            shifts_per_day=payload.shifts_per_day,
            shift_hours=payload.shift_hours,
            first_shift_at=payload.first_shift_at,
            required=payload.required,
            opened_on=payload.opened_on,
            ref_type=payload.ref_type,
            ref_id=payload.ref_id,
            actor=request.user,
            source="api",
        ),
    )
    place = Place.objects.select_related("node", "chief").get(pk=place.pk)
    return Status(201 if created else 200, _place(place))


@router.get("/places/{place_id}", response={200: PlaceRosterOut, **READ_ERRORS})
def place_detail(request, place_id: int, day: dt.date | None = None):
    """A place and its roster of `day` (today): shifts, people, check-ins, handover notes."""
    place = queries.access_place(request.user, place_id)
    return _roster(place, day or timezone.localdate())


@router.patch("/places/{place_id}", response={200: PlaceOut, **WRITE_ERRORS})
def place_update(request, place_id: int, payload: PlacePatchIn):
    place = get_for_change(Place.objects.select_related("node", "chief"), request.user, pk=place_id)
    changes = payload.model_dump(exclude_unset=True)
    if "chief_id" in changes:
        chief_id = changes.pop("chief_id")
        changes["chief"] = queries.duty_person(request.user, chief_id) if chief_id else None
    place = services.place_update(place=place, actor=request.user, source="api", **changes)
    return _place(place)


@router.post("/places/{place_id}/roster", response={200: PlaceRosterOut, **WRITE_ERRORS})
def roster_build(request, place_id: int, payload: RosterIn):
    """Build the shifts of a day (those missing); answers the day's roster."""
    place = queries.access_place(request.user, place_id, act=True)
    services.roster_build(place=place, day=payload.day, actor=request.user, source="api")
    return _roster(place, payload.day)


@router.post(
    "/shifts/{shift_id}/assignments",
    response={201: AssignmentOut, 200: AssignmentOut, **WRITE_ERRORS},
)
def shift_assign(request, shift_id: int, payload: ShiftAssignIn):
    """Roster a person on a shift. Refused (409) with the reason if they are on duty
    elsewhere then, or would be on duty too long in a row. Rostering twice answers 200."""
    shift = queries.access_shift(request.user, shift_id, act=True)
    person = queries.duty_person(request.user, payload.person_id, day=shift.day)
    before = shift.assignments.filter(person=person).exists()
    assignment = services.shift_assign(shift=shift, person=person, actor=request.user, source="api")
    return Status(200 if before else 201, _assignment(assignment))


@router.delete("/assignments/{assignment_id}", response={204: None, **WRITE_ERRORS})
def assignment_remove(request, assignment_id: int):
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    services.assignment_remove(assignment=assignment, actor=request.user, source="api")
    return Status(204, None)


@router.post(
    "/assignments/{assignment_id}/swap", response={200: list[AssignmentOut], **WRITE_ERRORS}
)
def assignment_swap(request, assignment_id: int, payload: SwapIn):
    """Two persons trade shifts; both must be free and rested for the other's."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    other = queries.access_assignment(request.user, payload.other_assignment_id, act=True)
    a, b = services.assignment_swap(
        assignment=assignment, other=other, actor=request.user, source="api"
    )
    return [_assignment(a), _assignment(b)]


@router.post("/assignments/{assignment_id}/transfer", response={200: AssignmentOut, **WRITE_ERRORS})
def assignment_transfer(request, assignment_id: int, payload: TransferIn):
    """Give a rostered shift to someone else."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True)
    person = queries.duty_person(request.user, payload.person_id, day=assignment.shift.day)
    assignment = services.assignment_transfer(
        assignment=assignment, person=person, actor=request.user, source="api"
    )
    return _assignment(assignment)


@router.post(
    "/assignments/{assignment_id}/check-in", response={201: CheckOut, 200: CheckOut, **WRITE_ERRORS}
)
def check_in(request, assignment_id: int, payload: CheckInIn):
    """Check in (the person themself, the point chief or staff). Idempotent: a retry with the
    same `client_id` answers 200 with the first check-in."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    replay = assignment.checks.filter(client_id=payload.client_id).exists()
    event = services.duty_check_in(
        assignment=assignment,
        actor=request.user,
        at=payload.at,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _check(event))


@router.post(
    "/assignments/{assignment_id}/check-out",
    response={201: CheckOut, 200: CheckOut, **WRITE_ERRORS},
)
def check_out(request, assignment_id: int, payload: CheckOutIn):
    """Check out with the handover note. Idempotent like the check-in."""
    assignment = queries.access_assignment(request.user, assignment_id, act=True, own=True)
    replay = assignment.checks.filter(client_id=payload.client_id).exists()
    event = services.duty_check_out(
        assignment=assignment,
        actor=request.user,
        at=payload.at,
        note=payload.note,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _check(event))


@router.get("/gaps", response={200: list[GapOut], **READ_ERRORS})
def gaps(request, node: int | None = None, day: dt.date | None = None):
    """Shifts of `day` (tomorrow) short of people or not built, at the places under a node."""
    place_node = _node_or_root(request.user, node)
    day = day or timezone.localdate() + dt.timedelta(days=1)
    return [
        {
            "place_id": g.place.pk,
            "place": g.place.name,
            "day": g.day,
            "index": g.index,
            "starts_at": g.starts_at,
            "ends_at": g.ends_at,
            "required": g.required,
            "rostered": g.rostered,
            "built": g.built,
        }
        for g in queries.roster_gaps(request.user, place_node, day)
    ]


@router.get("/my-duty", response={200: list[MyDutyOut]})
def my_duty(request):
    """The caller's own shifts from two hours ago to a day ahead."""
    return [
        {
            "assignment_id": d.assignment.pk,
            "place_id": d.assignment.shift.place_id,
            "place": d.assignment.shift.place.name,
            "starts_at": d.assignment.starts_at,
            "ends_at": d.assignment.ends_at,
            "check_in": _check(d.check_in),
            "check_out": _check(d.check_out),
        }
        for d in queries.my_duties(request.user)
    ]


# --------------------------------------------------------------------------------------------
# Organisations at sites
# --------------------------------------------------------------------------------------------


@router.get("/teams", response={200: list[TeamOut], **READ_ERRORS})
def team_list(request, node: int | None = None, kind: TeamKind | None = None):
    place_node = _node_or_root(request.user, node)
    return [
        _team(t, t.member_count)
        for t in queries.teams_under(request.user, place_node, kind=kind or "")
    ]


@router.get("/team-counts", response={200: list[TeamCountsOut], **READ_ERRORS})
def team_counts(request, node: int | None = None):
    """Teams and members by kind, for a node and each of its children."""
    place_node = _node_or_root(request.user, node)
    return [
        {
            "node": _node(row["node"]),
            "counts": [
                {"kind": k, "teams": t, "members": m} for k, (t, m) in row["counts"].items()
            ],
        }
        for row in queries.team_counts(request.user, place_node)
    ]


@router.post("/teams", response={201: TeamOut, 200: TeamOut, **WRITE_ERRORS})
def team_create(request, payload: TeamIn):
    """Set up a team on a node or at a place; a temporary party branch at a place."""
    place = node = None
    if payload.place_id is not None:
        place = get_for_change(
            Place.objects.select_related("node"), request.user, pk=payload.place_id
        )
    elif payload.node_id is not None:
        node = get_for_change(Node, request.user, pk=payload.node_id)
    team, created = create_once(
        Team,
        payload.client_id,
        request.user,
        lambda: services.team_create(
            kind=payload.kind,
            name=payload.name,
            node=node,
            place=place,
            formed_on=payload.formed_on,
            actor=request.user,
            source="api",
        ),
    )
    return Status(201 if created else 200, _team(team))


@router.get("/teams/{team_id}", response={200: TeamDetailOut, **READ_ERRORS})
def team_detail(request, team_id: int):
    team = scope.get_scoped_or_404(Team.objects.select_related("node"), request.user, pk=team_id)
    members = team.members.filter(left_on__isnull=True).select_related("person")
    return {
        **_team(team),
        "member_list": [
            {"person": _person(m.person), "title": m.title, "joined_on": m.joined_on}
            for m in members.order_by("person__name")
        ],
    }


@router.post("/teams/{team_id}/members", response={201: MemberOut, **WRITE_ERRORS})
def team_member_add(request, team_id: int, payload: MemberIn):
    team = get_for_change(Team, request.user, pk=team_id)
    person = queries.duty_person(request.user, payload.person_id)
    member = services.team_member_add(
        team=team, person=person, title=payload.title, actor=request.user, source="api"
    )
    return Status(
        201, {"person": _person(person), "title": member.title, "joined_on": member.joined_on}
    )


@router.delete("/teams/{team_id}/members/{person_id}", response={204: None, **WRITE_ERRORS})
def team_member_remove(request, team_id: int, person_id: int):
    team = get_for_change(Team, request.user, pk=team_id)
    member = get_for_change(
        TeamMember.objects.filter(team=team, left_on__isnull=True),
        request.user,
        person_id=person_id,
    )
    services.team_member_remove(member=member, actor=request.user, source="api")
    return Status(204, None)


# --------------------------------------------------------------------------------------------
# Allowances
# --------------------------------------------------------------------------------------------


def _month_detail(month: AllowanceMonth) -> dict:
    ledger = queries.month_ledger(month)
    return {
        **_month(month),
        "rates": [
            {"key": r.key, "label": services.rate_label(r.key), "unit": r.unit, "amount": r.amount}
            for r in month.rates.order_by("key")
        ],
        "persons": [
            {**vars(p), "id_number": mask_id_number(p.id_number), "total": p.total}
            for p in ledger["persons"]
        ],
        "payers": ledger["payers"],
        "total": ledger["total"],
    }


def _month_for(user, month_id: int, *, change: bool = False) -> AllowanceMonth:
    qs = AllowanceMonth.objects.select_related("node", "payer")
    if change:
        return get_for_change(qs, user, pk=month_id)
    return scope.get_scoped_or_404(qs, user, pk=month_id)


@router.get("/allowance-months", response={200: list[MonthOut], **READ_ERRORS})
def month_list(request, node: int | None = None):
    place_node = _node_or_root(request.user, node)
    return [_month(m) for m in queries.months_under(request.user, place_node)]


@router.post("/allowance-months", response={201: MonthDetailOut, **WRITE_ERRORS})
def month_open(request, payload: MonthIn):
    """Open a node's allowance ledger for a month, with the previous month's rates (or the
    configured ones)."""
    node = get_for_change(Node, request.user, pk=payload.node_id)
    payer = None
    if payload.payer_id is not None:
        payer = scope.get_scoped_or_404(Organisation, request.user, pk=payload.payer_id)
    month = services.allowance_month_open(
        node=node, month=payload.month, payer=payer, actor=request.user, source="api"
    )
    return Status(201, _month_detail(_month_for(request.user, month.pk)))


@router.get("/allowance-months/{month_id}", response={200: MonthDetailOut, **READ_ERRORS})
def month_detail(request, month_id: int):
    """A month's rates and its ledger per person and per paying body."""
    return _month_detail(_month_for(request.user, month_id))


@router.post("/allowance-months/{month_id}/rates", response={200: RateOut, **WRITE_ERRORS})
def rate_set(request, month_id: int, payload: AllowanceRateIn):
    month = _month_for(request.user, month_id, change=True)
    rate = services.allowance_rate_set(
        month=month, key=payload.key, amount=payload.amount, actor=request.user, source="api"
    )
    return {
        "key": rate.key,
        "label": services.rate_label(rate.key),
        "unit": rate.unit,
        "amount": rate.amount,
    }


@router.post(
    "/allowance-months/{month_id}/awards", response={201: AwardOut, 200: AwardOut, **WRITE_ERRORS}
)
def award_grant(request, month_id: int, payload: AwardIn):
    """A one-off amount for a person ("grid star") in an open month."""
    month = _month_for(request.user, month_id, change=True)
    person = queries.duty_person(request.user, payload.person_id)
    node = None
    if payload.node_id is not None:
        node = get_for_change(Node, request.user, pk=payload.node_id)
    award, created = create_once(
        Award,
        payload.client_id,
        request.user,
        lambda: services.award_grant(
            month=month,
            person=person,
            title=payload.title,
            amount=payload.amount,
            node=node,
            awarded_on=payload.awarded_on,
            actor=request.user,
            source="api",
        ),
    )
    return Status(
        201 if created else 200,
        {
            "id": award.pk,
            "person": _person(person),
            "title": award.title,
            "amount": award.amount,
            "awarded_on": award.awarded_on,
            "client_id": award.client_id,
        },
    )


@router.post("/allowance-months/{month_id}/compute", response={200: ComputedOut, **WRITE_ERRORS})
def month_compute(request, month_id: int):
    """Recompute an open month's lines from the check-ins, posts and awards."""
    month = _month_for(request.user, month_id, change=True)
    return {
        "lines": services.allowance_month_compute(month=month, actor=request.user, source="api")
    }


@router.post("/allowance-months/{month_id}/close", response={200: MonthDetailOut, **WRITE_ERRORS})
def month_close(request, month_id: int):
    """Compute the month a last time and close it; nothing of it changes afterwards."""
    month = _month_for(request.user, month_id, change=True)
    services.allowance_month_close(month=month, actor=request.user, source="api")
    return _month_detail(_month_for(request.user, month_id))


@router.get("/allowance-months/{month_id}/export", response={200: None, 404: DetailOut})
def month_export(request, month_id: int):
    """The month's ledger as .xlsx: per person, per paying body, and every line."""
    month = _month_for(request.user, month_id)
    content, filename = services.allowance_export(month=month)
    return xlsx_response(content, filename)
