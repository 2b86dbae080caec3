"""The outbreak response on the demo street: one case from the disease-control system three
hours ago, confirmed by the street commander (its building sealed, its grid controlled, its
community under precaution) with its bundle part done — the order acknowledged and done, the
tracing list open, two disinfections, the transfer overdue — and one case from a positive
retest, its proposal waiting for a commander."""

import datetime as dt
import random

from django.db import transaction

from bastion.accounts.models import RoleAssignment
from bastion.geo.models import Node, Resident
from bastion.incidents.models import ControlArea
from bastion.incidents.response import services
from bastion.incidents.response.models import Task, TaskKind, TaskState


def _commander(street: Node):
    found = (
        RoleAssignment.objects.filter(role="street_commander", node=street)
        .select_related("user")
        .first()
    )
    return found.user if found is not None else None


def _free_units(street: Node) -> list[Node]:
    """Units of the street with residents and no control level on their building or grid."""
    controlled = set(
        ControlArea.objects.filter(street_id=street.pk, lifted_at__isnull=True).values_list(
            "node_id", flat=True
        )
    )
    lived_in = Resident.objects.filter(street_id=street.pk).values("unit_id")
    units = Node.objects.filter(street_id=street.pk, level="unit", pk__in=lived_in)
    return [
        u
        for u in units.order_by("path")
        if not {u.pk, u.building_id, u.grid_id, u.community_id} & controlled
    ]


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    actor = _commander(street)
    if actor is None:
        return {"cases": 0}
    with transaction.atomic():
        units = _free_units(street)
        if len(units) < 2:
            return {"cases": 0}
        first = rng.choice(units[: len(units) // 2] or units)
        second = rng.choice([u for u in units if u.grid_id != first.grid_id] or units)
        resident = Resident.objects.filter(unit=first).order_by("pk").first()
        case = services.case_record(
            actor=actor,
            node=first,
            name=resident.name,
            resident=resident,
            source="import",
            reference="疾控-2026-0412",
            reported_at=now - dt.timedelta(hours=3),
            via="demo",
        )
        bundle = services.case_confirm(actor=actor, case=case, source="demo")
        tasks = {t.kind: t for t in Task.objects.filter(bundle=bundle)}
        for kind in (TaskKind.ORDER, TaskKind.TRACING):
            services.task_update(actor=actor, task=tasks[kind], state=TaskState.DONE, source="demo")
        for place, hours in (("1单元楼道和电梯", 2), ("垃圾收集点", 1)):
            services.disinfection_record(
                actor=actor,
                bundle=bundle,
                node=first,
                place=place,
                agent="含氯消毒液 500mg/L",
                person="消杀队 王师傅",
                at=now - dt.timedelta(hours=hours),
                source="demo",
            )
        # The transfer was due an hour ago and is not done: the board shows it red.
        Task.objects.filter(pk=tasks[TaskKind.TRANSFERS].pk).update(
            deadline=now - dt.timedelta(hours=1)
        )
        waiting = Resident.objects.filter(unit=second).order_by("pk").first()
        services.case_record(
            actor=None,
            node=second,
            name=waiting.name,
            resident=waiting,
            source="retest",
            reference=f"DEMO-S-{second.pk}:{waiting.pk}",
            reported_at=now - dt.timedelta(minutes=40),
            via="demo",
        )
    return {"cases": 2, "bundles": 1, "tasks": len(tasks)}
