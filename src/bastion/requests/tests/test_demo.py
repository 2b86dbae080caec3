"""The requests demo on the small tree: the month's proportions exact (119 collected, 87
handled at once, 32 reported back at the next meeting), meetings with minutes, errands in
every state, a link for every household; and the pages show it."""

import datetime as dt
import random

from django.urls import reverse
from django.utils import timezone

from bastion.geo.models import Household
from bastion.people.services import person_create
from bastion.requests import queries
from bastion.requests.demo import build_demo
from bastion.requests.models import Errand, HouseholdLink, Meeting, Request


def test_demo_proportions(tree, client):
    for i, grid in enumerate(tree.grids):
        person_create(
            name=f"志愿者{i}",
            kind="volunteer",
            phone=f"1390000000{i}",
            home=Household.objects.filter(grid_id=grid.pk).first(),
        )
    now = timezone.now()
    counts = build_demo(tree.street, random.Random(7), now)
    today = timezone.localdate(now)
    start = queries._day_end(today - dt.timedelta(days=30))  # the figures page's 30 days
    end = queries._day_end(today)
    own, _children = queries.children_figures(tree.users["admin"], tree.street, start, end, now)
    month = own.figures
    assert counts["requests_month"] == month["requests_collected"] == 119
    assert counts["requests_handled_now_month"] == 87
    month_rows = Request.objects.filter(created_at__gte=start, created_at__lt=end)
    assert month_rows.filter(track="handle_now").count() == 87
    assert month_rows.filter(track="consult", report_meeting__isnull=False).count() == 32
    assert month["requests_handled_now"] >= 80  # done: all but today's still in hand
    held = Meeting.objects.filter(status="held")
    assert held.count() == 3 * 2 and all(m.attendees.count() >= 10 for m in held)
    assert Meeting.objects.filter(status="planned").count() == 2
    assert set(Errand.objects.values_list("status", flat=True)) >= {
        "ordered",
        "accepted",
        "assigned",
        "picked_up",
        "delivered",
        "confirmed",
        "cancelled",
    }
    assert HouseholdLink.objects.count() == Household.objects.count() == counts["household_links"]
    assert queries.overdue_requests(tree.users["admin"], now).count() == 2
    assert queries.overdue_errands(tree.users["admin"], now).filter(urgency="medicine").count() == 2
    client.force_login(tree.users["admin"])
    for name in (
        "requests:index",
        "requests:errands",
        "requests:overdue",
        "requests:figures",
        "requests:meetings",
    ):
        assert client.get(reverse(name)).status_code == 200
    meeting = held.order_by("starts_at").last()
    minutes = client.get(reverse("requests:minutes", args=[meeting.pk])).content.decode()
    assert "社区书记" in minutes
    assert client.get(counts["sample_household_page"]).status_code == 200
