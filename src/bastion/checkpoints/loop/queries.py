"""The closed loop's reads: a checkpoint's passes waiting for their arrival (the overdue
first), and one pass as its checkpoint's crew sees it."""

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from bastion.checkpoints.loop.models import LoopPass
from bastion.core import scope


def waiting(place, now: dt.datetime | None = None) -> QuerySet[LoopPass]:
    """The passes of `place` (a checkpoint the caller sees) not confirmed yet, oldest due
    first (the ones past `due_at` are overdue)."""
    return (
        LoopPass.objects.filter(checkpoint=place, arrived_at__isnull=True)
        .select_related("occupant__entry", "destination")
        .order_by("due_at", "pk")
    )


def confirmed_on(place, day: dt.date) -> int:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return LoopPass.objects.filter(
        checkpoint=place, arrived_at__gte=start, arrived_at__lt=start + dt.timedelta(days=1)
    ).count()


def pass_for_checkpoint(user, pass_id: int) -> LoopPass:
    """A pass as its checkpoint's crew (or its destination) sees it; 404 for anyone else."""
    found = (
        LoopPass.objects.select_related("occupant__entry", "checkpoint", "destination")
        .filter(pk=pass_id)
        .first()
    )
    if found is None or not (
        scope.allows(user, scope.VIEW, found.checkpoint) or scope.allows(user, scope.VIEW, found)
    ):
        raise Http404
    return found


def escorted_without_pass(place, since: dt.datetime) -> QuerySet:
    """The people let through `place` under escort since `since` who have no pass yet."""
    from bastion.checkpoints.models import Decision, Occupant

    return (
        Occupant.objects.filter(
            entry__place=place, decision=Decision.ESCORT, arrived_at__gte=since, loop_pass=None
        )
        .select_related("entry")
        .order_by("-arrived_at", "-id")
    )


def destinations(place) -> QuerySet:
    """The communities a pass from checkpoint `place` is sent to on the page: those of its
    district (a driver's destination is seldom in the crew's own area, so not the scope's)."""
    from bastion.geo.models import Node

    return Node.objects.filter(level="community", district_id=place.district_id).order_by("path")
