"""Writes of organisations at sites: temporary branches, pioneer posts, responsibility areas,
shock teams, and their members."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.geo.models import Node
from bastion.people.mobilization.models import Place, Team, TeamKind, TeamMember
from bastion.people.mobilization.services.common import field_node_problems, local_today
from bastion.people.models import Organisation, OrgKind, Person

TEAM_FIELDS = ("kind", "name", "node_id", "place_id", "formed_on", "dissolved_on")


MEMBER_FIELDS = ("team_id", "person_id", "title", "joined_on", "left_on")


@transaction.atomic
def team_create(
    *,
    kind: str,
    name: str,
    node: Node | None = None,
    place: Place | None = None,
    formed_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> Team:
    """Set up a team on a node or at a place. A temporary party branch must be bound to a
    place and gets its (temporary) party organisation."""
    problems = []
    name = name.strip()
    if not name:
        problems.append(Problem("name", _("Name is required.")))
    if kind not in TeamKind.values:
        problems.append(Problem("kind", _("Unknown kind of team.")))
    if kind == TeamKind.BRANCH and place is None:
        problems.append(Problem("place", _("A temporary party branch is set up at a place.")))
    if place is not None:
        node = place.node
    problems += field_node_problems(node, "place" if place else "node")
    if problems:
        raise DomainError(problems)
    organisation = None
    if kind == TeamKind.BRANCH:
        organisation = Organisation(
            name=name, kind=OrgKind.PARTY_ORG, temporary=True, site=place.name[:120]
        )
        organisation.locate(node)
        try:
            with transaction.atomic():
                organisation.save()
        except IntegrityError:
            raise Conflict(
                _("An organisation named %(name)s already exists.") % {"name": name}, field="name"
            ) from None
    team = Team(
        kind=kind,
        name=name,
        node=node,
        place=place,
        organisation=organisation,
        formed_on=formed_on or local_today(),
    )
    team.locate(node)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise Conflict(
            _("%(node)s already has a team named %(name)s.") % {"node": node, "name": name},
            field="name",
        ) from None
    history.record_created(actor, team, TEAM_FIELDS, source=source)
    return team


@transaction.atomic
def team_member_add(
    *,
    team: Team,
    person: Person,
    title: str = "",
    joined_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> TeamMember:
    if team.dissolved_on is not None:
        raise DomainError(_("This team has been dissolved."), field="team")
    if team.kind == TeamKind.BRANCH and not person.party_member:
        raise DomainError(
            _("Only party members join a party branch; %(person)s is not one.")
            % {"person": person},
            field="person",
        )
    if TeamMember.objects.filter(team=team, person=person, left_on__isnull=True).exists():
        raise Conflict(_("%(person)s is already a member.") % {"person": person}, field="person")
    member = TeamMember(
        team=team, person=person, title=title.strip()[:30], joined_on=joined_on or local_today()
    )
    member.locate(team)
    member.save()
    history.record_created(actor, member, MEMBER_FIELDS, source=source)
    return member


@transaction.atomic
def team_member_remove(
    *, member: TeamMember, left_on: dt.date | None = None, actor=None, source: str = "web"
) -> TeamMember:
    if member.left_on is not None:
        raise DomainError(_("This person has already left."), field="person")
    before = history.snapshot(member, MEMBER_FIELDS)
    member.left_on = max(left_on or local_today(), member.joined_on)
    member.save(update_fields=["left_on"])
    history.record_update(actor, member, before, MEMBER_FIELDS, source=source)
    return member
