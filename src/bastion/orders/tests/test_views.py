"""The order pages and the API: issuing from the page and over JSON (a retry answers the
first order), the board and its call list with the logged reveal, the recipient's one tap
and report with a photo, a meeting's decision turned into an order."""

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.testing import api_client
from bastion.orders import services
from bastion.orders.models import Order, OrderTemplate, Recipient
from bastion.requests.tests.conftest import png_upload


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _due(hours=6) -> str:
    return (timezone.localtime() + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_issue_from_a_template_on_the_page(tree, chiefs):
    template = OrderTemplate(
        node=tree.street,
        name="致党员的一封信",
        title="致全体党员的一封信",
        text="请各位党员亮身份、作表率。",
        roles=["grid_chief"],
        ack_minutes=20,
    )
    template.locate(tree.street)
    template.save()
    street = _client(tree.users["street"])
    page = street.get(reverse("orders:new"), {"template": template.pk})
    assert page.status_code == 200
    assert "致全体党员的一封信" in page.content.decode()
    answer = street.post(
        reverse("orders:new"),
        {
            "node": tree.street.pk,
            "roles": ["grid_chief"],
            "title": "致全体党员的一封信",
            "text": "请各位党员亮身份、作表率。",
            "priority": "urgent",
            "ack_minutes": 20,
            "due_at": _due(),
            "client_id": str(uuid.uuid4()),
            "attachments": [png_upload("letter.png")],
        },
    )
    order = Order.objects.get()
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert answer["Location"] == reverse("orders:board", args=[order.pk])
    assert order.recipient_count == 2
    assert order.attachments.get().name == "letter.png"
    board = street.get(answer["Location"]).content.decode()
    assert "网格长一" not in board  # nobody is late yet: no call list
    assert street.get(reverse("orders:attachment", args=[order.pk, order.attachments.get().pk]))[
        "Content-Disposition"
    ].startswith("attachment")


def test_page_refuses_an_order_to_nobody_naming_the_field(tree, chiefs):
    answer = _client(tree.users["street"]).post(
        reverse("orders:new"),
        {
            "node": tree.street.pk,
            "roles": ["unit_chief"],
            "title": "无人可收",
            "priority": "routine",
            "ack_minutes": 30,
            "due_at": _due(),
        },
    )
    assert answer.status_code == 422
    assert "reach no one" in answer.content.decode() or "无人" in answer.content.decode()
    assert not Order.objects.exists()


def test_recipient_acknowledges_and_reports_done_with_a_photo(tree, chiefs):
    order = services.order_issue(
        actor=tree.users["street"],
        node=tree.grids[0],
        title="封控楼栋检查清单",
        roles=["grid_chief"],
        due_at=timezone.now() + dt.timedelta(hours=3),
    )
    grid = _client(tree.users["grid"])
    page = grid.get(reverse("orders:mine", args=[order.pk]))
    assert page.status_code == 200
    key = str(uuid.uuid4())
    for _ in range(2):  # a double tap
        assert grid.post(reverse("orders:acknowledge", args=[order.pk]), {"client_id": key})[
            "Location"
        ] == reverse("orders:mine", args=[order.pk])
    row = Recipient.objects.get(order=order)
    assert row.acknowledged_at is not None and str(row.ack_client_id) == key
    refused = grid.post(reverse("orders:done", args=[order.pk]), {"note": " "})
    assert refused.status_code == 422
    grid.post(
        reverse("orders:done", args=[order.pk]), {"note": "已逐户检查", "photo": png_upload()}
    )
    row.refresh_from_db()
    assert row.done_note == "已逐户检查" and row.done_photo
    photo = _client(tree.users["street"]).get(reverse("orders:photo", args=[order.pk, row.pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    # Another grid's chief reaches neither the row nor the photo.
    other = _client(tree.users["other_grid"])
    assert other.get(reverse("orders:mine", args=[order.pk])).status_code == 404
    assert other.get(reverse("orders:photo", args=[order.pk, row.pk])).status_code == 404


def test_board_call_list_and_logged_reveal(tree, chiefs, reveal_log):
    order = services.order_issue(
        actor=tree.users["street"],
        node=tree.communities[0],
        title="今晚全员核酸",
        roles=["building_chief"],
        due_at=timezone.now() + dt.timedelta(hours=3),
    )
    Order.objects.filter(pk=order.pk).update(
        issued_at=timezone.now() - dt.timedelta(hours=1),
        ack_by=timezone.now() - dt.timedelta(minutes=1),
    )
    street = _client(tree.users["street"])
    board = street.get(reverse("orders:board", args=[order.pk])).content.decode()
    for name in ("楼长一", "楼长二", "楼长三"):
        assert name in board
    assert "139****0021" in board and "13900000021" not in board
    assert Recipient.objects.filter(order=order, escalated_at__isnull=False).count() == 3
    person = Recipient.objects.get(order=order, person__name="楼长一").person
    shown = street.post(
        reverse("people:person_reveal", args=[person.pk, "phone"]), headers={"HX-Request": "1"}
    )
    assert "13900000021" in shown.content.decode()
    assert reveal_log.objects.filter(subject_id=person.pk, field="phone").count() == 1
    # The htmx refresh answers the board alone.
    part = street.get(reverse("orders:board", args=[order.pk]), headers={"HX-Request": "true"})
    assert "<html" not in part.content.decode() and "楼长一" in part.content.decode()


def test_api_issue_acknowledge_done(tree, chiefs):
    street = api_client(tree.users["street"])
    key = str(uuid.uuid4())
    body = {
        "node_id": tree.communities[0].pk,
        "title": "今晚全员核酸",
        "roles": ["grid_chief"],
        "due_at": (timezone.now() + dt.timedelta(hours=4)).isoformat(),
        "client_id": key,
    }
    first = street.post("/api/v1/orders", body, content_type="application/json")
    assert first.status_code == 201, first.content
    again = street.post("/api/v1/orders", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    order_id = first.json()["id"]
    nobody = street.post(
        "/api/v1/orders",
        body | {"roles": ["unit_chief"], "client_id": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "roles"
    past = street.post(
        "/api/v1/orders",
        body | {"due_at": "2020-01-01T08:00:00+08:00", "client_id": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "due_at"

    grid = api_client(tree.users["grid"])
    assert [r["order"]["id"] for r in grid.get("/api/v1/orders/mine").json()] == [order_id]
    ack = grid.post(
        f"/api/v1/orders/{order_id}/acknowledge",
        {"client_id": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert ack.status_code == 200 and ack.json()["acknowledged_at"]
    done = grid.post(f"/api/v1/orders/{order_id}/done", {"note": "已完成", "photo": png_upload()})
    assert done.status_code == 200 and done.json()["has_photo"]
    board = street.get(f"/api/v1/orders/{order_id}/board").json()
    assert board["tally"] == {"total": 2, "acknowledged": 1, "done": 1, "escalated": 0}
    # Not a recipient: their row is as absent as a missing one.
    outsider = api_client(tree.users["building"])
    assert outsider.post(f"/api/v1/orders/{order_id}/done", {"note": "x"}).status_code == 404


def test_meeting_page_turns_a_decision_into_an_order(tree, chiefs):
    from bastion.geo.models import Household
    from bastion.requests.services import (
        meeting_schedule,
        request_assign,
        request_create,
        request_triage,
    )

    user = tree.users["street"]
    meeting = meeting_schedule(
        actor=user,
        community=tree.communities[0],
        title="十二月党日说事",
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    household = Household.objects.filter(grid_id=tree.grids[0].pk).order_by("pk").first()
    item = request_create(
        actor=user, household=household, channel="phone", category="drainage", title="楼道堆物清理"
    )
    item = request_triage(actor=user, request=item, track="consult")
    item = request_assign(
        actor=user, request=item, assignee="网格长一", due_on=timezone.localdate() + dt.timedelta(3)
    )
    street = _client(user)
    page = street.get(reverse("requests:meeting", args=[meeting.pk])).content.decode()
    action = reverse("orders:from_decision", args=[item.pk])
    assert action in page
    answer = street.post(action)
    order = Order.objects.get(source_id=item.pk)
    assert answer["Location"] == reverse("orders:board", args=[order.pk])
    assert street.post(action)["Location"] == answer["Location"]  # once
    # The other grid's chief cannot reach the item.
    assert _client(tree.users["other_grid"]).post(action).status_code == 404
