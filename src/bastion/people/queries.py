"""Reads about persons and posts: vacancies and the building notice. All scoped."""

from django.db.models import Exists, OuterRef, QuerySet

from bastion.geo.models import CommandZone, Node, ZoneBuilding
from bastion.people.models import CHIEF_OF_LEVEL, Post, PostRole


def current_posts(user) -> QuerySet[Post]:
    return (
        Post.objects.restrict(user).filter(ended_on__isnull=True)
        .select_related("person", "node", "zone")
    )


def vacancies(user, node: Node) -> dict[str, list[Node]]:
    """The nodes of `node`'s subtree, per level, whose chief post nobody holds."""
    result: dict[str, list[Node]] = {}
    for level, role in CHIEF_OF_LEVEL.items():
        held = Post.objects.filter(node=OuterRef("pk"), role=role, ended_on__isnull=True)
        vacant = (
            Node.objects.restrict(user)
            .filter(path__startswith=node.path, level=level)
            .exclude(Exists(held))
            .order_by("path")
        )
        result[level] = list(vacant)
    return result


def zones_without_commander(user, node: Node) -> QuerySet[CommandZone]:
    held = Post.objects.filter(zone=OuterRef("pk"), role=PostRole.ZONE_COMMANDER,
                               ended_on__isnull=True)
    zones = CommandZone.objects.restrict(user).exclude(Exists(held))
    return zones.filter(**{f"{node.level}_id": node.pk}) if node.level in ("city", "district",
                                                                           "street") else zones.none()


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
        p.node_id: p for p in Post.objects.filter(
            node__in=units, role=PostRole.UNIT_CHIEF, ended_on__isnull=True
        ).select_related("person")
    }
    membership = ZoneBuilding.objects.filter(building=building).select_related("zone").first()
    zone_posts = []
    if membership is not None:
        zone_posts = list(
            Post.objects.filter(zone_id=membership.zone_id, ended_on__isnull=True)
            .select_related("person").order_by("role", "id")
        )
    return {
        "chiefs": {p.role: p for p in posts},
        "units": [(u, unit_chiefs.get(u.pk)) for u in units],
        "zone": membership.zone if membership else None,
        "zone_posts": zone_posts,
    }
