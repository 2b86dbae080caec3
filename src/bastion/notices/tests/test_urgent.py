"""A positive pool stands out from routine notifications (issue 14 item 17): first in the
inbox, even when a routine one came later, and marked urgent there and on its own page."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login
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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_positive_pool_is_red_and_on_top(phone_page):
    from playwright.sync_api import expect

    from bastion.accounts.testing import build_small_tree

    tree = build_small_tree()
    grid = tree.users["grid"]
    now = timezone.now()
    for kind, title, at in (
        ("testing.positive_pool", "阳性混管 T-0002", now - dt.timedelta(hours=2)),
        ("test.routine", "例行通知", now),
    ):
        services.notification_send(
            kind=kind,
            title=title,
            node=tree.grids[0],
            at=at,
            recipients=[Recipient(user_id=grid.pk)],
        )
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    page.goto("/notices/")
    items = page.locator(".nt-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("紧急")
    expect(items.first).to_contain_text("阳性混管 T-0002")
    style = "el => [getComputedStyle(el).borderLeftWidth, getComputedStyle(el).borderLeftColor]"
    assert items.first.evaluate(style) == ["4px", "rgb(184, 53, 42)"]  # the theme's --hot
    assert items.nth(1).evaluate(style)[0] == "0px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
