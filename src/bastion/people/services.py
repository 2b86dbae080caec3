"""Every write to persons and posts (mobilization's writes are in
`people.mobilization.services`)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import CommandZone, Household, Node
from bastion.people.models import (
    CHIEF_OF_LEVEL,
    ZONE_ROLES,
    Person,
    PersonKind,
    Post,
    PostRole,
)

POST_FIELDS = ("person_id", "role", "node_id", "zone_id", "title", "started_on", "ended_on")


@transaction.atomic
def person_create(
    *,
    name: str,
    kind: str,
    phone: str,
    id_number: str | None = None,
    party_member: bool = False,
    employer=None,
    home: Household | None = None,
    node: Node | None = None,
    actor=None,
    source: str = "web",
) -> Person:
    """A person, located at their home household, else at the node they serve."""
    problems = []
    if not name.strip():
        problems.append(Problem("name", _("Name is required.")))
    if kind not in PersonKind.values:
        problems.append(Problem("kind", _("Unknown kind of person.")))
    try:
        phone = normalise_mobile(phone)
    except ValidationError as e:
        problems.append(Problem("phone", e.messages[0]))
    if id_number:
        try:
            id_number = parse_id_number(id_number).number
        except ValidationError as e:
            problems.append(Problem("id_number", e.messages[0]))
    if home is None and node is None:
        problems.append(Problem("home", _("A person needs a home household or a node.")))
    if problems:
        raise DomainError(problems)
    person = Person(
        name=name.strip(),
        kind=kind,
        phone=phone,
        id_number=id_number or None,
        party_member=party_member,
        employer=employer,
        home=home,
    )
    person.locate(home or node)
    person.save()
    history.record(
        actor, person, "create", {"name": [None, person.name], "kind": [None, kind]}, source=source
    )
    return person


def _check_post(role: str, node: Node, zone: CommandZone | None) -> None:
    if role not in PostRole.values:
        raise DomainError(_("Unknown post."), field="role")
    level_of_chief = {r: level for level, r in CHIEF_OF_LEVEL.items()}
    if role in level_of_chief and node.level != level_of_chief[role]:
        raise DomainError(
            _("A %(role)s post belongs on a %(level)s.")
            % {"role": PostRole(role).label, "level": level_of_chief[role]},
            field="node",
        )
    if role == PostRole.LANE_CHIEF and node.level != "street":
        raise DomainError(_("A lane chief post belongs on a street."), field="node")
    if role == PostRole.POLICE_LIAISON and node.level != "community":
        raise DomainError(_("A police liaison post belongs on a community."), field="node")
    if role in ZONE_ROLES and (zone is None or zone.street_id != node.pk):
        raise DomainError(_("A zone post needs a command zone of this street."), field="zone")


def post_roles_for(level: str) -> list[str]:
    """The post roles a node of `level` can carry, its own chief first (the rules of
    `_check_post`, for forms to offer only what the service would accept)."""
    roles = [CHIEF_OF_LEVEL[level]] if level in CHIEF_OF_LEVEL else []
    if level == "street":
        roles += [PostRole.LANE_CHIEF, *ZONE_ROLES]
    if level == "community":
        roles += [PostRole.POLICE_LIAISON]
    return [*roles, PostRole.RESERVE]


@transaction.atomic
def post_assign(
    *,
    person: Person,
    role: str,
    node: Node,
    zone: CommandZone | None = None,
    title: str = "",
    started_on: dt.date | None = None,
    actor=None,
    source: str = "web",
) -> Post:
    """Bind a person to a node in a role. A chief post already held is refused, naming who
    holds it; end that post first."""
    _check_post(role, node, zone)
    post = Post(
        person=person,
        role=role,
        node=node,
        zone=zone,
        title=title,
        started_on=started_on or dt.date.today(),
    )
    post.locate(node)
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:
        # A street has one chief but many zones: a zone commander is unique per zone.
        held = Post.objects.filter(role=role, ended_on__isnull=True).select_related("person")
        held = held.filter(zone=zone) if role == PostRole.ZONE_COMMANDER else held.filter(node=node)
        holder = held.first()
        raise DomainError(
            _("This post is already held by %(name)s.")
            % {"name": holder.person if holder else "?"},
            field="role",
        ) from None
    history.record_created(actor, post, POST_FIELDS, source=source)
    return post


@transaction.atomic
def post_end(
    *,
    post,
    ended_on: dt.date | None = None,
    actor=None,
    source: str = "web",
):
    """End a post: not twice, not before it started."""
    if post.ended_on is not None:
        raise DomainError(_("This post has already ended."), field="ended_on")
    ended_on = ended_on or timezone.localdate()
    if ended_on < post.started_on:
        raise DomainError(_("A post cannot end before it started."), field="ended_on")
    before = history.snapshot(post, POST_FIELDS)
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    history.record_update(actor, post, before, POST_FIELDS, source=source)
    return post
