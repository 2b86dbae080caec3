"""Writes of the reserve pool (availability and skills) and of sending staff down (dispatch and
recall)."""

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.geo.models import Node
from bastion.people.mobilization.models import (
    Availability,
    AvailabilityStatus,
    Deployment,
    DeploymentKind,
    Dispatch,
    PersonSkill,
    Place,
)
from bastion.people.mobilization.services.common import (
    checked_skills,
    field_node_problems,
    local_today,
)
from bastion.people.models import Person

AVAILABILITY_FIELDS = ("status", "until", "note")


@transaction.atomic
def availability_set(
    *,
    person: Person,
    status: str,
    until: dt.date | None = None,
    note: str = "",
    skills: Sequence[str] | None = None,
    actor=None,
    source: str = "web",
) -> Availability:
    """Say whether a person can be called on (and until when), and optionally replace their
    skills."""
    if status not in AvailabilityStatus.values:
        raise DomainError(_("Unknown availability."), field="status")
    if until is not None and until < local_today() - dt.timedelta(days=1):
        raise DomainError(_("The date lies in the past."), field="until")
    row = Availability.objects.filter(person=person).first()
    before = history.snapshot(row, AVAILABILITY_FIELDS) if row else {}
    if row is None:
        row = Availability(person=person)
        row.locate(person)
    row.status, row.until, row.note = status, until, note.strip()[:200]
    row.save()
    changes = history.diff(before, history.snapshot(row, AVAILABILITY_FIELDS))
    if skills is not None:
        wanted = set(checked_skills(skills))
        have = set(person.skills.values_list("skill", flat=True))
        if wanted != have:
            person.skills.exclude(skill__in=wanted).delete()
            new = [PersonSkill(person=person, skill=s) for s in sorted(wanted - have)]
            for s in new:
                s.locate(person)
            PersonSkill.objects.bulk_create(new)
            changes["skills"] = [",".join(sorted(have)), ",".join(sorted(wanted))]
    history.record(actor, row, "create" if not before else "update", changes, source=source)
    return row


DEPLOYMENT_FIELDS = (
    "person_id",
    "node_id",
    "place_id",
    "kind",
    "starts_on",
    "ends_on",
    "recalled_on",
)


def deployments_overlapping(person_ids: Iterable[int], starts_on: dt.date, ends_on: dt.date):
    """Deployments of these persons on duty on some day of [starts_on, ends_on] (a recalled
    one is on duty up to the day before its recall)."""
    return Deployment.objects.filter(
        person_id__in=list(person_ids), starts_on__lte=ends_on, ends_on__gte=starts_on
    ).filter(
        Q(recalled_on__isnull=True)
        | (Q(recalled_on__gt=starts_on) & Q(recalled_on__gt=F("starts_on")))
    )


@transaction.atomic
def dispatch_create(
    *,
    persons: Sequence[Person],
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    node: Node | None = None,
    place: Place | None = None,
    note: str = "",
    actor=None,
    source: str = "web",
    client_id: uuid.UUID | None = None,
) -> Dispatch:
    """Send a selection of persons to a node, or to a place (and so its node), for a period.
    Refused, naming each person, if one is unavailable or already sent somewhere on one of
    those days. An order sent again with the same client id is answered with the first."""
    if (
        client_id is not None
        and (found := Dispatch.objects.filter(client_id=client_id).first()) is not None
    ):
        return found
    problems: list[Problem] = []
    persons = list({p.pk: p for p in persons}.values())
    if not persons:
        problems.append(Problem("persons", _("Choose at least one person.")))
    if kind not in DeploymentKind.values:
        problems.append(Problem("kind", _("Unknown kind of deployment.")))
    if place is not None:
        node = place.node
        if place.closed_on is not None and place.closed_on < ends_on:
            problems.append(
                Problem("place", _("This place closes on %(day)s.") % {"day": place.closed_on})
            )
    problems += field_node_problems(node, "place" if place else "node")
    if ends_on < starts_on:
        problems.append(Problem("ends_on", _("The period ends before it starts.")))
    if problems:
        raise DomainError(problems)
    ids = [p.pk for p in persons]
    list(Person.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    names = {p.pk: p.name for p in persons}
    busy = deployments_overlapping(ids, starts_on, ends_on).select_related("node")
    for d in busy.order_by("person_id", "starts_on"):
        problems.append(
            Problem(
                "persons",
                _("%(person)s is already sent to %(node)s from %(start)s to %(end)s.")
                % {
                    "person": names[d.person_id],
                    "node": d.node.name,
                    "start": d.starts_on,
                    "end": d.ends_on,
                },
            )
        )
    unavailable = Availability.objects.filter(
        person_id__in=ids, status=AvailabilityStatus.UNAVAILABLE
    ).filter(Q(until__isnull=True) | Q(until__gte=starts_on))
    for a in unavailable.order_by("person_id"):
        problems.append(
            Problem("persons", _("%(person)s is not available.") % {"person": names[a.person_id]})
        )
    if problems:
        raise DomainError(problems)
    dispatch = Dispatch(
        node=node,
        place=place,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note.strip()[:200],
        client_id=client_id,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    dispatch.locate(node)
    dispatch.save()
    deployments = []
    for person in persons:
        d = Deployment(
            dispatch=dispatch,
            person=person,
            node=node,
            place=place,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        d.locate(node)
        deployments.append(d)
    Deployment.objects.bulk_create(deployments)
    history.record(
        actor,
        dispatch,
        "create",
        {
            "persons": [None, len(deployments)],
            "node": [None, node.name],
            "starts_on": [None, str(starts_on)],
            "ends_on": [None, str(ends_on)],
        },
        source=source,
    )
    history.record_many(actor, deployments, "create", DEPLOYMENT_FIELDS, source=source)
    return dispatch


@transaction.atomic
def deployment_recall(
    *,
    deployment: Deployment,
    on: dt.date | None = None,
    reason: str = "",
    actor=None,
    source: str = "web",
) -> Deployment:
    """Call a person back: from `on` (today when not given) they are no longer there. A
    recall before the start cancels the deployment."""
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.recalled_on is not None:
        raise DomainError(
            _("This person was already recalled on %(day)s.") % {"day": deployment.recalled_on},
            field="recalled_on",
        )
    on = on or local_today()
    if on > deployment.ends_on:
        raise DomainError(
            _("This deployment ends on %(day)s anyway.") % {"day": deployment.ends_on},
            field="recalled_on",
        )
    before = history.snapshot(deployment, DEPLOYMENT_FIELDS)
    deployment.recalled_on = max(on, deployment.starts_on)
    deployment.recall_reason = reason.strip()[:200]
    deployment.save(update_fields=["recalled_on", "recall_reason"])
    history.record_update(actor, deployment, before, DEPLOYMENT_FIELDS, source=source)
    return deployment
