"""The reserve pool, dispatch and recall, the extra-cadre rule."""

import datetime as dt
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.errors import DomainError
from bastion.core.idempotency import create_once
from bastion.geo.models import Node
from bastion.people import queries as people_queries
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.api.common import (
    MAX_PAGE,
    NodeRef,
    PersonRef,
    node_or_root,
    node_ref,
    person_ref,
    router,
)
from bastion.people.mobilization.models import (
    AvailabilityStatus,
    Deployment,
    DeploymentKind,
    Dispatch,
    Place,
    Skill,
)
from bastion.people.models import Person

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"


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


def _deployment(d: Deployment) -> dict:
    return {
        "id": d.pk,
        "dispatch_id": d.dispatch_id,
        "person": person_ref(d.person),
        "kind": d.kind,
        "node": node_ref(d.node),
        "place_id": d.place_id,
        "starts_on": d.starts_on,
        "ends_on": d.ends_on,
        "recalled_on": d.recalled_on,
        "recall_reason": d.recall_reason,
    }


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
    place = node_or_root(request.user, node)
    persons = queries.pool(
        request.user, place, skill=skill or "", availability=availability, text=q
    )
    page = list(persons[offset : offset + limit])
    ids = [p.pk for p in page]
    skills = queries.skills_of(ids)
    sent = queries.current_deployments(ids, timezone.localdate())
    homes = people_queries.place_paths(request.user, page)
    return {
        "count": persons.count(),
        "items": [
            {
                "person": person_ref(p),
                "place": homes[p.pk],
                "availability": p.availability_status,
                "available_until": p.available_until,
                "skills": skills.get(p.pk, []),
                "deployed_to": node_ref(sent[p.pk].node) if p.pk in sent else None,
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
        "node": node_ref(dispatch.node),
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
    place = node_or_root(request.user, node)
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
    place = node_or_root(request.user, node)
    rows = queries.extra_cadres(request.user, place, day=day, minimum=minimum)
    return [
        {
            "community": node_ref(r.community),
            "cadres": r.cadres,
            "minimum": r.minimum,
            "short": r.short,
        }
        for r in rows
        if r.short or not short_only
    ]
