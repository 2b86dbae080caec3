"""Reads shared by the ledgers views, API and commands. Every one goes through the scope
function (`restrict` / `get_scoped_or_404`)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from bastion.core import scope
from bastion.geo.models import LEVEL_ORDER, Node, Resident
from bastion.geo.services import BIRTH_FIELDS, RESIDENT_FIELDS
from bastion.ledgers.models import ImportJob
from bastion.people.models import Post
from bastion.people.queries import current_posts

# What the residents export reads: the resident's own fields (geo's one list of them, a guardian
# and a household by name or room rather than id), where it lives, and when it was born.
RESIDENT_EXPORT_FIELDS = (
    "id",
    *(f for f in RESIDENT_FIELDS if f not in ("household_id", "guardian_id")),
    *BIRTH_FIELDS,
    *(f"{level}_id" for level in LEVEL_ORDER),
    "household__room",
    "household__floor",
    "guardian__name",
)
# Levels offered in the node pickers (a unit is too small to import into or export by hand).
PICKER_LEVELS = ("city", "district", "street", "community", "grid")
PICKER_MAX = 500


def node_for(*, user: AbstractBaseUser, node_id: int | str | None, action: str) -> Node:
    """One node the user may do `action` on (404 otherwise)."""
    return scope.get_scoped_or_404(Node, user, action, pk=node_id)


def node_choices(
    *, user: AbstractBaseUser, action: str, extra: Node | None = None
) -> list[tuple[int, str]]:
    """The nodes offered in a picker: those the user may do `action` on down to grid level,
    plus the user's own role nodes (a building chief's building) and `extra` (the node the
    page was opened for), each labelled with its indented name."""
    nodes = Node.objects.restrict(user, action)
    wanted = Q(level__in=PICKER_LEVELS) | Q(pk__in=scope.root_node_ids(user))
    if extra is not None:
        wanted |= Q(pk=extra.pk)
    found = list(
        nodes.filter(wanted).order_by("path").only("id", "name", "depth", "level")[:PICKER_MAX]
    )
    if not found:
        return []
    top = min(n.depth for n in found)
    return [(n.pk, "\u3000" * (n.depth - top) + n.name) for n in found]


def node_names(*, node: Node) -> dict[int, str]:
    """Names of the node, its ancestors and its whole subtree (for the place columns)."""
    ids_names = dict(node.subtree().values_list("id", "name"))
    ids_names.update(node.ancestors().values_list("id", "name"))
    return ids_names


def node_path(*, node: Node) -> str:
    return " › ".join([*(a.name for a in node.ancestors()), node.name])


def residents_for_export(*, user: AbstractBaseUser, node: Node) -> QuerySet[Resident]:
    """The residents of `node`'s subtree the user may see, in tree order."""
    if node.level not in LEVEL_ORDER:
        return Resident.objects.none()
    return (
        Resident.objects.restrict(user, scope.VIEW)
        .filter(**{f"{node.level}_id": node.pk})
        .order_by("unit__path", "household__floor", "household__room", "id")
    )


def posts_for_export(*, user: AbstractBaseUser, node: Node) -> QuerySet[Post]:
    """The current posts in `node`'s subtree the user may see, in tree order."""
    return (
        current_posts(user)
        .filter(**{f"{node.level}_id": node.pk})
        .order_by("node__path", "role", "id")
    )


def import_jobs(*, user: AbstractBaseUser, limit: int = 10) -> QuerySet[ImportJob]:
    """The latest import jobs into areas the user may change."""
    return (
        ImportJob.objects.restrict(user, scope.CHANGE)
        .select_related("node", "created_by")
        .defer("content", "errors")[:limit]
    )


def import_job_for(*, user: AbstractBaseUser, job_id: int | str) -> ImportJob:
    """One import job the user may see: it imports into an area they may change (404
    otherwise). The file's bytes are not loaded."""
    return scope.get_scoped_or_404(
        ImportJob.objects.select_related("node", "created_by").defer("content"),
        user,
        scope.CHANGE,
        pk=job_id,
    )
