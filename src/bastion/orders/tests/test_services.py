"""Orders: issue → acknowledge → escalate → done, with the exact escalation list; bad input
refused naming the field with nothing written; the board's roll-up; the daily figure."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.core.errors import Conflict, DomainError
from bastion.core.photos import photos_check
from bastion.core.testing import png_bytes
from bastion.notices.models import Delivery, Notification
from bastion.orders import queries, services
from bastion.orders.models import Order, Recipient
from bastion.requests.tests.conftest import png_upload

NOW = timezone.make_aware(dt.datetime(2026, 12, 7, 9, 0))


def _issue(tree, **kw):
    args = {
        "actor": tree.users["street"],
        "node": tree.communities[0],
        "title": "今晚全员核酸，各楼栋组织下楼",
        "roles": ["grid_chief", "building_chief"],
        "due_at": NOW + dt.timedelta(hours=6),
        "at": NOW,
    }
    return services.order_issue(**(args | kw))


def _row(order, name):
    return Recipient.objects.get(order=order, person__name=name)


def test_order_acknowledge_escalate_done(tree, chiefs, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = _issue(tree)
    # Resolved once from the current posts: five chiefs of the first community, each with
    # the chief above them; all delivered to their inboxes as one notification.
    assert order.recipient_count == 5
    assert order.ack_by == NOW + dt.timedelta(minutes=30)
    assert dict(
        Recipient.objects.filter(order=order).values_list("person__name", "above__name")
    ) == {
        "网格长一": "街长甲",
        "网格长二": "街长甲",
        "楼长一": "网格长一",
        "楼长二": "网格长一",
        "楼长三": "网格长二",
    }
    notice = Notification.objects.get(kind=services.ORDER_KIND, source_id=order.pk)
    assert notice.deliveries.count() == 5

    # The first grid's chief taps once (twice: the retry changes nothing); a building chief too.
    mine = queries.my_row(tree.users["grid"], order.pk)
    key = uuid.uuid4()
    at = NOW + dt.timedelta(minutes=5)
    services.order_acknowledge(actor=tree.users["grid"], recipient=mine, client_id=key, at=at)
    again = services.order_acknowledge(
        actor=tree.users["grid"], recipient=mine, client_id=key, at=at + dt.timedelta(minutes=1)
    )
    assert again.acknowledged_at == at
    assert notice.deliveries.get(person__name="网格长一").read_at == at
    services.order_acknowledge(
        actor=tree.users["admin"],
        recipient=_row(order, "楼长二"),
        at=NOW + dt.timedelta(minutes=20),
    )

    # Before the deadline nobody is escalated; after it, exactly the three who did not answer,
    # in the tree's order, each with the chief to call.
    before = NOW + dt.timedelta(minutes=29)
    assert queries.escalation_names(order, now=before) == []
    assert services.order_escalate(order=order, now=before) == 0
    after = NOW + dt.timedelta(minutes=31)
    assert queries.escalation_names(order, now=after) == [
        ("楼长一", "网格长一"),
        ("网格长二", "街长甲"),
        ("楼长三", "网格长二"),
    ]
    calls = queries.call_list(tree.users["street"], order, now=after)
    assert [(c.row.person.name, c.phone, c.above_phone) for c in calls] == [
        ("楼长一", "139****0021", "139****0011"),
        ("网格长二", "139****0012", "139****0001"),
        ("楼长三", "139****0023", "139****0012"),
    ]
    # The notice to the level above goes out once: to the three chiefs above them.
    assert services.order_escalate(order=order, now=after) == 3
    assert services.order_escalate(order=order, now=after + dt.timedelta(minutes=5)) == 0
    assert services.orders_escalate_due(now=after + dt.timedelta(minutes=6)) == 0
    escalation = Notification.objects.get(kind=services.ESCALATION_KIND, source_id=order.pk)
    assert escalation.urgent
    assert sorted(escalation.deliveries.values_list("person__name", flat=True)) == sorted(
        ["网格长一", "街长甲", "网格长二"]
    )

    # The board of the street: per grid, and the whole.
    board = queries.board(tree.users["street"], order, now=after)
    assert (board.tally.total, board.tally.acknowledged, board.tally.late) == (5, 2, 3)
    assert [(line.grid, line.tally.total, line.tally.acknowledged) for line in board.lines] == [
        (tree.grids[0].name, 3, 2),
        (tree.grids[1].name, 2, 0),
    ]
    # The first grid's chief sees only the rows of their grid.
    own = queries.board(tree.users["grid"], order, now=after)
    assert own.tally.total == 3

    # Done, with a note and a photo; a late acknowledgement leaves the call list.
    done = services.order_done(
        actor=tree.users["grid"],
        recipient=mine,
        note="已通知到每栋楼",
        photo=photos_check([png_upload("p.png", png_bytes(b"GPS 39.9N"))])[0],
        at=after,
    )
    assert done.done_photo.name.startswith("orders/done/")
    with done.done_photo.open("rb") as stored:
        assert stored.read() == png_bytes()  # stored without where it was taken
    with pytest.raises(Conflict):
        services.order_done(actor=tree.users["grid"], recipient=mine, note="again", at=after)
    services.order_acknowledge(
        actor=tree.users["other_grid"],
        recipient=queries.my_row(tree.users["other_grid"], order.pk),
        at=after + dt.timedelta(minutes=2),
    )
    assert [n for n, _a in queries.escalation_names(order, now=after)] == ["楼长一", "楼长三"]
    board = queries.board(tree.users["street"], order, now=after)
    assert (board.tally.acknowledged, board.tally.done, board.tally.late) == (3, 1, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "title"),
        ({"due_at": NOW - dt.timedelta(minutes=1)}, "due_at"),
        ({"ack_by": NOW - dt.timedelta(minutes=1)}, "ack_by"),
        ({"ack_by": NOW + dt.timedelta(hours=2), "due_at": NOW + dt.timedelta(hours=1)}, "due_at"),
        ({"roles": ["unit_chief"]}, "roles"),  # nobody holds it: an order to nobody
        ({"roles": []}, "roles"),
        ({"roles": ["mayor"]}, "roles"),
        ({"priority": "whenever"}, "priority"),
    ],
)
def test_bad_input_refused_naming_the_field(tree, chiefs, change, field):
    with pytest.raises(DomainError) as refused:
        _issue(tree, **change)
    assert field in [p.field for p in refused.value.problems]
    assert not Order.objects.exists()
    assert not Notification.objects.exists()


def test_issue_only_inside_own_subtree(tree, chiefs):
    with pytest.raises(PermissionDenied):
        _issue(tree, actor=tree.users["grid"], node=tree.communities[0])
    with pytest.raises(PermissionDenied):
        _issue(tree, actor=tree.users["volunteer"], node=tree.grids[0])
    order = _issue(tree, actor=tree.users["grid"], node=tree.grids[0])
    assert sorted(Recipient.objects.filter(order=order).values_list("person__name", flat=True)) == [
        "楼长一",
        "楼长二",
        "网格长一",
    ]
    # The other grid's chief sees neither the order nor a row of it.
    assert not queries.orders_for(tree.users["other_grid"]).filter(pk=order.pk).exists()
    with pytest.raises(Exception):  # noqa: B017 - NotFound, a 404
        queries.my_row(tree.users["other_grid"], order.pk)


def test_database_keeps_one_row_per_recipient_and_done_after_ack(tree, chiefs):
    order = _issue(tree)
    row = _row(order, "楼长一")
    with pytest.raises(IntegrityError), transaction.atomic():
        Recipient.objects.create(
            order=order, person_id=row.person_id, role="x", node_id=row.node_id
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Recipient.objects.filter(pk=row.pk).update(done_at=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(title="")


def test_escalation_without_a_chief_above_goes_to_the_issuer(tree, chiefs):
    order = _issue(tree, node=tree.street, roles=["street_chief"])
    assert services.order_escalate(order=order, now=NOW + dt.timedelta(hours=1)) == 1
    delivery = Delivery.objects.get(notification__kind=services.ESCALATION_KIND)
    assert delivery.user == tree.users["street"]


def test_daily_figure_counts_rows_not_acknowledged_in_time(tree, chiefs):
    order = _issue(tree)
    services.order_acknowledge(
        actor=tree.users["grid"],
        recipient=queries.my_row(tree.users["grid"], order.pk),
        at=NOW + dt.timedelta(minutes=10),
    )
    services.order_acknowledge(  # late: counts as not acknowledged in time
        actor=tree.users["other_grid"],
        recipient=queries.my_row(tree.users["other_grid"], order.pk),
        at=NOW + dt.timedelta(hours=1),
    )
    figures = queries.daily_figures(NOW.date(), [g.pk for g in tree.grids])
    assert figures == {
        tree.grids[0].pk: {"orders_received": 3, "orders_not_acknowledged": 2},
        tree.grids[1].pk: {"orders_received": 2, "orders_not_acknowledged": 2},
    }


def test_meeting_decision_becomes_one_order(tree, chiefs):
    from bastion.requests.services import (
        meeting_schedule,
        request_assign,
        request_create,
        request_triage,
    )

    street = tree.users["street"]
    from bastion.geo.models import Household

    household = Household.objects.filter(grid_id=tree.grids[0].pk).order_by("pk").first()
    meeting_schedule(
        actor=street,
        community=tree.communities[0],
        title="十二月党日说事",
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    item = request_create(
        actor=street,
        household=household,
        channel="phone",
        category="drainage",
        title="楼道堆物清理",
    )
    item = request_triage(actor=street, request=item, track="consult")
    due = timezone.localdate() + dt.timedelta(days=3)
    item = request_assign(actor=street, request=item, assignee="网格长一", due_on=due)
    order = services.order_from_decision(actor=street, request=item)
    assert order.title == "楼道堆物清理"
    assert list(order.recipients.values_list("person__name", flat=True)) == ["网格长一"]
    assert timezone.localtime(order.due_at).date() == due
    assert services.order_from_decision(actor=street, request=item).pk == order.pk
    assert Order.objects.count() == 1


def test_the_escalation_task_sends_what_is_due_and_schedules_itself_once(tree, chiefs, settings):
    from django_tasks_db.models import DBTaskResult

    from bastion.orders.tasks import orders_escalate_task, orders_schedule

    order = _issue(
        tree,
        at=timezone.now() - dt.timedelta(hours=1),
        due_at=timezone.now() + dt.timedelta(hours=3),
    )
    Order.objects.filter(pk=order.pk).update(ack_by=timezone.now() - dt.timedelta(minutes=1))
    now = timezone.now()
    assert orders_schedule(now=now) is True
    assert orders_schedule(now=now) is False
    queued = DBTaskResult.objects.get(task_path=orders_escalate_task.module_path)
    assert queued.run_after == now + dt.timedelta(minutes=1)
    # The worker's run: every row past its deadline escalated, its notice sent once.
    assert orders_escalate_task.call() == 5
    assert orders_escalate_task.call() == 0
    assert Notification.objects.filter(kind=services.ESCALATION_KIND).count() == 1


def test_daily_report_rolls_the_figure_up_the_tree(tree, chiefs):
    from bastion.reports import queries as report_queries
    from bastion.reports.services import report_compute

    order = _issue(tree)  # five chiefs: three in the first grid, two in the second
    services.order_acknowledge(
        actor=tree.users["grid"],
        recipient=queries.my_row(tree.users["grid"], order.pk),
        at=NOW + dt.timedelta(minutes=10),
    )
    report_compute(day=NOW.date(), now=NOW + dt.timedelta(hours=12))
    street = tree.users["street"]
    assert (
        report_queries.day_totals(street, tree.street, NOW.date())["orders_not_acknowledged"] == 4
    )
    by_grid = dict(report_queries.children_figures(street, tree.communities[0], NOW.date()))
    assert [by_grid[g]["orders_not_acknowledged"] for g in tree.grids[:2]] == [2, 2]
