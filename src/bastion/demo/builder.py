"""Write the demo plan to the database fast, find it again, count it and wipe it.

The plan (plan.py) is made in memory; here it goes in table by table, level by level, inside
one transaction. The per-row services are not used (a query or more per row); what they would
have done is done here in bulk instead:

* treebeard's `path`, `depth` and `numchild` are computed from the plan (steplen 4 over
  treebeard's alphabet, via `Node._get_path`), so treebeard keeps working on the result;
* every located row gets its ancestor columns from its node; a node's own column (its id at
  its level) is set by one UPDATE per level after its insert;
* the change log gets one "create" entry per household, resident, zone and post, in the form
  `history.record_many` gives them, with source "demo".

Small tables go in with `bulk_create`, which returns the ids. The big ones (households,
residents, persons, posts, change log) go in with one `executemany` of a plain INSERT, and
their ids are read back by a unique key: `bulk_create` builds a model instance and prepares
every value through the field API, which for the 40,000 residents alone took ~10 s on the
2-core machine this was measured on, a third of the 30 s budget.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.accounts.models import RevealLog
from bastion.accounts.services import role_assign
from bastion.core.bulk import copy_rows
from bastion.core.models import ChangeLog, Located
from bastion.demo import spec
from bastion.demo.modules import modules_build
from bastion.demo.plan import DemoPlan, ResidentRow, plan_demo
from bastion.geo.models import LEVEL_ORDER, CommandZone, Household, Node, Resident, ZoneBuilding
from bastion.geo.queries import counts_by
from bastion.geo.services import RESIDENT_FIELDS
from bastion.people.models import Organisation, Person, Post, PostRole
from bastion.people.queries import vacancies
from bastion.people.services import POST_FIELDS

# Rows per INSERT batch: the progress bar moves between batches.
CHUNK = 2500
ANCESTORS = [f"{level}_id" for level in LEVEL_ORDER]


class DemoError(Exception):
    """The demo cannot be built or found as asked; the message says why and what to do."""


class Progress(Protocol):
    def phase(self, description: str, total: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NoProgress:
    def phase(self, description: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class Written:
    """Database ids of the plan's rows, by plan index, and the ancestor columns per node."""

    nodes: list[int]
    located: list[dict[str, int]]
    ancestors: list[tuple[int | None, ...]]  # the same, as values in ANCESTORS order
    organisations: list[int]
    zones: list[int]
    households: list[int]
    persons: list[int]


# ---------------------------------------------------------------------------------------------
# Finding the demo


def demo_city() -> Node | None:
    return Node.objects.filter(depth=1, name=spec.CITY[0], code=spec.CITY[1]).first()


def demo_streets(city: Node) -> list[Node]:
    return list(Node.objects.filter(city_id=city.pk, level="street").order_by("path"))


def demo_users() -> models.QuerySet[User]:
    return User.objects.filter(email__endswith=f"@{spec.LOGIN_EMAIL_DOMAIN}")


# ---------------------------------------------------------------------------------------------
# Building


def demo_build(
    *,
    scale: int = 1,
    seed: int = spec.SEED,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> tuple[Node, DemoPlan]:
    """Plan the demo and write it in one transaction; returns the city and the plan."""
    progress = progress or NoProgress()
    if scale < 1:
        raise DemoError(_("The scale must be at least 1."))
    progress.phase(_("Planning streets"), scale)
    plan = plan_demo(
        seed=seed, scale=scale, today=today, progress=lambda _street: progress.advance()
    )
    city = write_plan(plan, progress)
    _analyze()
    modules_build(demo_streets(city), seed=seed, progress=progress)
    _analyze()
    return city, plan


def _analyze() -> None:
    """Refresh PostgreSQL's table statistics after a bulk load: without them the planner
    takes the freshly filled tables for empty and joins them with nested loops over full scans
    (a residents-households join ran for minutes). SQLite plans from its indexes alone."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@contextmanager
def _roomy_sqlite_cache() -> Iterator[None]:
    """SQLite's default page cache (2 MB) is far smaller than the indexes a build updates;
    with a bigger one each index page is read and written once instead of thrashing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")  # up to 256 MiB, used only as needed
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def write_plan(plan: DemoPlan, progress: Progress | None = None) -> Node:
    with _roomy_sqlite_cache(), transaction.atomic():
        return _write_plan(plan, progress or NoProgress())


def _write_plan(plan: DemoPlan, progress: Progress) -> Node:
    taken = User.objects.filter(username__in=[login.username for login in plan.logins])
    if taken.exclude(pk__in=demo_users()).exists():
        raise DemoError(
            _("A login named %(names)s already exists and is not a demo login; rename it first.")
            % {"names": ", ".join(taken.values_list("username", flat=True))}
        )
    # Demo logins left over from a demo city deleted by other means.
    _delete_users(demo_users().filter(username__in=[login.username for login in plan.logins]))
    users = _write_users(plan)
    nodes, located = _write_nodes(plan, progress)
    ancestors = [tuple(columns.get(c) for c in ANCESTORS) for columns in located]
    w = Written(nodes, located, ancestors, organisations=[], zones=[], households=[], persons=[])
    city = nodes[0]
    w.organisations = _write_organisations(plan, w, progress)
    w.zones = _write_zones(plan, w, progress)
    w.households = _write_households(plan, w, city, progress)
    _write_residents(plan, w, city, progress)
    w.persons = _write_persons(plan, w, city, users, progress)
    _write_posts(plan, w, city, progress)
    _write_roles(plan, w, users)
    return Node.objects.get(pk=city)


def _batched(rows: Iterable, size: int) -> Iterator[list]:
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        yield chunk


def _bulk(
    model: type[models.Model], objs: Sequence[models.Model], progress: Progress
) -> Sequence[models.Model]:
    """bulk_create in chunks; ids come back on SQLite and PostgreSQL alike."""
    for chunk in _batched(objs, CHUNK):
        model.objects.bulk_create(chunk)
        progress.advance(len(chunk))
    return objs


def _date(value):
    return connection.ops.adapt_datefield_value(value)


def _json(value):
    return connection.ops.adapt_json_value(value, None)


def _record(
    model: type[models.Model], entries: Iterable[tuple[int, str, dict, dict]], progress: Progress
) -> None:
    """Change-log "create" entries (object id, repr, changes, ancestor columns) as
    `history.record_many` writes them, without a model instance per row."""
    object_type = f"{model._meta.app_label}.{model._meta.model_name}"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    fields = [
        "at",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "source",
        *ANCESTORS,
    ]
    rows = (
        (
            now,
            ChangeLog.CREATE,
            object_type,
            pk,
            text[:200],
            _json(changes),
            "demo",
            *ancestors,
        )
        for pk, text, changes, ancestors in entries
    )
    copy_rows(ChangeLog, fields, rows, progress)


def _created(values: dict[str, Any]) -> dict[str, list]:
    return {f: [None, v] for f, v in values.items()}


def _write_users(plan: DemoPlan) -> dict[str, User]:
    # One hash for all: the password is the same and published, and hashing is slow on purpose.
    password = make_password(spec.PASSWORD)
    names = {
        login.username: plan.residents[plan.persons[login.person].resident].name
        for login in plan.logins
        if login.person is not None
    }
    users = User.objects.bulk_create(
        [
            User(
                username=login.username,
                password=password,
                first_name=names.get(login.username, ""),
                email=f"{login.username}@{spec.LOGIN_EMAIL_DOMAIN}",
            )
            for login in plan.logins
        ]
    )
    return {u.username: u for u in users}


def _next_root_position() -> int:
    last = Node.objects.filter(depth=1).order_by("-path").values_list("path", flat=True).first()
    return Node._str2int(last) + 1 if last else 1


def _write_nodes(plan: DemoPlan, progress: Progress) -> tuple[list[int], list[dict]]:
    """Insert the nodes level by level, parents before children, with their treebeard
    fields and ancestor columns."""
    progress.phase(_("Tree"), len(plan.nodes))
    numchild = plan.numchild()
    ids: list[int] = [0] * len(plan.nodes)
    paths: list[str] = [""] * len(plan.nodes)
    located: list[dict] = [{}] * len(plan.nodes)
    by_depth: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(plan.nodes):
        by_depth[LEVEL_ORDER.index(row.level) + 1].append(i)
    root_position = _next_root_position()
    for depth in sorted(by_depth):
        indexes = by_depth[depth]
        objs = []
        for i in indexes:
            row = plan.nodes[i]
            if row.parent is None:
                paths[i] = Node._get_path(None, 1, root_position)
                ancestors = {}
            else:
                paths[i] = Node._get_path(paths[row.parent], depth, row.position)
                ancestors = located[row.parent]
            objs.append(
                Node(
                    path=paths[i],
                    depth=depth,
                    numchild=numchild[i],
                    name=row.name,
                    level=row.level,
                    code=row.code,
                    floors=row.floors,
                    **ancestors,
                )
            )
        _bulk(Node, objs, progress)
        level = plan.nodes[indexes[0]].level
        column = f"{level}_id"
        # A node carries its own id in its level's column: known only after the insert.
        Node.objects.filter(
            path__startswith=paths[0], level=level, **{f"{column}__isnull": True}
        ).update(**{column: F("pk")})
        for i, obj in zip(indexes, objs, strict=True):
            ids[i] = obj.pk
            parent = plan.nodes[i].parent
            located[i] = {**(located[parent] if parent is not None else {}), column: obj.pk}
    return ids, located


def _write_organisations(plan: DemoPlan, w: Written, progress: Progress) -> list[int]:
    progress.phase(_("Organisations"), len(plan.organisations))
    objs = [
        Organisation(
            name=o.name, kind=o.kind, temporary=o.temporary, site=o.site, **w.located[o.node]
        )
        for o in plan.organisations
    ]
    return [o.pk for o in _bulk(Organisation, objs, progress)]


def _write_zones(plan: DemoPlan, w: Written, progress: Progress) -> list[int]:
    progress.phase(_("Command zones"), len(plan.zones) * 2)
    zones = _bulk(
        CommandZone,
        [CommandZone(name=z.name, kind=z.kind, **w.located[z.street]) for z in plan.zones],
        progress,
    )
    members = [[w.nodes[b] for b in row.buildings] for row in plan.zones]
    ZoneBuilding.objects.bulk_create(
        [
            ZoneBuilding(zone_id=zone.pk, building_id=b)
            for zone, buildings in zip(zones, members, strict=True)
            for b in buildings
        ]
    )
    _record(
        CommandZone,
        (
            (
                zone.pk,
                zone.name,
                _created({"name": zone.name, "kind": zone.kind, "buildings": buildings}),
                w.ancestors[row.street],
            )
            for zone, row, buildings in zip(zones, plan.zones, members, strict=True)
        ),
        progress,
    )
    return [z.pk for z in zones]


def _write_households(plan: DemoPlan, w: Written, city: int, progress: Progress) -> list[int]:
    progress.phase(_("Households"), len(plan.households) * 2)
    copy_rows(
        Household,
        ["room", "floor", *ANCESTORS],
        ((h.room, h.floor, *w.ancestors[h.unit]) for h in plan.households),
        progress,
    )
    by_room = {
        (unit, room): pk
        for unit, room, pk in Household.objects.filter(city_id=city).values_list(
            "unit_id", "room", "pk"
        )
    }
    ids = [by_room[w.nodes[h.unit], h.room] for h in plan.households]
    _record(
        Household,
        (
            (
                pk,
                f"{plan.nodes[h.unit].name} {h.room}",
                _created({"room": h.room, "floor": h.floor}),
                w.ancestors[h.unit],
            )
            for pk, h in zip(ids, plan.households, strict=True)
        ),
        progress,
    )
    return ids


RESIDENT_COLUMNS = (
    "household_id",
    "name",
    "id_number",
    "birth_date",
    "sex",
    "phone",
    "relation",
    "presence",
    "immobile",
    "disabled",
    "chronic_illness",
    "pregnant",
    "infant",
)


def _write_residents(plan: DemoPlan, w: Written, city: int, progress: Progress) -> None:
    progress.phase(_("Residents"), len(plan.residents) * 2)
    unit_of = [h.unit for h in plan.households]
    copy_rows(
        Resident,
        [*RESIDENT_COLUMNS, *ANCESTORS],
        (
            (
                w.households[r.household],
                r.name,
                r.id_number,
                _date(r.birth_date),
                *r[4:],
                *w.ancestors[unit_of[r.household]],
            )
            for r in plan.residents
        ),
        progress,
    )
    ids = dict(Resident.objects.filter(city_id=city).values_list("id_number", "pk"))
    # The planned fields (those the plan leaves out keep their defaults, logged as such).
    snapshot = [f for f in RESIDENT_FIELDS if f in ResidentRow._fields]
    _record(
        Resident,
        (
            (
                ids[r.id_number],
                r.name,
                _created(
                    {
                        **{f: getattr(r, f) for f in snapshot},
                        "household_id": w.households[r.household],
                    }
                ),
                w.ancestors[unit_of[r.household]],
            )
            for r in plan.residents
        ),
        progress,
    )


def _write_persons(
    plan: DemoPlan, w: Written, city: int, users: dict[str, User], progress: Progress
) -> list[int]:
    progress.phase(_("Persons"), len(plan.persons))
    user_of = {
        login.person: users[login.username].pk for login in plan.logins if login.person is not None
    }
    rows = []
    for i, p in enumerate(plan.persons):
        r = plan.residents[p.resident]
        rows.append(
            (
                r.name,
                p.kind,
                r.id_number,
                r.phone,
                p.party_member,
                w.organisations[p.employer] if p.employer is not None else None,
                w.households[r.household],
                user_of.get(i),
                *w.ancestors[plan.households[r.household].unit],
            )
        )
    copy_rows(
        Person,
        [
            "name",
            "kind",
            "id_number",
            "phone",
            "party_member",
            "employer_id",
            "home_id",
            "user_id",
            *ANCESTORS,
        ],
        rows,
        progress,
    )
    ids = dict(Person.objects.filter(city_id=city).values_list("id_number", "pk"))
    return [ids[plan.residents[p.resident].id_number] for p in plan.persons]


def _write_posts(plan: DemoPlan, w: Written, city: int, progress: Progress) -> None:
    progress.phase(_("Posts"), len(plan.posts) * 2)

    def zone(p):
        return w.zones[p.zone] if p.zone is not None else None

    copy_rows(
        Post,
        ["person_id", "role", "node_id", "zone_id", "title", "started_on", *ANCESTORS],
        (
            (
                w.persons[p.person],
                p.role,
                w.nodes[p.node],
                zone(p),
                p.title,
                _date(p.started_on),
                *w.ancestors[p.node],
            )
            for p in plan.posts
        ),
        progress,
    )
    ids = {
        (person, role): pk
        for person, role, pk in Post.objects.filter(city_id=city).values_list(
            "person_id", "role", "pk"
        )
    }
    names = [r.name for r in plan.residents]
    _record(
        Post,
        (
            (
                ids[w.persons[p.person], p.role],
                f"{PostRole(p.role).label} {names[plan.persons[p.person].resident]} @ "
                f"{plan.nodes[p.node].name}",
                _created(
                    dict(
                        zip(
                            POST_FIELDS,
                            (
                                w.persons[p.person],
                                p.role,
                                w.nodes[p.node],
                                zone(p),
                                p.title,
                                p.started_on.isoformat(),
                                None,
                            ),
                            strict=True,
                        )
                    )
                ),
                w.ancestors[p.node],
            )
            for p in plan.posts
        ),
        progress,
    )


def _write_roles(plan: DemoPlan, w: Written, users: dict[str, User]) -> None:
    for login in plan.logins:
        role_assign(user=users[login.username], role=login.role, node=Node(pk=w.nodes[login.node]))


# ---------------------------------------------------------------------------------------------
# Counting


def demo_counts(city: Node) -> dict[str, int]:
    """The figures of the field reports, counted in the database through the shared queries."""
    # Counting is not a user's request: a superuser that is never saved sees everything.
    viewer = User(username="demo-counter", is_superuser=True, is_active=True)
    streets = demo_streets(city)
    district = Node.objects.get(pk=streets[0].district_id) if streets else city
    # Not geo.queries.descendants_count: the Node manager's default ordering by path splits
    # its GROUP BY into one group per node.
    nodes = dict(
        Node.objects.filter(path__startswith=district.path)
        .order_by()
        .values_list("level")
        .annotate(n=Count("id"))
    )
    figures = counts_by("city", [city.pk])[city.pk]
    zones = dict(
        CommandZone.objects.filter(city_id=city.pk).values_list("kind").annotate(n=Count("id"))
    )
    posts = dict(
        Post.objects.filter(city_id=city.pk, ended_on__isnull=True)
        .values_list("role")
        .annotate(n=Count("id"))
    )
    vacant = {"building": 0, "unit": 0}
    for street in streets:
        found = vacancies(viewer, street)
        for level in vacant:
            vacant[level] += len(found[level])
    return {
        "streets": len(streets),
        "communities": nodes.get("community", 0),
        "grids": nodes.get("grid", 0),
        "zones": sum(zones.values()),
        "independent_zones": zones.get("independent", 0),
        "joint_zones": zones.get("joint", 0),
        "buildings": nodes.get("building", 0),
        "units": nodes.get("unit", 0),
        "households": figures["households"],
        "residents": figures["residents"],
        "street_chiefs": posts.get("street_chief", 0),
        "lane_chiefs": posts.get("lane_chief", 0),
        "grid_chiefs": posts.get("grid_chief", 0),
        "building_chiefs": posts.get("building_chief", 0),
        "unit_chiefs": posts.get("unit_chief", 0),
        "vacant_buildings": vacant["building"],
        "vacant_units": vacant["unit"],
        "zone_commanders": posts.get("zone_commander", 0),
        "deputy_commanders": posts.get("deputy_commander", 0),
        "cadres": Person.objects.filter(city_id=city.pk, kind="cadre", home__isnull=False).count(),
        "reserve": posts.get("reserve", 0),
    }


@dataclass
class LoginInfo:
    username: str
    role: str
    node: str
    person: str


def demo_logins() -> list[LoginInfo]:
    """The demo logins with their role, node and person, in the order of the plan."""
    order = {
        name: i
        for i, name in enumerate(
            ("admin", "street", "community", "grid", "building", "unit", "volunteer")
        )
    }
    rows = []
    for user in demo_users().prefetch_related("roles__node").select_related("person"):
        person = getattr(user, "person", None)
        for assignment in user.roles.all():
            rows.append(
                LoginInfo(
                    user.username,
                    assignment.get_role_display(),
                    assignment.node.name,
                    person.name if person else "",
                )
            )
    return sorted(rows, key=lambda r: (order.get(r.username, len(order)), r.username))


# ---------------------------------------------------------------------------------------------
# Wiping


def _models() -> list[type[models.Model]]:
    """Installed models whose table exists (an app still without its migration holds no rows),
    with the many-to-many tables Django makes (a response bundle's areas)."""
    tables = set(connection.introspection.table_names())
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in tables]


def _located_models() -> list[type[models.Model]]:
    return [m for m in _models() if issubclass(m, Located)]


def _foreign_references() -> Iterable[tuple[type[models.Model], models.Field]]:
    """Foreign keys from tables that are not located into located tables (zone memberships,
    role assignments...): their rows are found through the row they point at."""
    for model in _models():
        if issubclass(model, Located):
            continue
        for f in model._meta.concrete_fields:
            if (
                f.is_relation
                and f.related_model is not None
                and isinstance(f.related_model, type)
                and issubclass(f.related_model, Located)
            ):
                yield model, f


@transaction.atomic
def demo_wipe(city: Node) -> None:
    """Delete the demo city, everything located in it, and the demo logins.

    Every located table loses its rows of the city in one DELETE, in any order: the foreign
    keys are checked at commit (deferred, on SQLite and PostgreSQL), when nothing is left
    pointing at a deleted row, or the whole wipe is refused. The ORM's collector would instead
    load every row (~130,000) to follow PROTECT links between rows that all go anyway, and
    refuses the nodes outright since they PROTECT each other. Rows of other tables that point
    into the city (zone memberships, role assignments...) go first, through the ORM, so that
    their own cascades run.
    """
    for model, f in _foreign_references():
        rows = model.objects.filter(**{f"{f.name}__city_id": city.pk})
        if f.remote_field.on_delete is models.SET_NULL:
            rows.update(**{f.name: None})
        else:
            rows.delete()
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in _located_models():
            table, column = model._meta.db_table, model._meta.get_field("city").column
            cursor.execute(f"DELETE FROM {qn(table)} WHERE {qn(column)} = %s", [city.pk])
    _delete_users(demo_users())


def _delete_users(users: models.QuerySet[User]) -> None:
    RevealLog.objects.filter(user__in=users).delete()
    users.delete()
