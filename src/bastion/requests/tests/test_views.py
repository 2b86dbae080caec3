"""The staff pages render for a chief with data in every state, and their forms drive the
services (a request collected and moved along, a meeting recorded, an errand delivered)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.incidents import services as incidents
from bastion.requests import services
from bastion.requests.models import Errand, Meeting, Request
from bastion.requests.tests.conftest import STATES, png_upload


@pytest.fixture
def world(tree, bring, courier, household, staff, meetings):
    """Requests in every state, errands in several, a link: all on the chief's grid."""
    rows = {f"{s}-{t}": bring(s, t) for s, t in STATES}
    errands = {}
    for step in ("ordered", "accepted", "assigned", "picked_up", "delivered"):
        e = services.errand_order(
            actor=staff,
            household=household,
            urgency="medicine",
            items=[services.ItemInput("布洛芬", "1盒")],
        )
        if step != "ordered":
            e = services.errand_accept(actor=staff, errand=e)
        if step not in ("ordered", "accepted"):
            e = services.errand_assign(actor=staff, errand=e, courier=courier)
        if step in ("picked_up", "delivered"):
            e = services.errand_pick_up(actor=staff, errand=e)
        if step == "delivered":
            e = services.errand_deliver(actor=staff, errand=e, code=e.delivery_code)
        errands[step] = e
    link = services.link_issue(actor=staff, household=household)
    return {"requests": rows, "errands": errands, "link": link, "meetings": meetings}


PAGES = [
    "requests:index",
    "requests:new",
    "requests:overdue",
    "requests:figures",
    "requests:meetings",
    "requests:errands",
    "requests:errand_new",
    "requests:courier",
    "requests:links",
]


def test_pages_render(client, tree, world):
    client.force_login(tree.users["grid"])
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_every_inbox_and_detail_renders(client, tree, world):
    client.force_login(tree.users["grid"])
    for inbox in (
        "open",
        "triage",
        "claim",
        "claimed",
        "agenda",
        "assigned",
        "report",
        "rating",
        "closed",
        "mine",
    ):
        assert client.get(reverse("requests:index"), {"inbox": inbox}).status_code == 200
    for r in world["requests"].values():
        page = client.get(reverse("requests:detail", args=[r.pk]))
        assert page.status_code == 200, r.status
    for e in world["errands"].values():
        assert client.get(reverse("requests:errand", args=[e.pk])).status_code == 200
    earlier, later = world["meetings"]
    client.force_login(tree.users["community"])  # meetings are the community's business
    for m in (earlier, later):
        assert client.get(reverse("requests:meeting", args=[m.pk])).status_code == 200
        assert client.get(reverse("requests:minutes", args=[m.pk])).status_code == 200
    building = tree.buildings[0]
    assert client.get(reverse("requests:links"), {"building": building.pk}).status_code == 200
    assert client.get(reverse("requests:link_sheet", args=[building.pk])).status_code == 200
    household = world["link"].household
    assert client.get(reverse("requests:link", args=[household.pk])).status_code == 200
    svg = client.get(reverse("requests:link_qr", args=[household.pk]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content


def test_collect_and_move_a_request_through_the_pages(client, tree, household):
    client.force_login(tree.users["grid"])
    form = client.get(reverse("requests:new")).context["form"]
    response = client.post(
        reverse("requests:new"),
        {
            "node": household.unit_id,
            "room": household.room,
            "channel": "walk_in",
            "category": "power",
            "urgency": "urgent",
            "title": "楼道灯不亮",
            "client_id": form.initial["client_id"],
            "photos": [png_upload()],
        },
    )
    r = Request.objects.get()
    assert response.status_code == 302 and r.household == household and r.photos.count() == 1
    photo = client.get(reverse("requests:photo", args=[r.photos.get().pk]))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    act = lambda action, **data: client.post(reverse("requests:act", args=[r.pk, action]), data)  # noqa: E731
    act("triage", track="handle_now")
    act("claim")
    act("done", result="换了灯泡")
    r.refresh_from_db()
    assert (r.status, r.claimed_by, r.result) == ("done", tree.users["grid"], "换了灯泡")
    response = act("close")  # closing a done request without a rating is allowed
    r.refresh_from_db()
    assert r.status == "closed"


def test_an_illegal_move_is_refused_with_its_reason(client, tree, bring):
    client.force_login(tree.users["grid"])
    r = bring("new")
    response = client.post(reverse("requests:act", args=[r.pk, "claim"]), follow=True)
    assert "Cannot claim it" in response.content.decode()
    r.refresh_from_db()
    assert r.status == "new"
    response = client.post(
        reverse("requests:act", args=[r.pk, "close"]), {"result": ""}, follow=True
    )
    r.refresh_from_db()
    assert r.status == "new"


def test_meeting_record_assign_and_minutes(client, tree, bring, meetings):
    earlier, later = meetings
    client.force_login(tree.users["community"])
    r = bring("on_agenda", "consult")
    url = reverse("requests:meeting", args=[earlier.pk])
    client.post(
        reverse("requests:meeting_assign", args=[earlier.pk, r.pk]),
        {
            f"a{r.pk}-assignee": "鹿鸣物业",
            f"a{r.pk}-due_on": str(timezone.localdate() + dt.timedelta(days=10)),
        },
    )
    r.refresh_from_db()
    assert (r.status, r.assignee) == ("assigned", "鹿鸣物业")
    client.post(
        url,
        {
            "att_committee": "张书记、李委员",
            "att_property": "王经理 / 鹿鸣物业",
            "chair": "张书记",
            "recorder": "李委员",
            "notes": "议定一件事",
            "hold": "1",
        },
    )
    earlier.refresh_from_db()
    assert earlier.status == "held"
    assert sorted(earlier.attendees.values_list("name", flat=True)) == [
        "张书记",
        "李委员",
        "王经理",
    ]
    minutes = client.get(reverse("requests:minutes", args=[earlier.pk])).content.decode()
    assert "鹿鸣物业" in minutes and "议定一件事" in minutes and "@page" not in minutes


def test_meeting_scheduled_from_the_page(client, tree):
    client.force_login(tree.users["community"])
    form = client.get(reverse("requests:meetings")).context["form"]
    client.post(
        reverse("requests:meetings"),
        {
            "community": tree.communities[0].pk,
            "title": "五月议事会",
            "starts_at": "2026-05-20T09:00",
            "place": "社区会议室",
            "client_id": form.initial["client_id"],
        },
    )
    assert Meeting.objects.get().title == "五月议事会"


def test_errand_taken_down_and_delivered_by_the_courier(client, tree, courier, household):
    client.force_login(tree.users["grid"])
    form = client.get(reverse("requests:errand_new")).context["form"]
    client.post(
        reverse("requests:errand_new"),
        {
            "node": household.unit_id,
            "room": household.room,
            "urgency": "medicine",
            "items": "布洛芬 × 1盒\n体温计",
            "payment_note": "到付",
            "note": "",
            "client_id": form.initial["client_id"],
        },
    )
    e = Errand.objects.get()
    assert [(i.name, i.quantity) for i in e.items.all()] == [("布洛芬", "1盒"), ("体温计", "")]
    client.post(reverse("requests:errand_act", args=[e.pk, "accept"]))
    client.post(reverse("requests:errand_act", args=[e.pk, "assign"]), {"courier": courier.pk})
    client.force_login(courier.user)  # a volunteer: may only look, but carries this one
    assert "布洛芬" in client.get(reverse("requests:courier")).content.decode()
    client.post(reverse("requests:errand_act", args=[e.pk, "pick_up"]))
    client.post(
        reverse("requests:errand_act", args=[e.pk, "deliver"]),
        {"code": "0000" if e.delivery_code != "0000" else "1111"},
    )
    e.refresh_from_db()
    assert e.status == "picked_up"  # a wrong code is refused
    client.post(reverse("requests:errand_act", args=[e.pk, "deliver"]), {"code": e.delivery_code})
    e.refresh_from_db()
    assert (e.status, e.proof) == ("delivered", "code")
    # ...but a volunteer may not accept or cancel errands
    other = services.errand_order(
        actor=tree.users["grid"],
        household=household,
        urgency="normal",
        items=[services.ItemInput("米")],
    )
    assert client.post(reverse("requests:errand_act", args=[other.pk, "accept"])).status_code == 403


def test_a_sealed_building_sends_errands_to_the_unit_door(client, tree, household, staff):
    incidents.control_set(actor=staff, node=household.building, level="sealed", reason="密接")
    e = services.errand_order(
        actor=staff, household=household, urgency="normal", items=[services.ItemInput("米", "5斤")]
    )
    assert e.to_unit_door
    client.force_login(staff)
    page = client.get(reverse("requests:errand", args=[e.pk])).content.decode()
    assert household.unit.name in page
    links = client.get(reverse("requests:links") + f"?building={household.building_id}")
    assert "封控" in links.content.decode() or "Sealed" in links.content.decode()


def test_a_claimed_request_whose_claimer_is_gone_still_renders(client, tree, world):
    """The claimer's login may be deleted (the column is SET NULL): the pages say "—"."""
    claimed = [r for r in world["requests"].values() if r.status == "claimed"]
    assert claimed
    Request.objects.filter(pk__in=[r.pk for r in claimed]).update(claimed_by=None)
    client.force_login(tree.users["grid"])
    for r in claimed:
        page = client.get(reverse("requests:detail", args=[r.pk]))
        assert page.status_code == 200 and "—" in page.content.decode()
    assert client.get(reverse("requests:overdue")).status_code == 200
