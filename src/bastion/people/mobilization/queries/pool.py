"""Reads of the reserve pool, deployments and the extra-cadre rule."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from bastion.core.scope import VIEW, seen_through_q
from bastion.geo.models import (
    Node,
)
from bastion.people.mobilization.models import (
    AvailabilityStatus,
    Deployment,
    PersonSkill,
    mobilization_setting,
)
from bastion.people.mobilization.queries.common import active_on, within
from bastion.people.models import Person, Post, PostRole
from bastion.people.queries import person_match


def _pool_members(user, node: Node) -> QuerySet[Person]:
    posts = Post.objects.restrict(user).filter(role=PostRole.RESERVE, ended_on__isnull=True)
    # IN (subquery), evaluated once: a correlated EXISTS would scan every reserve post for
    # each person on SQLite.
    return Person.objects.filter(**within(node), pk__in=posts.values("person_id"))


def _sent_on(day: dt.date) -> Exists:
    return Exists(Deployment.objects.filter(active_on(day), person=OuterRef("pk")))


def pool(
    user,
    node: Node,
    *,
    skill: str = "",
    availability: str = "",
    text: str = "",
    day: dt.date | None = None,
) -> QuerySet[Person]:
    """The reserve pool: persons living in `node`'s subtree who hold a current reserve post
    the user may see, with their availability and whether they are sent somewhere on `day`
    (today). Optionally one skill, one availability, a name or the last digits of a mobile."""
    day = day or timezone.localdate()
    persons = _pool_members(user, node).annotate(
        availability_status=Coalesce(
            F("availability__status"), Value(AvailabilityStatus.AVAILABLE)
        ),
        available_until=F("availability__until"),
        deployed=_sent_on(day),
    )
    if skill:
        persons = persons.filter(
            Exists(PersonSkill.objects.filter(person=OuterRef("pk"), skill=skill))
        )
    if availability == "deployed":
        persons = persons.filter(deployed=True)
    elif availability:
        persons = persons.filter(availability_status=availability)
    if text := text.strip():
        persons = person_match(user, persons, text)
    return persons.order_by("name", "id")


def skills_of(person_ids: Sequence[int]) -> dict[int, list[str]]:
    skills = defaultdict(list)
    for pid, skill in (
        PersonSkill.objects.filter(person_id__in=list(person_ids))
        .order_by("skill")
        .values_list("person_id", "skill")
    ):
        skills[pid].append(skill)
    return skills


def current_deployments(person_ids: Sequence[int], day: dt.date) -> dict[int, Deployment]:
    return {
        d.person_id: d
        for d in Deployment.objects.filter(
            active_on(day), person_id__in=list(person_ids)
        ).select_related("node", "place")
    }


def pool_summary(user, node: Node, day: dt.date | None = None) -> dict[str, int]:
    """How many are in the pool, by availability, and how many are sent somewhere today
    (one aggregate; conditions written out, not annotations, for PostgreSQL's sake)."""
    day = day or timezone.localdate()
    no_row = Q(availability__isnull=True)
    return _pool_members(user, node).aggregate(
        total=Count("pk"),
        deployed=Count("pk", filter=Q(_sent_on(day))),
        available=Count("pk", filter=no_row | Q(availability__status="available")),
        limited=Count("pk", filter=Q(availability__status="limited")),
        unavailable=Count("pk", filter=Q(availability__status="unavailable")),
    )


def deployments_under(
    user,
    node: Node,
    *,
    state: str = "active",
    day: dt.date | None = None,
    kind: str = "",
    text: str = "",
) -> QuerySet[Deployment]:
    """Deployments into `node`'s subtree: on duty on `day` ("active"), still to start
    ("upcoming"), over or recalled ("ended"), or all."""
    day = day or timezone.localdate()
    rows = Deployment.objects.restrict(user).filter(**within(node))
    if state == "active":
        rows = rows.filter(active_on(day))
    elif state == "upcoming":
        rows = rows.filter(starts_on__gt=day).filter(
            Q(recalled_on__isnull=True) | Q(recalled_on__gt=F("starts_on"))
        )
    elif state == "ended":
        rows = rows.filter(Q(ends_on__lt=day) | Q(recalled_on__lte=day))
    if kind:
        rows = rows.filter(kind=kind)
    if text := text.strip():
        rows = rows.filter(person__name__contains=text)
    return rows.select_related("person", "person__employer", "node", "place").order_by(
        "node__path", "person__name", "id"
    )


@dataclass(frozen=True)
class CommunityCover:
    community: Node
    cadres: int
    minimum: int

    @property
    def short(self) -> int:
        return max(self.minimum - self.cadres, 0)


def extra_cadres(
    user, node: Node, *, day: dt.date | None = None, minimum: int | None = None
) -> list[CommunityCover]:
    """Each community of `node`'s subtree (or the community `node` lies in) that the user may
    see, with the number of persons sent down to it and on duty on `day`. The rule: at least
    `minimum` (the BASTION_MIN_EXTRA_CADRES setting, 3) in every community."""
    day = day or timezone.localdate()
    if minimum is None:
        minimum = mobilization_setting("BASTION_MIN_EXTRA_CADRES")
    communities = list(
        Node.objects.restrict(user)
        .filter(level="community")
        .filter(Q(path__startswith=node.path) | Q(pk=node.community_id or 0))
        .order_by("path")
    )
    counts = dict(
        Deployment.objects.filter(active_on(day), community_id__in=[c.pk for c in communities])
        .values("community_id")
        .annotate(n=Count("person", distinct=True))
        .values_list("community_id", "n")
    )
    return [CommunityCover(c, counts.get(c.pk, 0), minimum) for c in communities]


def communities_short(
    user, node: Node, *, day: dt.date | None = None, minimum: int | None = None
) -> list[CommunityCover]:
    """The communities with fewer extra cadres than the rule asks for."""
    return [c for c in extra_cadres(user, node, day=day, minimum=minimum) if c.short]


def duty_candidates(
    user, text: str = "", *, day: dt.date | None = None, limit: int = 20
) -> QuerySet[Person]:
    """Persons the user may put on duty: those the scope shows (they live here) and those
    sent down to a node the user may see (they work here), by name or last mobile digits."""
    day = day or timezone.localdate()
    deployed = Deployment.objects.filter(
        Q(ends_on__gte=day) & (Q(recalled_on__isnull=True) | Q(recalled_on__gt=day))
    )
    persons = Person.objects.filter(seen_through_q(user, VIEW, deployed, link="person"))
    if text := text.strip():
        persons = person_match(user, persons, text)
    elif limit:
        return persons.none()
    persons = persons.order_by("name", "id")
    return persons[:limit] if limit else persons


def duty_person(user, person_id, *, day: dt.date | None = None) -> Person:
    """One person the user may put on duty (see duty_candidates), else 404."""
    try:
        return duty_candidates(user, day=day, limit=0).get(pk=int(person_id))
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
