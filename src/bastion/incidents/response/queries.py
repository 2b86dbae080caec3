"""Reads of the outbreak response, shared by the pages and the API: cases and bundles through
the scope, a bundle's board, and the lifting rule of an area."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.errors import Problem
from bastion.core.scope import VIEW, seen_from_below_q
from bastion.incidents.models import ControlArea
from bastion.incidents.response import registry
from bastion.incidents.response.models import Bundle, Case, Disinfection, Task, TaskState
from bastion.incidents.transfers.models import Transfer
from bastion.incidents.transfers.queries import transfers_for
from bastion.people.mobilization.queries.pool import extra_cadres


def cases_for(user, action: str = VIEW) -> QuerySet[Case]:
    return Case.objects.restrict(user, action).select_related("node__building", "bundle")


def case_for(user, pk, action: str = VIEW) -> Case:
    try:
        return cases_for(user, action).get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def bundle_for(user, pk, action: str = VIEW) -> Bundle:
    try:
        return (
            Bundle.objects.restrict(user, action)
            .select_related("case", "node", "confirmed_by")
            .get(pk=pk)
        )
    except (Bundle.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def task_for(user, pk, action: str = VIEW) -> Task:
    try:
        return Task.objects.restrict(user, action).select_related("bundle").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class Board:
    """A bundle's tasks by state, with what is overdue."""

    bundle: Bundle
    tasks: list[Task]
    now: dt.datetime
    columns: dict[str, list[Task]] = field(default_factory=dict)

    @property
    def overdue(self) -> set[int]:
        return {t.pk for t in self.tasks if t.state != TaskState.DONE and t.deadline < self.now}

    @property
    def done(self) -> int:
        return sum(t.state == TaskState.DONE for t in self.tasks)


def board(bundle: Bundle, *, now: dt.datetime | None = None) -> Board:
    tasks = list(bundle.tasks.select_related("owner").order_by("deadline", "id"))
    b = Board(bundle, tasks, now or timezone.now())
    for state in TaskState.values:
        b.columns[state] = [t for t in tasks if t.state == state]
    return b


def disinfections_of(bundle: Bundle) -> QuerySet[Disinfection]:
    return bundle.disinfections.select_related("node").order_by("-at", "-id")


def bundle_areas(user, bundle: Bundle) -> list[ControlArea]:
    return list(
        bundle.areas.filter(seen_from_below_q(user, VIEW))
        .select_related("node")
        .order_by("node__depth")
    )


def lift_settings() -> tuple[int, int]:
    return settings.BASTION_LIFT_QUIET_DAYS, settings.BASTION_LIFT_NEGATIVE_ROUNDS


@dataclass(frozen=True)
class LiftCheck:
    """The lifting rule over one area: no new positive for `days_needed` days and
    `rounds_needed` testing rounds since the last one, all negative."""

    area: ControlArea
    days_needed: int
    rounds_needed: int
    quiet_since: dt.datetime
    quiet_days: int
    negative_rounds: int
    last_case_at: dt.datetime | None

    @property
    def days_ok(self) -> bool:
        return self.quiet_days >= self.days_needed

    @property
    def rounds_ok(self) -> bool:
        return self.negative_rounds >= self.rounds_needed

    @property
    def ok(self) -> bool:
        return self.days_ok and self.rounds_ok

    def problems(self) -> list[Problem]:
        out = []
        if not self.days_ok:
            out.append(
                Problem(
                    "area",
                    _(
                        "%(node)s cannot be lifted: the rule asks for %(needed)s days without "
                        "a new positive, and it has been %(days)s."
                    )
                    % {
                        "node": self.area.node.name,
                        "needed": self.days_needed,
                        "days": self.quiet_days,
                    },
                )
            )
        if not self.rounds_ok:
            out.append(
                Problem(
                    "area",
                    _(
                        "%(node)s cannot be lifted: the rule asks for %(needed)s negative "
                        "testing rounds since the last positive, and there have been %(rounds)s."
                    )
                    % {
                        "node": self.area.node.name,
                        "needed": self.rounds_needed,
                        "rounds": self.negative_rounds,
                    },
                )
            )
        return out


def lift_check(area: ControlArea, *, at: dt.datetime | None = None) -> LiftCheck:
    """The lifting rule for `area`, counted from its last case (or from when it started)."""
    now = at or timezone.now()
    days_needed, rounds_needed = lift_settings()
    node = area.node
    last = Case.objects.filter(**{f"{node.level}_id": node.pk}).aggregate(m=Max("reported_at"))["m"]
    quiet_since = max(x for x in (last, area.since) if x is not None)
    rounds = sum(fn(node=node, since=quiet_since) for fn in registry.ROUND_COUNTERS)
    return LiftCheck(
        area=area,
        days_needed=days_needed,
        rounds_needed=rounds_needed,
        quiet_since=quiet_since,
        quiet_days=max(0, (now - quiet_since).days),
        negative_rounds=rounds,
        last_case_at=last,
    )


# The transfers a bundle asked for carry this source and the bundle's id.
TRANSFER_SOURCE = "response"


def transfers_of(user, bundle: Bundle) -> list[Transfer]:
    """The transfers planned for the bundle (the case's own, and its contacts'), as the user
    may see them."""
    return list(
        transfers_for(user)
        .filter(source=TRANSFER_SOURCE, source_id=bundle.pk)
        .order_by("planned_at", "id")
    )


def cadre_cover(user, bundle: Bundle):
    """The three-cadre rule over the sealed area's community (`people.mobilization`): the
    extra cadres on duty there today and the minimum."""
    found = extra_cadres(user, bundle.node)
    return found[0] if found else None
