"""Reads of organisations at sites."""

from collections import defaultdict

from django.db.models import Count, Q, QuerySet

from bastion.geo.models import (
    Node,
    child_level,
)
from bastion.people.mobilization.models import (
    Team,
    TeamKind,
    TeamMember,
)
from bastion.people.mobilization.queries.common import within


def teams_under(user, node: Node, *, kind: str = "") -> QuerySet[Team]:
    rows = Team.objects.restrict(user).filter(**within(node), dissolved_on__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    return (
        rows.select_related("place", "node", "organisation")
        .annotate(member_count=Count("members", filter=Q(members__left_on__isnull=True)))
        .order_by("kind", "name", "id")
    )


def team_counts(user, node: Node) -> list[dict]:
    """Teams and their current members by kind, for `node` and for each child node the user
    may see: [{"node": node, "counts": {kind: (teams, members)}}, ...], `node` first."""
    level = child_level(node.level)
    children = (
        list(
            Node.objects.restrict(user)
            .filter(path__startswith=node.path, depth=node.depth + 1)
            .order_by("code", "name")
        )
        if level
        else []
    )
    teams = Team.objects.restrict(user).filter(**within(node), dissolved_on__isnull=True)
    members = TeamMember.objects.restrict(user).filter(
        **within(node), left_on__isnull=True, team__dissolved_on__isnull=True
    )
    column = f"{level}_id" if level else None

    def table(rows, by) -> dict:
        out = defaultdict(lambda: defaultdict(int))
        for r in rows.values(*by).annotate(n=Count("id")):
            out[r[by[0]] if len(by) > 1 else None][r[by[-1]]] += r["n"]
        return out

    kinds = TeamKind.values
    total_teams = table(teams, ["kind"])[None]
    total_members = table(members, ["team__kind"])[None]
    result = [{"node": node, "counts": {k: (total_teams[k], total_members[k]) for k in kinds}}]
    if column:
        child_teams = table(teams, [column, "kind"])
        child_members = table(members, [column, "team__kind"])
        for child in children:
            result.append(
                {
                    "node": child,
                    "counts": {
                        k: (child_teams[child.pk][k], child_members[child.pk][k]) for k in kinds
                    },
                }
            )
    return result
