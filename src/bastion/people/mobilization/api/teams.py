"""Organisations at sites: teams and their members."""

import datetime as dt
from uuid import UUID

from ninja import Field, Schema, Status

from bastion.core import scope
from bastion.core.api_support import READ_ERRORS, WRITE_ERRORS, get_for_change
from bastion.core.idempotency import create_once
from bastion.geo.models import Node
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.api.common import (
    NodeRef,
    PersonRef,
    node_or_root,
    node_ref,
    person_ref,
    router,
)
from bastion.people.mobilization.models import (
    Place,
    Team,
    TeamKind,
    TeamMember,
)

# Operation ids predate the split; generated clients keep their method names.
OPERATION_PREFIX = "bastion_people_api_mobilization"


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


def _team(t: Team, members: int | None = None) -> dict:
    if members is None:
        members = t.members.filter(left_on__isnull=True).count()
    return {
        "id": t.pk,
        "kind": t.kind,
        "name": t.name,
        "node": node_ref(t.node),
        "place_id": t.place_id,
        "organisation_id": t.organisation_id,
        "formed_on": t.formed_on,
        "members": members,
        "client_id": t.client_id,
    }


@router.get("/teams", response={200: list[TeamOut], **READ_ERRORS})
def team_list(request, node: int | None = None, kind: TeamKind | None = None):
    place_node = node_or_root(request.user, node)
    return [
        _team(t, t.member_count)
        for t in queries.teams_under(request.user, place_node, kind=kind or "")
    ]


@router.get("/team-counts", response={200: list[TeamCountsOut], **READ_ERRORS})
def team_counts(request, node: int | None = None):
    """Teams and members by kind, for a node and each of its children."""
    place_node = node_or_root(request.user, node)
    return [
        {
            "node": node_ref(row["node"]),
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
            {"person": person_ref(m.person), "title": m.title, "joined_on": m.joined_on}
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
        201, {"person": person_ref(person), "title": member.title, "joined_on": member.joined_on}
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
