"""The one scope function: which rows of any located table a login may see or change.

Every view, API endpoint, export and report narrows its rows with `.restrict(user, action)`
(NetBox's RestrictedQuerySet) or fetches one row with `get_scoped_or_404` (Zulip's access
helpers). A role on a node of level L grants the rows whose `L` column holds that node's id,
which is the node's whole subtree; no tree walk is needed.
"""

from functools import reduce
from operator import or_

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from bastion.core import rawsql
from bastion.core.levels import LEVEL_ORDER

VIEW = "view"
CHANGE = "change"
REVEAL = "reveal"
ADMIN = "admin"

_ALL_ROLES = {
    "city_admin",
    "district_commander",
    "street_commander",
    "community_staff",
    "grid_chief",
    "building_chief",
    "unit_chief",
    "volunteer",
}
ROLE_ACTIONS: dict[str, set[str]] = {
    VIEW: _ALL_ROLES,
    CHANGE: _ALL_ROLES - {"volunteer"},
    REVEAL: {
        "city_admin",
        "district_commander",
        "street_commander",
        "community_staff",
        "grid_chief",
    },
    ADMIN: {"city_admin"},
}


def grants(user) -> list[tuple[str, str, int]]:
    """(role, node level, node id) of a login, cached on the user object for the request."""
    cached = getattr(user, "_bastion_grants", None)
    if cached is None:
        # The tables by name: core stands below the apps that own them (accounts, geo).
        # Plain SQL: every request asks this, and compiling the query cost more than running it.
        assignments = rawsql.table(apps.get_model("accounts", "RoleAssignment"))
        nodes = rawsql.table(apps.get_model("geo", "Node"))
        cached = rawsql.rows(
            f"SELECT ra.role, n.level, ra.node_id FROM {assignments} ra "
            f"JOIN {nodes} n ON n.id = ra.node_id WHERE ra.user_id = %s",
            [user.pk],
        )
        user._bastion_grants = cached
    return cached


def grants_prime(user, grants: list[tuple[str, str, int]]) -> None:
    """Set a login's grants when they were read with it (the token login reads both at once)."""
    user._bastion_grants = grants


def scope_q(
    user, action: str = VIEW, *, levels: tuple[str, ...] | None = None, prefix: str = ""
) -> Q:
    """The filter on a located table that keeps what `user` may do `action` on. `levels`
    keeps only the roles held on nodes of those levels (a quarantine record: nobody below the
    street through the site's place); `prefix` reads other ancestor columns than the row's
    own (`home_` for the columns of a person's home)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    allowed = ROLE_ACTIONS[action]
    clauses = [
        Q(**{f"{prefix}{level}_id": node_id})
        for role, level, node_id in grants(user)
        if role in allowed and (levels is None or level in levels)
    ]
    return reduce(or_, clauses) if clauses else Q(pk__in=[])


def has_action(user, action: str) -> bool:
    """Whether the login holds any role that grants `action` somewhere."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or any(role in ROLE_ACTIONS[action] for role, _l, _n in grants(user))


def root_node_ids(user) -> list[int]:
    """The nodes at the top of a login's view (its role nodes)."""
    return sorted({node_id for _r, _l, node_id in grants(user)})


def above(user) -> set[tuple[str, int]]:
    """(level, id) of the nodes above a login's role nodes (their ancestors), cached on the
    user object like its grants."""
    cached = getattr(user, "_bastion_above", None)
    if cached is None:
        roots = root_node_ids(user)
        rows = (
            apps.get_model("geo", "Node")
            .objects.filter(pk__in=roots)
            .values_list(*(f"{level}_id" for level in LEVEL_ORDER))
        )
        cached = {
            (level, pk)
            for row in rows
            for level, pk in zip(LEVEL_ORDER, row, strict=True)
            if pk is not None and pk not in roots
        }
        user._bastion_above = cached
    return cached


def seen_from_below_q(user, action: str = VIEW, *, field: str | None = "node") -> Q:
    """`scope_q`, and to see (never to change) the rows set on a node above the user's: a
    street's round or control area binds the grid chief working under it, a district bureau
    pays a community's cadres. `field` names the row's node; `None` for a located row, which
    stands on the node of its deepest filled column."""
    q = scope_q(user, action)
    if action != VIEW or not user.is_authenticated or user.is_superuser:
        return q
    nodes = sorted(above(user))
    if field is not None:
        return q | Q(**{f"{field}_id__in": [pk for _level, pk in nodes]})
    deeper = dict(zip(LEVEL_ORDER, LEVEL_ORDER[1:], strict=False))
    for level, pk in nodes:
        q |= Q(**{f"{level}_id": pk, f"{deeper[level]}_id": None})
    return q


def seen_through_q(user, action: str, parts: models.QuerySet, *, link: str) -> Q:
    """`scope_q`, and the rows one of whose parts lies in the user's scope: a street's
    campaign through the households of a grid. `parts` is the parts' table, `link` their
    field pointing at the row."""
    inside = parts.filter(scope_q(user, action), **{link: OuterRef("pk")})
    return scope_q(user, action) | Q(Exists(inside))


class ScopedQuerySetMixin:
    def restrict(self, user, action: str = VIEW):
        return self.filter(scope_q(user, action))


class ScopedQuerySet(ScopedQuerySetMixin, models.QuerySet):
    pass


def get_scoped_or_404(queryset, user, action: str = VIEW, **lookup):
    """Fetch one row the user may act on; a row outside the scope is as absent as a missing one."""
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    try:
        return queryset.restrict(user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(queryset.model, lookup) from None


class NotFound(Http404):
    """A row that is missing or outside the scope, with what was looked up, so that the API
    can name the field of the request that held the value (`core.api_support`)."""

    def __init__(self, model, lookup: dict):
        self.model = model
        self.values = [v for v in lookup.values() if isinstance(v, (int, str))]
        super().__init__(f"No {model._meta.verbose_name} matches the given query.")


def allows(user, action: str, row) -> bool:
    """Whether `user` may do `action` on a located row already fetched: `scope_q` checked on
    the row's own ancestor columns, without a query (for hot paths that load the row anyway).
    A table whose rows are seen by another rule than their ancestor columns (a quarantine
    record) answers for itself with its own `scope_allows(user, action)`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if hasattr(row, "scope_allows"):
        return row.scope_allows(user, action)
    allowed = ROLE_ACTIONS[action]
    return any(
        role in allowed and getattr(row, f"{level}_id", None) == node_id
        for role, level, node_id in grants(user)
    )


def can(user, action: str, obj) -> bool:
    """Whether `user` may do `action` on the located row `obj`."""
    return type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()
