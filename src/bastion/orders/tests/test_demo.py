"""The orders demo on the small known tree: it issues through the services, so the board
shows the shapes the demo street shows (acknowledged, done, overdue and escalated)."""

import datetime as dt
import random

from django.utils import timezone

from bastion.orders import queries
from bastion.orders.demo import build_demo
from bastion.orders.models import Order, OrderTemplate


def test_demo_orders_in_different_states(tree, chiefs):
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(1), now)
    assert counts["templates"] == 2
    assert set(OrderTemplate.objects.values_list("name", flat=True)) == {
        "致党员的一封信",
        "封控楼栋检查清单",
    }
    # No command zones on the small tree: the letter and tonight's testing.
    letter, testing = Order.objects.order_by("issued_at")
    street = tree.users["street"]
    done = queries.board(street, letter, now=now).tally
    assert (done.total, done.acknowledged, done.late) == (2, 2, 0)
    assert 0 < done.done < done.total or done.total < 5
    tonight = queries.board(street, testing, now=now).tally
    assert tonight.total == 3 and tonight.late >= 1
    assert counts["escalated"] == tonight.late
    # The escalated rows were told to their grid chiefs, once.
    assert testing.recipients.filter(escalated_at__isnull=False).count() == tonight.late
    assert queries.escalation_names(testing, now=now + dt.timedelta(seconds=1))
