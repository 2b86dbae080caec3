"""A grid that has not reported can be reminded from the report (issue 14 item 17): the
community's ledger offers "提醒" beside each grid whose report is open; it sends the grid
chief an inbox notice, once per grid and day (a second press sends nothing new), with who
sent it in the change log; a grid that has submitted, or is out of scope, is refused."""

from django.test import Client
from django.urls import reverse

from bastion.core.history import history_of
from bastion.notices.models import Delivery, Notification
from bastion.reports import services


def test_remind_a_grid_that_has_not_reported_once_a_day(tree):
    day = services.local_today()
    services.report_compute(day=day)
    community, late, done = tree.communities[0], tree.grids[0], tree.grids[1]
    services.grid_report_submit(grid=done, day=day, actor=tree.users["other_grid"])
    staff = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    staff.force_login(tree.users["community"])
    dashboard = reverse("reports:dashboard", args=[community.pk])
    remind = reverse("reports:remind", args=[late.pk])
    page = staff.get(dashboard).content.decode()
    assert f'action="{remind}"' in page  # the grid that has not reported
    assert reverse("reports:remind", args=[done.pk]) not in page  # not the one that has

    answer = staff.post(remind, {"day": day.isoformat()}, follow=True)
    assert answer.redirect_chain[-1][0].startswith(dashboard)
    [sent] = Notification.objects.filter(kind=services.KIND_REMIND)
    assert sent.node_id == late.pk and sent.sender == tree.users["community"]
    assert list(
        Delivery.objects.filter(notification=sent).values_list("user__username", flat=True)
    ) == ["grid"]
    assert "提醒" in sent.texts["zh-hans"][0] and late.name in sent.title
    assert history_of(sent).get().actor == tree.users["community"]  # who reminded, logged
    html = answer.content.decode()
    assert f'action="{remind}"' not in html and "已于" in html  # reminded, at what time

    again = staff.post(remind, {"day": day.isoformat()}, follow=True)
    assert Notification.objects.filter(kind=services.KIND_REMIND).count() == 1
    assert Delivery.objects.filter(notification=sent).count() == 1
    assert "不再重复提醒" in again.content.decode()

    staff.post(reverse("reports:remind", args=[done.pk]), {"day": day.isoformat()})
    assert Notification.objects.filter(kind=services.KIND_REMIND).count() == 1
    grid = Client()
    grid.force_login(tree.users["grid"])
    assert grid.post(reverse("reports:remind", args=[done.pk])).status_code == 404
    # The chief finds it in the inbox.
    assert grid.get(reverse("notices:inbox")).content.decode().count(sent.title) == 1
