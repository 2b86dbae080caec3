"""The demo street's people at home: besides those the quarantine hotel's releases handed home
(home health monitoring, made by the hand-over hook in the quarantine demo), a few dozen
households of the street under home isolation (close contacts of the outbreak response, with a
door sensor) or home health monitoring (entered by the community), started over the last days,
with their twice-daily reports — mostly entered by the grid chief, some by the household, a few
missed, and one fever. Everything goes through the services."""

import datetime as dt
import random

from django.utils import timezone

from bastion.accounts.models import RoleAssignment
from bastion.core.errors import DomainError
from bastion.geo.models import Household, Node, Resident
from bastion.quarantine.home import services
from bastion.quarantine.home.models import HomeMeasure
from bastion.quarantine.home.queries import SLOT_ENDS, slot_passed
from bastion.quarantine.models import Half

HOUSEHOLDS = 36
REASONS = {
    "isolation": ["密接（疫情处置）", "次密接，同楼栋阳性", "外地中高风险地区返回"],
    "monitoring": ["外省返回人员", "同单元密接已解除，继续监测", "从事高风险岗位"],
}


def build_demo(street: Node, rng: random.Random, now: dt.datetime) -> dict:
    actor = (
        RoleAssignment.objects.filter(role="street_commander", node_id=street.pk)
        .select_related("user")
        .first()
    )
    if (
        actor is None
        or HomeMeasure.objects.filter(
            street_id=street.pk, source__in=["close_contact", "community"]
        ).exists()
    ):
        return {}
    actor = actor.user
    today = timezone.localdate(now)
    households = list(Household.objects.filter(street_id=street.pk).order_by("pk")[:3000])
    rng.shuffle(households)
    counts = {"measures": 0, "reports": 0, "missed": 0}
    for household in households[:HOUSEHOLDS]:
        resident = Resident.objects.filter(household=household, id_number__isnull=False).first()
        if resident is None:
            continue
        kind = "isolation" if rng.random() < 0.5 else "monitoring"
        starts_on = today - dt.timedelta(days=rng.randint(0, 9))
        try:
            measure = services.measure_place(
                actor=actor, kind=kind, starts_on=starts_on,
                ends_on=starts_on + dt.timedelta(days=7 if kind == "isolation" else 14),
                reason=rng.choice(REASONS[kind]),
                source="close_contact" if kind == "isolation" else "community",
                resident=resident, door_sensor=kind == "isolation",
            )  # fmt: skip
        except DomainError:
            continue
        counts["measures"] += 1
        day = starts_on
        while day <= min(today, measure.ends_on):  # no report once the measure has ended
            for half in Half.values:
                if not slot_passed(day, half, now):
                    continue
                if rng.random() < 0.08:
                    counts["missed"] += 1
                    continue
                slot = timezone.make_aware(dt.datetime.combine(day, SLOT_ENDS[half]))
                at = slot - dt.timedelta(minutes=rng.randint(30, 150))
                fever = rng.random() < 0.01
                reading = rng.uniform(37.4, 38.2) if fever else rng.uniform(36.0, 36.9)
                services.report_record(
                    actor=actor, measure=measure, day=day, half=half, at=at,
                    temperature=f"{reading:.1f}",
                    symptoms=["fever"] if fever else [],
                    reporter="household" if rng.random() < 0.3 else "chief",
                )  # fmt: skip
                counts["reports"] += 1
            day += dt.timedelta(days=1)
    return counts
