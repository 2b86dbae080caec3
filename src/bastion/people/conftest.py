"""Posts on the small known tree (bastion.core.testing), shared by the people page tests."""

from dataclasses import dataclass, field

import pytest

from bastion.core.testing import Rows
from bastion.geo.models import Household, Node
from bastion.people import services
from bastion.people.models import Person, Post


@dataclass
class Staffed:
    """Who holds which post; persons live in the unit they serve (or the first unit)."""

    street_chief: Post
    grid_chief: Post  # of grids[0]
    building_chiefs: list[Post] = field(default_factory=list)  # of buildings[0] and [1]
    unit_chiefs: list[Post] = field(default_factory=list)  # of units[0], [1] and [2]


def person_at(unit: Node, name: str, phone: str) -> Person:
    home = Household.objects.filter(unit=unit).order_by("room").first()
    return services.person_create(name=name, kind="cadre", phone=phone, home=home)


def build_staffed(tree) -> Staffed:
    """The street chief, one grid chief, two building chiefs and three unit chiefs, all in
    the first grid; every other chief post of the street is vacant."""
    admin = tree.users["admin"]

    def assign(name, phone, role, node, home_unit):
        person = person_at(home_unit, name, phone)
        return services.post_assign(person=person, role=role, node=node, actor=admin)

    u = tree.units
    return Staffed(
        street_chief=assign("街长甲", "13900000001", "street_chief", tree.street, u[0]),
        grid_chief=assign("网格长乙", "13900000002", "grid_chief", tree.grids[0], u[0]),
        building_chiefs=[
            assign("楼长丙", "13900000003", "building_chief", tree.buildings[0], u[0]),
            assign("楼长丁", "13900000004", "building_chief", tree.buildings[1], u[2]),
        ],
        unit_chiefs=[
            assign("单元长戊", "13900000005", "unit_chief", u[0], u[0]),
            assign("单元长己", "13900000006", "unit_chief", u[1], u[1]),
            assign("单元长庚", "13900000007", "unit_chief", u[2], u[2]),
        ],
    )


@pytest.fixture(scope="session")
def staffed_rows(tree_rows, django_db_blocker):
    with django_db_blocker.unblock():
        return Rows(build_staffed, base=tree_rows)


@pytest.fixture
def staffed(tree, staffed_rows, fetched) -> Staffed:
    """`build_staffed`, built once per session and inserted again for each test (see
    bastion.core.testing.Rows)."""
    return staffed_rows.insert(fetched)
