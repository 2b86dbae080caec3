"""Notifications: one delivery per recipient, read receipts per person (the first opening
counts), the inbox of a login holding only its own deliveries, the command seeing who has
read what in its area and nothing outside it — through the pages and the API — and, on a
390 px phone in Debian's chromium, the badge in the top bar leading to the inbox."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.core.testing import PASSWORD, browser_login
from bastion.geo.models import Household
from bastion.notices import queries, services
from bastion.notices.models import Delivery, Notification
from bastion.notices.services import Recipient


def login(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def sent(tree, make_person):
    """A notification about grid 1 to its chief's login, a resident cadre with no login yet
    and the community's staff; one about grid 2 to its own chief."""
    home = Household.objects.filter(unit=tree.units[0]).order_by("room").first()
    cadre = make_person(name="王干部", kind="cadre", phone="13600000011", home=home)
    mine = services.notification_send(
        kind="test.alert",
        title="一号网格通知",
        body="请留在原地。",
        link="/testing/",
        node=tree.grids[0],
        recipients=[
            Recipient(user_id=tree.users["grid"].pk, reason="grid_chief"),
            Recipient(person_id=cadre.pk, reason="grid_chief"),
            Recipient(user_id=tree.users["community"].pk, reason="community_staff"),
            Recipient(user_id=tree.users["grid"].pk, reason="community_staff"),  # twice: once
        ],
    )
    other = services.notification_send(
        kind="test.alert",
        title="二号网格通知",
        node=tree.grids[1],
        recipients=[Recipient(user_id=tree.users["other_grid"].pk, reason="grid_chief")],
    )
    return {"mine": mine, "other": other, "cadre": cadre}


def test_one_delivery_per_recipient_and_a_source_sends_once(tree, sent):
    assert sent["mine"].deliveries.count() == 3
    assert Delivery.objects.get(notification=sent["mine"], user=tree.users["grid"]).reason == (
        "grid_chief"
    )
    again = services.notification_send(
        kind="test.alert",
        title="changed",
        node=tree.grids[0],
        source=tree.grids[0],
        recipients=[Recipient(user_id=tree.users["grid"].pk)],
    )
    same = services.notification_send(
        kind="test.alert",
        title="changed again",
        node=tree.grids[0],
        source=tree.grids[0],
        recipients=[
            Recipient(user_id=tree.users["grid"].pk),
            Recipient(user_id=tree.users["street"].pk),
        ],
    )
    assert same.pk == again.pk and same.title == "changed"
    assert set(same.deliveries.values_list("user__username", flat=True)) == {"grid", "street"}


def test_opening_a_notification_is_its_read_receipt(tree, sent):
    client = login(tree.users["grid"])
    inbox = client.get(reverse("notices:inbox"))
    assert inbox.status_code == 200
    assert "一号网格通知" in inbox.content.decode() and "二号网格通知" not in inbox.content.decode()
    delivery = Delivery.objects.get(notification=sent["mine"], user=tree.users["grid"])
    assert delivery.read_at is None
    assert ">1</b>" in inbox.content.decode()  # the badge: one unread

    opened = client.get(reverse("notices:delivery", args=[delivery.pk]))
    assert opened.status_code == 200 and "请留在原地。" in opened.content.decode()
    delivery.refresh_from_db()
    first = delivery.read_at
    assert first is not None
    client.get(reverse("notices:delivery", args=[delivery.pk]))
    delivery.refresh_from_db()
    assert delivery.read_at == first  # the first opening stays the receipt
    assert queries.unread_count(tree.users["grid"]) == 0

    # The command sees who has read it and who has not.
    page = login(tree.users["street"]).get(reverse("notices:receipts", args=[sent["mine"].pk]))
    html = page.content.decode()
    assert "1 of 3 read" in html
    unread_part, read_part = html.split("Not read yet")[1].split("<h2>Read")
    assert "王干部" in unread_part and "community" in unread_part
    assert ">grid<" in read_part and "王干部" not in read_part
    assert "no login" in unread_part  # the cadre must be told another way


def test_a_person_linked_to_a_login_later_finds_their_notifications(tree, sent):
    assert queries.unread_count(tree.users["volunteer"]) == 0
    type(sent["cadre"]).objects.filter(pk=sent["cadre"].pk).update(user=tree.users["volunteer"])
    assert [d.notification.title for d in queries.inbox(tree.users["volunteer"])] == [
        "一号网格通知"
    ]


def test_the_inbox_lists_unread_first_then_newest(tree, sent):
    later = services.notification_send(
        kind="test.alert",
        title="later",
        node=tree.grids[0],
        recipients=[Recipient(user_id=tree.users["grid"].pk)],
        at=timezone.now() + dt.timedelta(minutes=5),
    )
    services.deliveries_read_all(user=tree.users["grid"])
    newest_unread = services.notification_send(
        kind="test.alert",
        title="oldest but unread",
        node=tree.grids[0],
        recipients=[Recipient(user_id=tree.users["grid"].pk)],
        at=timezone.now() - dt.timedelta(days=1),
    )
    titles = [d.notification.title for d in queries.inbox(tree.users["grid"])]
    assert titles == [newest_unread.title, later.title, "一号网格通知"]


def test_nobody_opens_or_reads_another_logins_notification(tree, sent):
    theirs = Delivery.objects.get(notification=sent["other"])
    grid = login(tree.users["grid"])
    assert grid.get(reverse("notices:delivery", args=[theirs.pk])).status_code == 404
    assert grid.post(f"/api/v1/notices/inbox/{theirs.pk}/read").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # Nor the receipts of a notification outside their area.
    assert grid.get(reverse("notices:receipts", args=[sent["other"].pk])).status_code == 404
    assert grid.get(f"/api/v1/notices/sent/{sent['other'].pk}").status_code == 404
    listed = grid.get(reverse("notices:sent")).content.decode()
    assert "一号网格通知" in listed and "二号网格通知" not in listed
    # The street sees both; the other grid's chief reads its own.
    street = login(tree.users["street"]).get(reverse("notices:sent")).content.decode()
    assert "一号网格通知" in street and "二号网格通知" in street
    other = login(tree.users["other_grid"])
    answer = other.post(f"/api/v1/notices/inbox/{theirs.pk}/read")
    assert answer.status_code == 200 and answer.json()["read_at"] is not None


def test_the_api_lists_the_inbox_and_marks_read(tree, sent):
    client = login(tree.users["grid"])
    inbox = client.get("/api/v1/notices/inbox").json()
    assert inbox["unread"] == 1
    [item] = inbox["items"]
    assert item["notification"]["title"] == "一号网格通知" and item["read_at"] is None
    read = client.post(f"/api/v1/notices/inbox/{item['id']}/read").json()
    assert read["read_at"] is not None
    assert client.get("/api/v1/notices/inbox?unread=true").json() == {"unread": 0, "items": []}
    receipts = client.get(f"/api/v1/notices/sent/{sent['mine'].pk}").json()
    assert (receipts["recipients"], receipts["read"]) == (3, 1)
    assert {r["name"] for r in receipts["receipts"]} == {"grid", "王干部", "community"}


def test_pages_need_a_login(sent):
    for url in (reverse("notices:inbox"), reverse("notices:sent")):
        answer = Client().get(url)
        assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert Client().get("/api/v1/notices/inbox").status_code == 401


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_phone_opens_the_inbox_from_the_badge(phone_page):
    from playwright.sync_api import expect

    from bastion.accounts.testing import build_small_tree

    tree = build_small_tree()
    services.notification_send(
        kind="test.alert",
        title="阳性混管 P-0001",
        body="请相关人员原地等待单管复核。",
        node=tree.grids[0],
        recipients=[Recipient(user_id=tree.users["grid"].pk)],
    )
    page = phone_page
    browser_login(page, "grid", PASSWORD)
    badge = page.locator(".inbox-link")
    expect(badge.locator(".inbox-count")).to_have_text("1")
    badge.click()
    item = page.locator(".nt-item.unread")
    expect(item).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    item.locator("a").click()
    expect(page.locator("h1")).to_have_text("阳性混管 P-0001")
    expect(page.locator(".nt-text")).to_contain_text("原地等待")
    expect(page.locator(".inbox-link .inbox-count")).to_have_count(0)
    assert Delivery.objects.get().read_at is not None
    assert Notification.objects.count() == 1
