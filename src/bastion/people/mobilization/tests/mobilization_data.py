"""Mobilization on the small known tree (bastion.core.testing), shared by the mobilization
tests: cadres living in the first grid and the second, places on duty in each grid, and a
point chief with a login. Times are built around the real clock, never faked: a roster for
tomorrow is always in the future, and `place_now` makes a place whose first shift is on now."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils import timezone

from bastion.accounts.testing import SmallTree, login
from bastion.geo.models import Household, Node
from bastion.people import services as people_services
from bastion.people.mobilization import services
from bastion.people.mobilization.models import Place
from bastion.people.models import Person


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def person_in(
    unit: Node, name: str, phone: str, *, kind: str = "cadre", party: bool = False
) -> Person:
    home = Household.objects.filter(unit=unit).order_by("room").first()
    return people_services.person_create(
        name=name, kind=kind, phone=phone, home=home, party_member=party
    )


@dataclass
class Duty:
    tree: SmallTree
    cadres: list[Person] = field(default_factory=list)  # live in grids[0]
    others: list[Person] = field(default_factory=list)  # live in grids[1]
    guard: Place | None = None  # guard point on buildings[0] (grids[0]), 08:00, 2 a shift
    checkpoint: Place | None = None  # checkpoint on grids[0], shifts from 12:00
    far: Place | None = None  # guard point on buildings[2] (grids[1])
    chief_user: User | None = None  # login of cadres[0], point chief of `guard`


def build_duty(tree: SmallTree) -> Duty:
    duty = Duty(tree)
    names = ["赵一", "钱二", "孙三", "李四", "周五", "吴六", "郑七", "王八"]
    for i, name in enumerate(names):
        duty.cadres.append(person_in(tree.units[i % 4], name, f"1370000{i:04d}", party=i % 2 == 0))
    for i, name in enumerate(["冯九", "陈十"]):
        duty.others.append(person_in(tree.units[4 + i], name, f"1371000{i:04d}"))
    admin = tree.users["admin"]
    duty.guard = services.place_create(
        node=tree.buildings[0],
        name="1号楼东门值守点",
        kind="guard_point",
        chief=duty.cadres[0],
        actor=admin,
    )
    duty.checkpoint = services.place_create(
        node=tree.grids[0],
        name="北路卡口",
        kind="checkpoint",
        first_shift_at=dt.time(12),
        required=1,
        actor=admin,
    )
    duty.far = services.place_create(
        node=tree.buildings[2],
        name="3号楼值守点",
        kind="guard_point",
        chief=duty.others[0],
        actor=admin,
    )
    duty.chief_user = login("pointchief", "volunteer", tree.grids[0])
    Person.objects.filter(pk=duty.cadres[0].pk).update(user=duty.chief_user)
    duty.cadres[0].refresh_from_db()
    return duty


def place_now(
    node: Node, name: str, *, chief: Person | None = None, required: int = 2
) -> tuple[Place, dt.date]:
    """A place whose day starts an hour ago (on the hour), so its first shift is on now;
    returns it and that roster day."""
    start = timezone.localtime() - dt.timedelta(hours=1)
    start = start.replace(minute=0, second=0, microsecond=0)
    place = services.place_create(
        node=node,
        name=name,
        kind="checkpoint",
        chief=chief,
        first_shift_at=start.time(),
        required=required,
        opened_on=start.date(),
    )
    return place, start.date()
