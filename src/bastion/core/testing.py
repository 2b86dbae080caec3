"""A small, fully known tree for tests: two communities, each with two grids, each with two
buildings of two units, each unit with four households of two residents; one login per role.
Tests build on it and assert exact figures."""

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.models import User
from django.db import models, transaction

from bastion.accounts.services import role_assign
from bastion.geo import services as geo
from bastion.geo.identity import make_id_number
from bastion.geo.models import Node

PASSWORD = "test-pass-123"


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


class Rows:
    """The rows a build function adds to the database, captured once per session (in a
    transaction that is rolled back) and inserted again, as they were, for each test that
    asks for them: one INSERT per table instead of the hundreds of queries the services
    make. Each test still gets its own copy, rolled back or flushed after it like any row it
    makes, so tests that do not ask see an empty database.

    `build` runs on top of `base` (another Rows, inserted first) and gets its result; the
    rows captured are those `build` adds, and the base's rows it changes or deletes (changed
    again and deleted again, after the inserts). `result()` gives what `build` returned with
    every model instance in it fetched again from the database, one instance per row."""

    def __init__(self, build, base: "Rows | None" = None):
        tables = [
            m
            for m in apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy
        ]
        with transaction.atomic():
            args = (base.insert({}),) if base else ()
            before = {m: {o.pk: _values(o) for o in m._base_manager.all()} for m in tables}
            self.built = build(*args)
            self.rows, self.changed, self.deleted = [], [], []
            for model in tables:
                now = list(model._base_manager.order_by("pk"))
                new = [o for o in now if o.pk not in before[model]]
                if new:
                    self.rows.append((model, new))
                changed = [o for o in now if before[model].get(o.pk, _values(o)) != _values(o)]
                if changed:
                    self.changed.append((model, changed))
                gone = set(before[model]) - {o.pk for o in now}
                if gone:
                    self.deleted.append((model, gone))
            transaction.set_rollback(True)

    def insert(self, fetched: dict) -> object:
        """Insert the rows (the base's must be there already) and return the build's
        result; see `result`."""
        with transaction.atomic():
            for model, objs in self.rows:
                model._base_manager.bulk_create(objs)
            for model, objs in self.changed:
                fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
                model._base_manager.bulk_update(objs, fields)
            for model, pks in self.deleted:
                model._base_manager.filter(pk__in=pks)._raw_delete(model._base_manager.db)
        return self.result(fetched)

    def result(self, fetched: dict) -> object:
        """The build's result with its model instances fetched again. `fetched` maps
        (model, pk) to the instances already handed to this test, so one row is one object
        across the fixtures of a test, as when fixtures pass their objects on."""
        wanted = defaultdict(set)
        _walk(self.built, lambda o: wanted[type(o)].add(o.pk))
        for model, pks in wanted.items():
            missing = [pk for pk in pks if (model, pk) not in fetched]
            for pk, obj in model._base_manager.in_bulk(missing).items():
                fetched[model, pk] = obj
        return _walk(self.built, lambda o: fetched[type(o), o.pk])


def _values(obj: models.Model) -> tuple:
    return tuple(getattr(obj, f.attname) for f in obj._meta.concrete_fields)


def _walk(value, on_model):
    """`value` rebuilt with `on_model(instance)` in place of each model instance in it
    (through dataclasses, lists, tuples and dicts)."""
    if isinstance(value, models.Model):
        return on_model(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value,
            **{
                f.name: _walk(getattr(value, f.name), on_model)
                for f in dataclasses.fields(value)
                if f.init
            },
        )
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_walk(v, on_model) for v in value))
    if isinstance(value, list | tuple):
        return type(value)(_walk(v, on_model) for v in value)
    if isinstance(value, dict):
        return {k: _walk(v, on_model) for k, v in value.items()}
    return value


def browser_login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
