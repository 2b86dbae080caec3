"""The admin's change page reads in Chinese (issue 14 item 9): the changed row's type and its
fields in words, logged times in local time to the minute (never UTC with microseconds), the
node a control area is on by its name."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.incidents import services


def test_a_lifted_area_reads_in_chinese_local_minutes(tree):
    since = timezone.now() - dt.timedelta(hours=5, microseconds=123457)
    area = services.control_set(
        actor=tree.users["street"],
        node=tree.buildings[0],
        level="sealed",
        reason="密接者居住",
        since=since,
    )
    services.control_lift(actor=tree.users["street"], area=area)
    area.refresh_from_db()
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(tree.users["admin"])
    response = client.get(reverse("accounts:changes"), {"object_type": "incidents.controlarea"})
    assert response.status_code == 200
    lifted, created = response.context["entries"]
    assert created.kind == lifted.kind == "管控区域"
    shown = {c.label: c.new for c in created.changes}
    assert shown["区域"] == tree.buildings[0].name
    assert shown["起始时间"] == (since + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert {c.label: c.new for c in lifted.changes}["解除时间"] == (
        area.lifted_at + dt.timedelta(hours=8)
    ).strftime("%Y-%m-%d %H:%M")
    html = response.content.decode()
    assert "+00:00" not in html and "Control area" not in html
