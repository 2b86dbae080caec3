"""`bastion bench orders`: an order to 5,000 building chiefs of one street, delivered (the
recipient rows and their chiefs above resolved and written, the inbox deliveries written),
and its board read — beside the database's plain multi-row insert of as many rows, measured
in the same run. The web command opens the scratch database and calls these two.

The street: 20 communities × 10 grids × 25 buildings, a chief on every grid and building
(5,200 persons and posts), written with one multi-row insert per table."""

import datetime as dt
import statistics
import time
import uuid

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from bastion.accounts.services import role_assign
from bastion.core.bulk import copy_rows, insert_rows
from bastion.core.levels import LEVEL_ORDER
from bastion.geo.models import Node
from bastion.orders import queries, services
from bastion.orders.models import Order, Recipient
from bastion.people.models import Person, Post

COMMUNITIES, GRIDS, BUILDINGS = 20, 10, 25
TARGETS = {"issue_ms": 2000.0, "board_ms": 200.0}
ANCESTORS = list(services.ANCESTORS)


def _tree() -> tuple[list[tuple], dict[str, list[tuple[int, tuple]]]]:
    """Node rows (id, path, depth, numchild, name, level, code, *ancestors), and by level
    the (id, ancestor columns) of each node."""
    nodes: list[tuple] = []
    by_level: dict[str, list[tuple[int, tuple]]] = {level: [] for level in LEVEL_ORDER}
    next_id = iter(range(1, 10**7))

    def add(level, name, code, parent_path, position, parents, children):
        pk = next(next_id)
        own = (*parents, pk)
        columns = own + (None,) * (len(LEVEL_ORDER) - len(own))
        path = Node._get_path(parent_path, len(parent_path or "") // Node.steplen + 1, position)
        nodes.append((pk, path, len(own), children, name, level, code, *columns))
        by_level[level].append((pk, columns))
        return path, own

    city_path, city = add("city", "基准市", "OC", None, 1, (), 1)
    district_path, district = add("district", "基准区", "OD", city_path, 1, city, 1)
    street_path, street = add("street", "指令街道", "OS", district_path, 1, district, COMMUNITIES)
    for c in range(COMMUNITIES):
        c_path, community = add(
            "community", f"{c + 1}社区", f"C{c + 1}", street_path, c + 1, street, GRIDS
        )
        for g in range(GRIDS):
            g_path, grid = add(
                "grid", f"{c + 1}-{g + 1}网格", f"G{g + 1}", c_path, g + 1, community, BUILDINGS
            )
            for b in range(BUILDINGS):
                add("building", f"{b + 1}号楼", f"B{b + 1}", g_path, b + 1, grid, 0)
    return nodes, by_level


def bench_build() -> dict:
    """Write the street, its chiefs and the commander's login; answers what was built."""
    nodes, by_level = _tree()
    with transaction.atomic():
        insert_rows(
            Node, ["id", "path", "depth", "numchild", "name", "level", "code", *ANCESTORS], nodes
        )
        chiefs = [("street_chief", n) for n in by_level["street"]]
        chiefs += [("grid_chief", n) for n in by_level["grid"]]
        chiefs += [("building_chief", n) for n in by_level["building"]]
        persons = [
            (i + 1, f"长{i + 1:05d}", "cadre", f"139{i + 1:08d}", False, *columns)
            for i, (_role, (_pk, columns)) in enumerate(chiefs)
        ]
        insert_rows(Person, ["id", "name", "kind", "phone", "party_member", *ANCESTORS], persons)
        started = timezone.localdate() - dt.timedelta(days=30)
        insert_rows(
            Post,
            ["person_id", "role", "node_id", "title", "started_on", *ANCESTORS],
            [
                (i + 1, role, pk, "", started, *columns)
                for i, (role, (pk, columns)) in enumerate(chiefs)
            ],
        )
        if connection.vendor == "postgresql":
            from django.core.management.color import no_style

            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [Node, Person, Post]):
                    cursor.execute(sql)
        user = User.objects.create_user("orders-bench", email="bench@bench.invalid")
        role_assign(user=user, role="street_commander", node=Node(pk=by_level["street"][0][0]))
    return {"street_id": by_level["street"][0][0], "buildings": len(by_level["building"])}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def bench_measure(*, street_id: int, runs: int = 3) -> dict:
    """Issue `runs` orders to every building chief of the street (median time), read the
    board of one past its deadline with half acknowledged (median of ten reads), and the
    plain multi-row insert of as many rows as one order writes (recipients and deliveries)."""
    user = User.objects.get(username="orders-bench")
    street = Node.objects.get(pk=street_id)
    issue_times = []
    order = None
    for run in range(runs):
        now = timezone.now()
        started = time.perf_counter()
        order = services.order_issue(
            actor=user,
            node=street,
            title=f"基准指令 {run + 1}",
            roles=["building_chief"],
            due_at=now + dt.timedelta(hours=4),
            at=now,
        )
        issue_times.append(time.perf_counter() - started)
    recipients = order.recipient_count
    # Half acknowledged, the deadline passed: the board with its late rows and call list.
    rows = list(Recipient.objects.filter(order=order).order_by("pk").values_list("pk", flat=True))
    Recipient.objects.filter(pk__in=rows[: len(rows) // 2]).update(acknowledged_at=timezone.now())
    Order.objects.filter(pk=order.pk).update(
        issued_at=timezone.now() - dt.timedelta(hours=1),
        ack_by=timezone.now() - dt.timedelta(minutes=1),
    )
    order.refresh_from_db()
    services.order_escalate(order=order)
    board_times = []
    for _ in range(10):
        user = User.objects.get(pk=user.pk)  # a request's login: grants read anew
        started = time.perf_counter()
        now = timezone.now()
        services.order_escalate(order=order, now=now)
        board = queries.board(user, order, now=now)
        calls = queries.call_list(user, order, now=now)
        board_times.append(time.perf_counter() - started)
    escalate_started = time.perf_counter()
    raw = _raw_insert(order, recipients)
    return {
        "recipients": recipients,
        "issue_ms": _ms(statistics.median(issue_times)),
        "issue_ms_runs": [_ms(t) for t in issue_times],
        "board_ms": _ms(statistics.median(board_times)),
        "board_lines": len(board.lines),
        "board_late": board.tally.late,
        "call_list_rows": len(calls),
        "raw_insert_ms": _ms(raw),
        "raw_rows": recipients * 2,
        "seconds_raw": round(time.perf_counter() - escalate_started, 1),
    }


def _raw_insert(order: Order, count: int) -> float:
    """The database's own limit for what an order writes: `count` recipient rows and as many
    inbox rows, each loaded as fast as the database takes them (COPY on PostgreSQL, one
    executemany on SQLite) in one transaction, then rolled back."""
    from bastion.notices.models import Delivery, Notification

    template = list(
        Recipient.objects.filter(order=order)
        .order_by("pk")
        .values_list("person_id", "role", "node_id", *ANCESTORS)[:count]
    )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            notification = Notification(kind="bench.raw", title="raw", node_id=order.node_id)
            notification.locate(order)
            notification.save()
            copy = Order.objects.create(
                **{f: getattr(order, f) for f in ("node_id", "title", "ack_by", "due_at")},
                issued_at=order.issued_at,
                client_id=uuid.uuid4(),
                **{c: getattr(order, c) for c in ANCESTORS},
            )
            copy_rows(
                Recipient,
                ["order_id", "person_id", "role", "node_id", *ANCESTORS],
                [(copy.pk, *row) for row in template],
            )
            copy_rows(
                Delivery,
                ["notification_id", "person_id", "reason"],
                [(notification.pk, row[0], "raw") for row in template],
            )
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


class _Rollback(Exception):
    pass
