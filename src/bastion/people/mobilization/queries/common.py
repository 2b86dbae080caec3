"""What mobilization reads share: a node's subtree, rows visible from below it, deployments on
duty on a day."""

import datetime as dt

from django.db.models import Q

from bastion.core.scope import scope_q
from bastion.geo.models import LEVEL_ORDER, Node


def within(node: Node) -> dict:
    """The filter keeping located rows of `node`'s subtree: one indexed column."""
    return {f"{node.level}_id": node.pk}


def active_on(day: dt.date, prefix: str = "") -> Q:
    """Deployments on duty on `day` (a recalled one up to the day before its recall)."""
    return Q(**{f"{prefix}starts_on__lte": day, f"{prefix}ends_on__gte": day}) & (
        Q(**{f"{prefix}recalled_on__isnull": True}) | Q(**{f"{prefix}recalled_on__gt": day})
    )


def visible_from_below(user, node: Node) -> Q:
    """Located rows the user may see (the scope), and the rows standing on one of `node`'s
    ancestors — not below them: looking up from its node, a community sees its street's office
    and its district's bureaus though they are outside its scope.

    The one place mobilization writes this rule; the shared scope rule is to replace it."""
    above = Q(pk__in=[])
    for level, deeper in zip(LEVEL_ORDER, LEVEL_ORDER[1:], strict=False):
        if (pk := getattr(node, f"{level}_id")) and level != node.level:
            above |= Q(**{f"{level}_id": pk, f"{deeper}_id": None})
    return scope_q(user) | above
