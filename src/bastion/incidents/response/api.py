"""The outbreak response over JSON (mounted at /api/v1/incidents): cases, the proposal, the
confirmation, the board, a task moved on, a disinfection, the lifting rule. Thin: reads in
`response.queries`, writes in `response.services`, rows through the scope; the writes a device
may retry carry a client id."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.errors import DomainError
from bastion.core.idempotency import create_once
from bastion.geo.models import Node
from bastion.incidents.models import AREA_LEVELS, ControlArea
from bastion.incidents.queries import area_for
from bastion.incidents.response import queries, services
from bastion.incidents.response.models import Bundle, Case, Disinfection, Task

router = Router(tags=["incidents"])

Level = Literal["sealed", "controlled", "precaution"]


class CaseIn(Schema):
    node_id: int = Field(description="The unit (or building) where the case lives.")
    name: str = Field(max_length=50)
    reference: str = Field("", max_length=40, description="The disease-control case number.")
    reported_at: dt.datetime | None = Field(None, description="Now when left out.")
    client_id: UUID | None = None


class ProposedIn(Schema):
    node_id: int
    level: Level


class ProposalIn(Schema):
    areas: list[ProposedIn] = Field(max_length=10)


class ProposedOut(Schema):
    node_id: int
    node_name: str
    level: str


class CaseOut(Schema):
    id: int
    node_id: int
    name: str
    source: str
    reference: str
    reported_at: dt.datetime
    state: str
    bundle_id: int | None
    proposed: list[ProposedOut]


class TaskIn(Schema):
    state: Literal["open", "in_progress", "done"] | None = None
    deadline: dt.datetime | None = None
    owner_id: int | None = None
    note: str | None = Field(None, max_length=200)


class TaskOut(Schema):
    id: int
    kind: str
    owner_id: int | None
    owner_name: str | None
    deadline: dt.datetime
    state: str
    overdue: bool
    ref_id: int | None
    note: str


class LiftCheckOut(Schema):
    area_id: int
    node_id: int
    level: str
    active: bool
    days_needed: int
    quiet_days: int
    rounds_needed: int
    negative_rounds: int
    ok: bool


class BundleOut(Schema):
    id: int
    case_id: int
    node_id: int
    confirmed_at: dt.datetime
    tasks: list[TaskOut]
    areas: list[LiftCheckOut]


class DisinfectionIn(Schema):
    node_id: int
    place: str = Field(max_length=100)
    agent: str = Field(max_length=60)
    person: str = Field(max_length=50)
    at: dt.datetime | None = Field(None, description="Now when left out.")
    client_id: UUID | None = None


class DisinfectionOut(Schema):
    id: int
    bundle_id: int | None
    node_id: int
    place: str
    agent: str
    person: str
    at: dt.datetime


def _case(c: Case) -> dict:
    bundle = Bundle.objects.filter(case=c).values_list("pk", flat=True).first()
    return {
        "id": c.pk,
        "node_id": c.node_id,
        "name": c.name,
        "source": c.source,
        "reference": c.reference,
        "reported_at": c.reported_at,
        "state": c.state,
        "bundle_id": bundle,
        "proposed": [
            {"node_id": p.node_id, "node_name": p.node.name, "level": p.level}
            for p in c.proposed.select_related("node").order_by("node__depth")
        ],
    }


def _check(area: ControlArea) -> dict:
    check = queries.lift_check(area)
    return {
        "area_id": area.pk,
        "node_id": area.node_id,
        "level": area.level,
        "active": area.active,
        "days_needed": check.days_needed,
        "quiet_days": check.quiet_days,
        "rounds_needed": check.rounds_needed,
        "negative_rounds": check.negative_rounds,
        "ok": check.ok and area.active,
    }


def _bundle(user, bundle: Bundle) -> dict:
    board = queries.board(bundle)
    return {
        "id": bundle.pk,
        "case_id": bundle.case_id,
        "node_id": bundle.node_id,
        "confirmed_at": bundle.confirmed_at,
        "tasks": [_task(t, board.overdue) for t in board.tasks],
        "areas": [_check(a) for a in queries.bundle_areas(user, bundle)],
    }


def _task(t: Task, overdue: set[int]) -> dict:
    return {
        "id": t.pk,
        "kind": t.kind,
        "owner_id": t.owner_id,
        "owner_name": t.owner.name if t.owner_id else None,
        "deadline": t.deadline,
        "state": t.state,
        "overdue": t.pk in overdue,
        "ref_id": t.ref_id,
        "note": t.note,
    }


def _disinfection(d: Disinfection) -> dict:
    return {
        "id": d.pk,
        "bundle_id": d.bundle_id,
        "node_id": d.node_id,
        "place": d.place,
        "agent": d.agent,
        "person": d.person,
        "at": d.at,
    }


@router.get("/cases", response={200: list[CaseOut], **READ_ERRORS})
def case_list(request, state: Literal["proposed", "confirmed"] | None = None):
    """The cases of the caller's part of the tree, newest first."""
    rows = queries.cases_for(request.auth)
    if state:
        rows = rows.filter(state=state)
    return [_case(c) for c in rows.order_by("-reported_at", "-id")[:500]]


@router.post("/cases", response={201: CaseOut, **WRITE_ERRORS})
def case_create(request, payload: CaseIn):
    """Enter a case (by hand, or from the disease-control system with its case number): it
    proposes its control areas at once."""
    node = get_for_change(Node, request.auth, pk=payload.node_id)
    case, _created = create_once(
        Case,
        payload.client_id,
        request.auth,
        lambda: services.case_record(
            actor=request.auth,
            node=node,
            name=payload.name,
            reference=payload.reference,
            reported_at=payload.reported_at,
            source="import" if payload.reference.strip() else "manual",
            via="api",
        ),
    )
    return Status(201, _case(case))


@router.post("/cases/import", response={201: list[CaseOut], **WRITE_ERRORS})
def cases_import(request, file: File[UploadedFile]):
    """Import the disease-control system's cases (.xlsx or .csv: 病例编号, 身份证号, 姓名,
    报告时间), all or nothing: every bad row is listed (row and field) and nothing is kept;
    a case number imported before is the same case."""
    if not scope.has_action(request.auth, scope.CHANGE):
        raise PermissionDenied
    made = services.cases_import(
        actor=request.auth, filename=file.name or "", content=file.read(), via="api"
    )
    return Status(201, [_case(c) for c in made])


@router.get("/cases/{case_id}", response={200: CaseOut, **READ_ERRORS})
def case_get(request, case_id: int):
    return _case(queries.case_for(request.auth, case_id))


@router.put("/cases/{case_id}/proposal", response={200: CaseOut, **WRITE_ERRORS})
def case_proposal(request, case_id: int, payload: ProposalIn):
    """Adjust a waiting case's proposed areas (nodes on its way up the tree, one level each,
    at least one sealed)."""
    case = get_for_change(Case.objects.select_related("node"), request.auth, pk=case_id)
    # The nodes on the case's way up the tree (the service refuses any other).
    around = [getattr(case.node, f"{lvl}_id") for lvl in AREA_LEVELS]
    nodes = {
        n.pk: n
        for n in Node.objects.filter(
            pk__in=[a.node_id for a in payload.areas if a.node_id in around]
        )
    }
    missing = [a.node_id for a in payload.areas if a.node_id not in nodes]
    if missing:
        raise DomainError(_("Unknown area: %(ids)s.") % {"ids": missing}, field="areas")
    services.proposal_adjust(
        actor=request.auth,
        case=case,
        areas_=[(nodes[a.node_id], a.level) for a in payload.areas],
        source="api",
    )
    return _case(case)


@router.post("/cases/{case_id}/confirm", response={200: BundleOut, **WRITE_ERRORS})
def case_confirm(request, case_id: int):
    """Confirm a case's proposal: the areas are set and the bundle of tasks opens. Confirming
    again (another commander, a retry) answers the same bundle."""
    case = get_for_change(Case, request.auth, pk=case_id)
    bundle = services.case_confirm(actor=request.auth, case=case, source="api")
    return _bundle(request.auth, bundle)


@router.get("/bundles/{bundle_id}", response={200: BundleOut, **READ_ERRORS})
def bundle_get(request, bundle_id: int):
    """A bundle's board: its tasks (overdue marked) and its areas with the lifting rule."""
    return _bundle(request.auth, queries.bundle_for(request.auth, bundle_id))


@router.post("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def task_update(request, task_id: int, payload: TaskIn):
    """Move a task on, or give it another owner or deadline (never one in the past)."""
    task = get_for_change(Task, request.auth, pk=task_id)
    task = services.task_update(
        actor=request.auth,
        task=task,
        state=payload.state,
        deadline=payload.deadline,
        owner_id=payload.owner_id,
        note=payload.note,
        source="api",
    )
    return _task(task, queries.board(task.bundle).overdue)


@router.post("/bundles/{bundle_id}/disinfections", response={201: DisinfectionOut, **WRITE_ERRORS})
def disinfection_create(request, bundle_id: int, payload: DisinfectionIn):
    """Record a disinfection in the bundle's sealed area."""
    bundle = get_for_change(Bundle.objects.select_related("node"), request.auth, pk=bundle_id)
    node = get_for_change(Node, request.auth, pk=payload.node_id)
    row, _created = create_once(
        Disinfection,
        payload.client_id,
        request.auth,
        lambda: services.disinfection_record(
            actor=request.auth,
            bundle=bundle,
            node=node,
            place=payload.place,
            agent=payload.agent,
            person=payload.person,
            at=payload.at,
            source="api",
        ),
    )
    return Status(201, _disinfection(row))


@router.get("/areas/{area_id}/lift-check", response={200: LiftCheckOut, **READ_ERRORS})
def area_lift_check(request, area_id: int):
    """The lifting rule over an area: days without a new positive, negative rounds since."""
    return _check(area_for(request.auth, area_id))
