"""What mobilization reads share: a node's subtree, rows visible from below it, deployments on
duty on a day."""

import datetime as dt

from django.db.models import Q

from bastion.geo.models import Node


def within(node: Node) -> dict:
    """The filter keeping located rows of `node`'s subtree: one indexed column."""
    return {f"{node.level}_id": node.pk}


def active_on(day: dt.date, prefix: str = "") -> Q:
    """Deployments on duty on `day` (a recalled one up to the day before its recall)."""
    return Q(**{f"{prefix}starts_on__lte": day, f"{prefix}ends_on__gte": day}) & (
        Q(**{f"{prefix}recalled_on__isnull": True}) | Q(**{f"{prefix}recalled_on__gt": day})
    )
