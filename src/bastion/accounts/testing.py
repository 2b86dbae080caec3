"""A small, fully known tree for tests: two communities, each with two grids, each with two
buildings of two units, each unit with four households of two residents; one login per role.
Tests build on it and assert exact figures."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.test import Client

from bastion.accounts.services import role_assign, token_issue
from bastion.core.testing import PASSWORD
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.geo.models import Node


@dataclass
class SmallTree:
    city: Node
    district: Node
    street: Node
    communities: list[Node] = field(default_factory=list)
    grids: list[Node] = field(default_factory=list)
    buildings: list[Node] = field(default_factory=list)
    units: list[Node] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)


def login(username: str, role: str | None, node: Node | None, *, superuser=False) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_superuser=superuser)
    if role:
        role_assign(user=user, role=role, node=node)
    return user


def build_small_tree() -> SmallTree:
    city = geo.node_create(parent=None, name="测试市", code="C")
    district = geo.node_create(parent=city, name="测试区", code="D")
    street = geo.node_create(parent=district, name="测试街道", code="S")
    tree = SmallTree(city, district, street)
    seq = 0
    for c in range(2):
        community = geo.node_create(parent=street, name=f"社区{c + 1}", code=f"C{c + 1}")
        tree.communities.append(community)
        for g in range(2):
            grid = geo.node_create(
                parent=community, name=f"网格{c + 1}-{g + 1}", code=f"G{c + 1}{g + 1}"
            )
            tree.grids.append(grid)
            for b in range(2):
                building = geo.node_create(
                    parent=grid,
                    name=f"{c + 1}{g + 1}{b + 1}号楼",
                    code=f"B{c + 1}{g + 1}{b + 1}",
                    floors=2,
                )
                tree.buildings.append(building)
                for u in range(2):
                    unit = geo.node_create(parent=building, name=f"{u + 1}单元", code=f"U{u + 1}")
                    tree.units.append(unit)
                    for floor in (1, 2):
                        for room in (1, 2):
                            household = geo.household_create(
                                unit=unit, room=f"{floor}0{room}", floor=floor
                            )
                            for member in range(2):
                                seq += 1
                                geo.resident_create(
                                    household=household,
                                    name=f"居民{seq}",
                                    id_number=make_id_number(
                                        "220421",
                                        dt.date(1940 + seq % 60, 1 + seq % 12, 1 + seq % 28),
                                        seq % 1000,
                                    ),
                                    phone=f"138{seq:08d}",
                                    relation="head" if member == 0 else "spouse",
                                )
    tree.users = {
        "admin": login("admin", "city_admin", city),
        "street": login("street", "street_commander", street),
        "community": login("community", "community_staff", tree.communities[0]),
        "grid": login("grid", "grid_chief", tree.grids[0]),
        "other_grid": login("other_grid", "grid_chief", tree.grids[1]),
        "building": login("building", "building_chief", tree.buildings[0]),
        "volunteer": login("volunteer", "volunteer", tree.grids[0]),
        "nobody": login("nobody", None, None),
    }
    return tree


def api_client(user: User, **headers: str) -> Client:
    """A test client calling the API with a new bearer token of `user`."""
    return Client(headers={"authorization": f"Bearer {token_issue(user=user)}", **headers})
