"""Report-in: the public submission (no login, rate-limited) and the community's decisions."""

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from bastion.core.api_support import (
    READ_ERRORS,
    WRITE_ERRORS,
    get_for_change,
)
from bastion.core.errors import DomainError
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Node
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.api.common import (
    MAX_PAGE,
    PUBLIC_ERRORS,
    NodeRef,
    node_or_root,
    node_ref,
    router,
)
from bastion.people.mobilization.models import (
    ReportIn,
    ReportInStatus,
    Skill,
)
from bastion.people.models import PostRole

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"


class ReportInSubmitIn(Schema):
    community_token: str = Field(..., description="From the community's QR code.")
    name: str
    id_number: str
    phone: str
    employer: str = ""
    skills: list[Skill] = []
    note: str = ""


class ReportInReceiptOut(Schema):
    """The same for every submission that passes the checks: whether the ID number was
    registered already is not told (the community sees its one registration)."""

    status: Literal["received"] = Field(
        description="Always 'received': the community will confirm."
    )
    community: str
    submitted_at: dt.datetime = Field(description="When this submission was received.")


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


def _report_in(r: ReportIn) -> dict:
    return {
        "id": r.pk,
        "community": node_ref(r.community),
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


@router.post(
    "/report-in",
    auth=None,
    response={201: ReportInReceiptOut, **PUBLIC_ERRORS},
)
def report_in_submit(request: HttpRequest, payload: ReportInSubmitIn):
    """Public, no login: a party member registers with their home community (the token comes
    from its QR code). First the rate limit: past `BASTION_REPORT_IN_PER_HOUR` uses from one
    address in the last hour (every use counts, valid or not) the answer is 429. Then a bad
    field is 422 naming it. Every valid submission answers 201 "received" alike, whether the
    ID number was registered already (then nothing is written) or not: never 409."""
    community = queries.community_from_token(payload.community_token)
    if community is None:
        raise DomainError(
            _("This link is not valid: scan your community's QR code again."),
            field="community_token",
        )
    try:
        services.report_in_submit(
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
        201, {"status": "received", "community": community.name, "submitted_at": timezone.now()}
    )


@router.get("/report-ins", response={200: list[ReportInOut], **READ_ERRORS})
def report_in_list(
    request,
    node: int | None = None,
    status: ReportInStatus | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    place = node_or_root(request.user, node)
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
