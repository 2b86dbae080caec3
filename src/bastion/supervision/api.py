"""Supervision over JSON (mounted at /api/v1/supervision): set up a team, the checklists,
record an inspection with its findings and evidence photos (multipart: the inspection as JSON
in `data`, the photos as files that each finding names by index), the caller's tasks and the
findings it sees (overdue ones on their own), the fix with a photo, the re-check, the ledger
per node and the daily patrol. Creates carry a client id: a retry answers the first row.
Thin: reads in `supervision.queries`, writes in `supervision.services`."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field, ValidationError

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, Page, get_for_change
from bastion.core.errors import DomainError, Problem
from bastion.core.idempotency import replayed
from bastion.core.photos import photos_check
from bastion.geo.models import Node
from bastion.people.mobilization.models import Place
from bastion.people.models import Person
from bastion.supervision import queries, services
from bastion.supervision.models import (
    BUILDING,
    ChecklistItem,
    Finding,
    Inspection,
    Patrol,
    SupervisionTeam,
    TargetKind,
)

router = Router(tags=["supervision"])

Kind = Literal["guard_point", "checkpoint", "sampling_site", "quarantine_site", "building"]
SeverityIn = Literal["minor", "major", "critical"]


class TeamIn(Schema):
    node_id: int
    name: str = Field(max_length=100)
    member_ids: list[int] = Field(max_length=50)
    leader_id: int | None = None
    client_id: UUID | None = None


class TeamOut(Schema):
    id: int
    node_id: int
    name: str
    member_ids: list[int]
    leader_id: int | None


class ItemIn(Schema):
    node_id: int
    kind: Kind
    text: str = Field(max_length=200)
    evidence_required: bool = True


class ItemOut(Schema):
    id: int
    node_id: int
    kind: str
    text: str
    evidence_required: bool
    active: bool


class FindingIn(Schema):
    item_id: int | None = None
    text: str = Field("", max_length=500)
    severity: SeverityIn
    due_at: dt.datetime | None = None
    photos: list[int] = Field([], max_length=4, description="indexes into the uploaded photos")


class InspectionIn(Schema):
    team_id: int
    place_id: int | None = None
    building_id: int | None = None
    mode: Literal["planned", "unannounced"] = "planned"
    note: str = Field("", max_length=500)
    findings: list[FindingIn] = Field([], max_length=50)
    client_id: UUID | None = None


class FindingOut(Schema):
    id: int
    inspection_id: int
    place_id: int | None
    building_id: int | None
    item_id: int | None
    text: str
    severity: str
    status: str
    responsible_id: int
    responsible_as: str
    found_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    fixed_at: dt.datetime | None
    fix_note: str
    rechecked_at: dt.datetime | None
    reopened: int
    repeat_of_id: int | None
    photo_ids: list[int]


class InspectionOut(Schema):
    id: int
    team_id: int
    place_id: int | None
    building_id: int | None
    kind: str
    mode: str
    inspected_at: dt.datetime
    findings: list[FindingOut]


class RecheckIn(Schema):
    passed: bool
    note: str = Field("", max_length=500)
    due_at: dt.datetime | None = None


class LedgerLineOut(Schema):
    node_id: int | None
    name: str
    total: int
    closed: int
    open: int
    fixed: int
    overdue: int
    reopened: int
    repeated: int
    closure_rate: float | None


class LedgerOut(Schema):
    node_id: int
    whole: LedgerLineOut
    lines: list[LedgerLineOut]


class PatrolIn(Schema):
    building_id: int
    failed_item_ids: list[int] = Field([], max_length=50)
    note: str = Field("", max_length=500)
    client_id: UUID | None = None


class PatrolOut(Schema):
    id: int
    building_id: int
    day: dt.date
    by_id: int
    failed_item_ids: list[int]
    note: str


class FindingsQuery(Schema):
    overdue: bool = False
    mine: bool = False


def _team(t: SupervisionTeam) -> dict:
    members = list(t.members.all())
    leader = next((m.person_id for m in members if m.leader), None)
    return {
        "id": t.pk,
        "node_id": t.node_id,
        "name": t.name,
        "member_ids": [m.person_id for m in members],
        "leader_id": leader,
    }


def _item(i: ChecklistItem) -> dict:
    return {
        "id": i.pk,
        "node_id": i.node_id,
        "kind": i.kind,
        "text": i.text,
        "evidence_required": i.evidence_required,
        "active": i.active,
    }


def _finding(f: Finding, now: dt.datetime) -> dict:
    return {
        "id": f.pk,
        "inspection_id": f.inspection_id,
        "place_id": f.place_id,
        "building_id": f.target_building_id,
        "item_id": f.item_id,
        "text": f.text,
        "severity": f.severity,
        "status": f.status,
        "responsible_id": f.responsible_id,
        "responsible_as": f.responsible_as,
        "found_at": f.found_at,
        "due_at": f.due_at,
        "overdue": f.overdue(now),
        "fixed_at": f.fixed_at,
        "fix_note": f.fix_note,
        "rechecked_at": f.rechecked_at,
        "reopened": f.reopened,
        "repeat_of_id": f.repeat_of_id,
        "photo_ids": [p.pk for p in f.photos.all()],
    }


def _inspection(i: Inspection) -> dict:
    now = timezone.now()
    return {
        "id": i.pk,
        "team_id": i.team_id,
        "place_id": i.place_id,
        "building_id": i.target_building_id,
        "kind": i.kind,
        "mode": i.mode,
        "inspected_at": i.inspected_at,
        "findings": [_finding(f, now) for f in i.findings.order_by("pk")],
    }


def _line(line: queries.LedgerLine) -> dict:
    return {
        "node_id": line.node.pk if line.node else None,
        "name": line.node.name if line.node else "",
        "total": line.total,
        "closed": line.closed,
        "open": line.open,
        "fixed": line.fixed,
        "overdue": line.overdue,
        "reopened": line.reopened,
        "repeated": line.repeated,
        "closure_rate": line.closure_rate,
    }


# --------------------------------------------------------------------------- teams, checklists


@router.post("/teams", response={201: TeamOut, 200: TeamOut, **WRITE_ERRORS})
def team_create(request, payload: TeamIn):
    """Set up an inspection team on a node of the caller's area, its members (people)."""
    user = request.user
    node = get_for_change(Node, user, pk=payload.node_id)
    ids = list(dict.fromkeys([*payload.member_ids, *filter(None, [payload.leader_id])]))
    found = {p.pk: p for p in Person.objects.filter(pk__in=ids)}
    if missing := [pk for pk in ids if pk not in found]:
        raise DomainError(_unknown("member_ids", missing))
    replay = replayed(SupervisionTeam, payload.client_id, user) is not None
    team = services.team_create(
        actor=user,
        node=node,
        name=payload.name,
        members=[found[pk] for pk in payload.member_ids],
        leader=found.get(payload.leader_id) if payload.leader_id else None,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _team(team))


def _unknown(field: str, ids: list[int]) -> list[Problem]:
    return [Problem(field, _("Unknown id: %(id)s.") % {"id": pk}) for pk in ids]


@router.get("/teams", response=list[TeamOut])
def teams(request, page: Query[Page]):
    rows = queries.teams_for(request.user).order_by("name", "pk")
    return [_team(t) for t in rows[page.offset : page.offset + page.limit]]


@router.get("/checklist", response=list[ItemOut])
def checklist(request, page: Query[Page]):
    """The checklist lines the caller sees (kept by its nodes and those above)."""
    rows = queries.checklist_items_for(request.user)
    return [_item(i) for i in rows[page.offset : page.offset + page.limit]]


@router.post("/checklist", response={201: ItemOut, **WRITE_ERRORS})
def checklist_add(request, payload: ItemIn):
    node = get_for_change(Node, request.user, pk=payload.node_id)
    item = services.checklist_item_add(
        actor=request.user,
        node=node,
        kind=payload.kind,
        text=payload.text,
        evidence_required=payload.evidence_required,
        source="api",
    )
    return Status(201, _item(item))


# --------------------------------------------------------------------------- inspections


@router.post("/inspections", response={201: InspectionOut, 200: InspectionOut, **WRITE_ERRORS})
def inspection_record(
    request,
    data: Form[str],
    photos: File[list[UploadedFile]] = None,
):
    """Record an inspection of a place or a building (one of `place_id`, `building_id`) and
    its findings, each a task for the person responsible. Photos (JPEG, PNG or WebP, 5 MB
    each, metadata stripped) are uploaded as `photos`; each finding names its own by index.
    Refused naming the field: a checklist item that needs evidence without a photo, a
    deadline passed, nobody responsible. A retry with the same `client_id` answers the first."""
    user = request.user
    try:
        payload = InspectionIn.model_validate_json(data)
    except ValidationError as e:
        raise DomainError(
            [
                Problem(".".join(str(x) for x in err["loc"]) or "data", err["msg"])
                for err in e.errors()
            ]
        ) from None
    uploads = list(photos or [])
    team = scope.get_scoped_or_404(queries.teams_for(user), user, pk=payload.team_id)
    place = (
        get_for_change(Place, user, pk=payload.place_id) if payload.place_id is not None else None
    )
    building = (
        get_for_change(Node, user, pk=payload.building_id, level=BUILDING)
        if payload.building_id is not None
        else None
    )
    item_ids = {f.item_id for f in payload.findings if f.item_id is not None}
    items = {i.pk: i for i in ChecklistItem.objects.filter(pk__in=item_ids)}
    problems = []
    for n, f in enumerate(payload.findings, start=1):
        if f.item_id is not None and f.item_id not in items:
            problems.append(Problem("item_id", _("Unknown id: %(id)s.") % {"id": f.item_id}, row=n))
        problems += [
            Problem("photos", _("No photo %(n)d was uploaded.") % {"n": i}, row=n)
            for i in f.photos
            if not 0 <= i < len(uploads)
        ]
    if problems:
        raise DomainError(problems)
    clean = photos_check(uploads, field="photos") if uploads else []
    findings = [
        services.FindingIn(
            severity=f.severity,
            text=f.text,
            item=items.get(f.item_id) if f.item_id is not None else None,
            photos=[clean[i] for i in f.photos],
            due_at=f.due_at,
        )
        for f in payload.findings
    ]
    replay = replayed(Inspection, payload.client_id, user) is not None
    inspection = services.inspection_record(
        actor=user,
        team=team,
        place=place,
        building=building,
        mode=payload.mode,
        findings=findings,
        note=payload.note,
        client_id=payload.client_id,
        source="api",
    )
    return Status(200 if replay else 201, _inspection(inspection))


@router.get("/findings", response=list[FindingOut])
def findings(request, page: Query[Page], filters: Query[FindingsQuery]):
    """The findings the caller sees (`mine`: its own tasks; `overdue`: open past the
    deadline, the oldest first)."""
    user = request.user
    now = timezone.now()
    if filters.mine:
        rows = queries.my_tasks(user)
    else:
        rows = queries.findings_for(user).order_by("due_at", "pk")
    if filters.overdue:
        rows = rows.filter(status="open", due_at__lte=now).order_by("due_at", "pk")
    rows = rows.prefetch_related("photos")
    return [_finding(f, now) for f in rows[page.offset : page.offset + page.limit]]


@router.get("/findings/{finding_id}", response={200: FindingOut, **READ_ERRORS})
def finding(request, finding_id: int):
    return _finding(queries.finding_for(request.user, finding_id), timezone.now())


@router.post("/findings/{finding_id}/fix", response={200: FindingOut, **WRITE_ERRORS})
def fix(request, finding_id: int, note: Form[str], photo: File[UploadedFile] = None):
    """The person responsible reports the fix: a note and a photo (both required)."""
    row = queries.finding_for(request.user, finding_id)
    clean = photos_check([photo], field="photo") if photo else []
    row = services.finding_fix(
        actor=request.user, finding=row, note=note, photos=clean, source="api"
    )
    return _finding(row, timezone.now())


@router.post("/findings/{finding_id}/recheck", response={200: FindingOut, **WRITE_ERRORS})
def recheck(request, finding_id: int, payload: RecheckIn):
    """An inspector's re-check: `passed` closes it, otherwise it reopens with a new deadline.
    Refused to the one who reported the fix and to the person responsible."""
    row = get_for_change(Finding, request.user, pk=finding_id)
    row = services.finding_recheck(
        actor=request.user,
        finding=row,
        passed=payload.passed,
        note=payload.note,
        due_at=payload.due_at,
        source="api",
    )
    return _finding(row, timezone.now())


@router.get("/ledger/{node_id}", response={200: LedgerOut, **READ_ERRORS})
def ledger(request, node_id: int):
    """Findings per child of the node with the closure rate, overdue, reopened, repeated."""
    node = scope.get_scoped_or_404(Node, request.user, pk=node_id)
    whole, lines = queries.ledger(request.user, node)
    return {"node_id": node.pk, "whole": _line(whole), "lines": [_line(x) for x in lines]}


@router.post("/patrols", response={201: PatrolOut, 200: PatrolOut, **WRITE_ERRORS})
def patrol_record(request, payload: PatrolIn):
    """Today's patrol of a building by its chief: the checklist's items that failed."""
    user = request.user
    building = Node.objects.filter(
        pk=payload.building_id,
        level=BUILDING,
        posts__person__user=user,
        posts__role="building_chief",
        posts__ended_on__isnull=True,
    ).first() or get_for_change(Node, user, pk=payload.building_id, level=BUILDING)
    items = {
        i.pk: i
        for i in ChecklistItem.objects.filter(
            pk__in=payload.failed_item_ids, kind=TargetKind.BUILDING
        )
    }
    if missing := [pk for pk in payload.failed_item_ids if pk not in items]:
        raise DomainError(_unknown("failed_item_ids", missing))
    replay = replayed(Patrol, payload.client_id, user) is not None
    patrol = services.patrol_record(
        actor=user,
        building=building,
        failed=list(items.values()),
        note=payload.note,
        client_id=payload.client_id,
        source="api",
    )
    return Status(
        200 if replay else 201,
        {
            "id": patrol.pk,
            "building_id": patrol.building_id,
            "day": patrol.day,
            "by_id": patrol.by_id,
            "failed_item_ids": patrol.failed,
            "note": patrol.note,
        },
    )
