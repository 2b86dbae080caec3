"""What every mobilization write shares: the levels it stands on, today, the ancestors of a row."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core.errors import DomainError, Problem
from bastion.geo.models import LEVEL_ORDER, Node
from bastion.people.mobilization.models import (
    Skill,
)

# Levels a place, a dispatch or a team may stand on.
FIELD_LEVELS = ("community", "grid", "building", "unit")


CENT = Decimal("0.01")


class TooManyReports(DomainError):
    """The public report-in form was used too often from one address (answered with 429)."""


def local_today() -> dt.date:
    return timezone.localdate()


def local_time_text(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%m-%d %H:%M")


def checked_skills(skills: Iterable[str]) -> list[str]:
    skills = sorted({s.strip() for s in skills if s and s.strip()})
    unknown = [s for s in skills if s not in Skill.values]
    if unknown:
        raise DomainError(
            _("Unknown skill: %(skill)s.") % {"skill": ", ".join(unknown)}, field="skills"
        )
    return skills


def ancestor_ids(row) -> list[int]:
    return [i for level in LEVEL_ORDER if (i := getattr(row, f"{level}_id")) is not None]


def field_node_problems(node: Node | None, field: str) -> list[Problem]:
    if node is None:
        return [Problem(field, _("Choose where they go."))]
    if node.level not in FIELD_LEVELS:
        return [Problem(field, _("Send staff to a community, grid, building or unit."))]
    return []
