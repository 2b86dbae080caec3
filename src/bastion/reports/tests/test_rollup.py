"""The rollup property: every node's figure of a day equals the sum of its children's, and the
register's own figures equal the live counts of the tree at every level."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.geo.models import Node
from bastion.geo.queries import counts_by
from bastion.reports import queries, registry, services
from bastion.reports.models import DailyFigure
from bastion.reports.tests.conftest import DAY, report_nodes
from bastion.reports.tests.helpers import at

FOUNDATION = ("households", "residents", "aged", "immobile")


def assert_rollup(user, root: Node, day: dt.date) -> int:
    """Check every report node under `root`; returns how many nodes were checked."""
    keys = registry.figure_keys()
    nodes = report_nodes(root)
    live = {}
    for level in {n.level for n in nodes}:
        live |= counts_by(level, [n.pk for n in nodes if n.level == level])
    for node in nodes:
        total = queries.day_totals(user, node, day)
        if node.level != "grid":
            kids = queries.children_figures(user, node, day)
            assert {c.pk for c, _v in kids} == set(node.children().values_list("pk", flat=True))
            summed = {k: sum(v[k] for _c, v in kids) for k in keys}
            assert total == summed, node
        assert {k: total[k] for k in FOUNDATION} == {k: live[node.pk][k] for k in FOUNDATION}
        if "grids" in keys:
            assert total["grids"] == node.subtree().filter(level="grid").count()
    return len(nodes)


def test_small_tree_rolls_up(tree, plugin):
    services.report_compute(day=DAY, now=at(DAY, 10))
    assert assert_rollup(tree.users["admin"], tree.city, DAY) == 1 + 1 + 1 + 2 + 4
    street = queries.day_totals(tree.users["admin"], tree.street, DAY)
    assert (street["households"], street["residents"], street["grids"]) == (64, 128, 4)
    # 64 households × 2 residents: the weighted figure is 3 × 128 + 4 grids × day 20.
    assert street["weighted"] == 3 * 128 + 4 * 20
    # One row per (grid, figure), nothing at building level.
    assert DailyFigure.objects.filter(day=DAY).count() == 4 * len(registry.figure_keys())


def test_a_scoped_login_sees_the_same_sums(tree, plugin):
    services.report_compute(day=DAY, now=at(DAY, 10))
    community = tree.communities[0]
    staff = tree.users["community"]
    assert assert_rollup(staff, community, DAY) == 3
    assert queries.day_totals(staff, community, DAY) == queries.day_totals(
        tree.users["admin"], community, DAY
    )


# --- Random trees -----------------------------------------------------------------------

# A tree shape: districts › streets › communities › grids › buildings, each building a list
# of households (one unit each), each household a list of residents' immobile flags.
households = st.lists(st.lists(st.booleans(), max_size=3), max_size=2)
buildings = st.lists(households, max_size=2)
grids = st.lists(buildings, max_size=2)
communities = st.lists(grids, min_size=1, max_size=2)
streets = st.lists(communities, min_size=1, max_size=2)
districts = st.lists(streets, min_size=1, max_size=2)


def build_random_tree(shape: list) -> Node:
    seq = 0
    city = geo.node_create(parent=None, name="随机市")
    for d, street_shapes in enumerate(shape):
        district = geo.node_create(parent=city, name=f"区{d}")
        for s, community_shapes in enumerate(street_shapes):
            street = geo.node_create(parent=district, name=f"街道{d}{s}")
            for c, grid_shapes in enumerate(community_shapes):
                community = geo.node_create(parent=street, name=f"社区{d}{s}{c}")
                for g, building_shapes in enumerate(grid_shapes):
                    grid = geo.node_create(parent=community, name=f"网格{d}{s}{c}{g}")
                    for b, household_shapes in enumerate(building_shapes):
                        building = geo.node_create(parent=grid, name=f"楼{b}")
                        unit = geo.node_create(parent=building, name="1单元")
                        for h, flags in enumerate(household_shapes):
                            household = geo.household_create(
                                unit=unit, room=f"{h + 1}01", floor=h + 1
                            )
                            for immobile in flags:
                                seq += 1
                                geo.resident_create(
                                    household=household,
                                    name=f"居民{seq}",
                                    id_number=make_id_number(
                                        "220421", dt.date(1930 + seq % 90, 1 + seq % 12, 3), seq
                                    ),
                                    immobile=immobile,
                                )
    return city


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shape=districts, day=st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
def test_random_trees_roll_up(db, plugin, shape, day):
    admin = User(username="root", is_superuser=True, is_active=True)
    with transaction.atomic():
        city = build_random_tree(shape)
        services.report_compute(day=day, now=at(day, 12))
        assert_rollup(admin, city, day)
        transaction.set_rollback(True)
