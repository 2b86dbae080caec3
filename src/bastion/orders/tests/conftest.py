"""Chiefs on the small known tree for the orders tests: the street chief, the chiefs of the
first two grids and three building chiefs of the first community; the first grid's chief is
the `grid` login, the second's the `other_grid` login."""

from dataclasses import dataclass

import pytest

from bastion.geo.models import Household
from bastion.people import services as people
from bastion.people.models import Post


@dataclass
class Chiefs:
    street: Post
    grids: list[Post]
    buildings: list[Post]


def _assign(tree, name, phone, role, node, user=None):
    home = Household.objects.filter(unit__path__startswith=node.path).order_by("pk").first()
    home = home or Household.objects.order_by("pk").first()
    person = people.person_create(name=name, kind="cadre", phone=phone, home=home)
    if user is not None:
        person.user = user
        person.save(update_fields=["user"])
    return people.post_assign(person=person, role=role, node=node, actor=tree.users["admin"])


@pytest.fixture
def chiefs(tree) -> Chiefs:
    b, g, u = tree.buildings, tree.grids, tree.users
    return Chiefs(
        street=_assign(tree, "街长甲", "13900000001", "street_chief", tree.street),
        grids=[
            _assign(tree, "网格长一", "13900000011", "grid_chief", g[0], u["grid"]),
            _assign(
                tree,
                "网格长二",
                "13900000012",
                "grid_chief",
                tree.grids[1],
                tree.users["other_grid"],
            ),
        ],
        buildings=[
            _assign(tree, "楼长一", "13900000021", "building_chief", b[0]),
            _assign(tree, "楼长二", "13900000022", "building_chief", b[1]),
            _assign(tree, "楼长三", "13900000023", "building_chief", b[2]),
        ],
    )
