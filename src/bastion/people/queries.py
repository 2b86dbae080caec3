"""Reads about persons and posts: vacancies and the building notice. All scoped (mobilization's
reads are in `people.mobilization.queries`)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, When

from bastion.core.models import Located
from bastion.core.privacy import number_search_q
from bastion.core.scope import REVEAL
from bastion.geo.models import LEVEL_ORDER, CommandZone, Node, ZoneBuilding
from bastion.people.models import (
    CHIEF_OF_LEVEL,
    Person,
    Post,
    PostRole,
)

# The levels shown in a place's path, below the street that every row of a street shares.
PATH_LEVELS = ("community", "grid", "building", "unit")


# Posts listed in the order PostRole declares them: the five chiefs, then the zone command.
ROLE_ORDER = Case(*(When(role=r, then=i) for i, r in enumerate(PostRole.values)))


def current_posts(user) -> QuerySet[Post]:
    return (
        Post.objects.restrict(user)
        .filter(ended_on__isnull=True)
        .select_related("person", "node", "zone")
    )


def posts_under(user, node: Node, *, role: str = "", text: str = "") -> QuerySet[Post]:
    """The current posts in `node`'s subtree, by place then role; optionally one role, or
    persons whose name contains `text`."""
    posts = current_posts(user).filter(**{f"{node.level}_id": node.pk})
    if role:
        posts = posts.filter(role=role)
    if text.strip():
        posts = posts.filter(person__name__contains=text.strip())
    return posts.order_by("node__path", ROLE_ORDER, "id")


def _chief_held(role: str) -> Exists:
    return Exists(Post.objects.filter(node=OuterRef("pk"), role=role, ended_on__isnull=True))


def _nodes_of_level(user, node: Node, level: str) -> QuerySet[Node]:
    return Node.objects.restrict(user).filter(path__startswith=node.path, level=level)


def vacancies(user, node: Node) -> dict[str, list[Node]]:
    """The nodes of `node`'s subtree, per level, whose chief post nobody holds."""
    return {
        level: list(_nodes_of_level(user, node, level).exclude(_chief_held(role)).order_by("path"))
        for level, role in CHIEF_OF_LEVEL.items()
    }


@dataclass(frozen=True)
class LevelVacancies:
    """One level of a vacancy report: how many chief posts it should have, how many are held,
    and the first vacant nodes (at most the report's limit)."""

    level: str
    role: str
    expected: int
    held: int
    nodes: list[Node]

    @property
    def vacant(self) -> int:
        return self.expected - self.held

    @property
    def not_listed(self) -> int:
        return self.vacant - len(self.nodes)


def vacancy_report(user, node: Node, *, limit: int = 200) -> list[LevelVacancies]:
    """Chief posts expected, held and vacant at each chief level from `node`'s level down,
    with up to `limit` vacant nodes per level. Two queries per level, whatever the size."""
    report = []
    top = LEVEL_ORDER.index(node.level)
    for level, role in CHIEF_OF_LEVEL.items():
        if LEVEL_ORDER.index(level) < top:
            continue
        nodes = _nodes_of_level(user, node, level)
        held = _chief_held(role)
        totals = nodes.aggregate(expected=Count("pk"), held=Count("pk", filter=Q(held)))
        vacant = list(nodes.exclude(held).order_by("path")[:limit])
        report.append(LevelVacancies(level, role, totals["expected"], totals["held"], vacant))
    return report


def zones_under(user, node: Node) -> QuerySet[CommandZone]:
    """The command zones of `node`'s streets (none below street level: a zone is a street's)."""
    zones = CommandZone.objects.restrict(user)
    if node.level not in ("city", "district", "street"):
        return zones.none()
    return zones.filter(**{f"{node.level}_id": node.pk}).order_by("name")


def zones_without_commander(user, node: Node) -> QuerySet[CommandZone]:
    held = Post.objects.filter(
        zone=OuterRef("pk"), role=PostRole.ZONE_COMMANDER, ended_on__isnull=True
    )
    return zones_under(user, node).exclude(Exists(held))


def place_paths(user, rows: Sequence[Located]) -> dict[int, str]:
    """Each located row's place as "community › grid › building › unit", naming only the
    nodes the user may see; a row above community level is named by its deepest node.
    One query for the whole list."""
    ids = {getattr(row, f"{level}_id") for row in rows for level in LEVEL_ORDER} - {None}
    names = dict(Node.objects.restrict(user).filter(pk__in=ids).values_list("pk", "name"))
    paths = {}
    for row in rows:
        parts = [names[i] for level in PATH_LEVELS if (i := getattr(row, f"{level}_id")) in names]
        if not parts:
            filled = [getattr(row, f"{level}_id") for level in LEVEL_ORDER]
            deepest = [i for i in filled if i is not None][-1:]
            parts = [names[i] for i in deepest if i in names]
        paths[row.pk] = " › ".join(parts)
    return paths


def person_match(user, persons: QuerySet[Person], text: str) -> QuerySet[Person]:
    """`persons` (already narrowed to what the user may see) by name (substring) or by the last
    digits of their mobile, as far as the user may see it (`core.privacy.number_search_q`:
    past the last four only where a reveal is, logged)."""
    text = text.strip()
    if not text.isdigit():
        return persons.filter(name__contains=text)
    return persons.filter(number_search_q(user=user, rows=persons, text=text, ending=("phone",)))


def person_search(user, text: str, *, limit: int = 20) -> QuerySet[Person]:
    """Persons the user may see, by name (substring) or by the last digits of their mobile."""
    text = text.strip()
    persons = Person.objects.restrict(user)
    if not text:
        return persons.none()
    return person_match(user, persons, text).order_by("name", "id")[:limit]


def revealable_person_ids(user, person_ids: Sequence[int]) -> set[int]:
    """Which of these persons' numbers the user's role may reveal (one query)."""
    return set(
        Person.objects.restrict(user, REVEAL).filter(pk__in=person_ids).values_list("pk", flat=True)
    )


def building_notice(building: Node) -> dict:
    """Who answers for a building: the chiefs of its street, grid, building and each unit, and
    its zone command. The caller has already checked the user may see the building."""
    chain_ids = [building.street_id, building.grid_id, building.pk]
    posts = (
        Post.objects.filter(ended_on__isnull=True)
        .filter(node_id__in=chain_ids, role__in=list(CHIEF_OF_LEVEL.values()))
        .select_related("person", "node")
    )
    units = list(building.children().order_by("code", "name"))
    unit_chiefs = {
        p.node_id: p
        for p in Post.objects.filter(
            node__in=units, role=PostRole.UNIT_CHIEF, ended_on__isnull=True
        ).select_related("person")
    }
    membership = ZoneBuilding.objects.filter(building=building).select_related("zone").first()
    zone_posts = []
    if membership is not None:
        zone_posts = list(
            Post.objects.filter(zone_id=membership.zone_id, ended_on__isnull=True)
            .select_related("person")
            .order_by("role", "id")
        )
    places = Node.objects.filter(
        pk__in=[building.street_id, building.community_id, building.grid_id]
    ).order_by("depth")
    return {
        "chiefs": {p.role: p for p in posts},
        "units": [(u, unit_chiefs.get(u.pk)) for u in units],
        "zone": membership.zone if membership else None,
        "zone_posts": zone_posts,
        "commander": next((p for p in zone_posts if p.role == PostRole.ZONE_COMMANDER), None),
        "deputies": [p for p in zone_posts if p.role == PostRole.DEPUTY_COMMANDER],
        "places": list(places),
    }
