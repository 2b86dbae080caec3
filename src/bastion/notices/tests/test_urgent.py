"""A positive pool stands out from routine notifications (issue 14 item 17): first in the
inbox, even when a routine one came later, and marked urgent there and on its own page."""

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.notices import services
from bastion.notices.services import Recipient


def test_a_positive_pool_is_first_and_marked_urgent(tree):
    user = tree.users["grid"]
    now = timezone.now()
    pool = services.notification_send(
        kind="testing.positive_pool",  # the kind testing marks urgent at start-up
        title="阳性混管 T-0001",
        node=tree.grids[0],
        recipients=[Recipient(user_id=user.pk, reason="grid_chief")],
        at=now - dt.timedelta(hours=1),
    )
    services.notification_send(
        kind="test.routine",
        title="例行通知",
        node=tree.grids[0],
        recipients=[Recipient(user_id=user.pk, reason="grid_chief")],
        at=now,
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    page = client.get(reverse("notices:inbox"))
    titles = [d.notification.title for d in page.context["deliveries"]]
    assert titles == ["阳性混管 T-0001", "例行通知"]
    html = page.content.decode()
    first, second = html.split('<li class="nt-item')[1:3]
    assert "urgent" in first.split(">")[0] and "紧急" in first
    assert "urgent" not in second.split(">")[0] and "紧急" not in second
    delivery = pool.deliveries.get()
    opened = client.get(reverse("notices:delivery", args=[delivery.pk])).content.decode()
    assert 'class="card nt-open urgent"' in opened and "紧急" in opened
