"""The staff API drives every write the pages do: a request through both tracks and a
meeting, an errand from order to confirmation, links; retries with a client id
answer 200 with the row as it stands; refusals name their field."""

import datetime as dt
import json
import uuid

import pytest
from django.utils import timezone

from bastion.accounts.models import ApiToken
from bastion.requests.models import Errand, Request
from bastion.requests.tests.conftest import png_upload


@pytest.fixture
def api(client, tree):
    def make(username="community"):
        token = ApiToken.issue(tree.users[username] if isinstance(username, str) else username)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

        def call(method, path, body=None, **extra):
            url = "/api/v1/requests" + path
            if method == "get":
                return client.get(url, **headers)
            if extra.get("multipart"):
                return client.post(url, body, **headers)
            return client.post(
                url, json.dumps(body or {}), content_type="application/json", **headers
            )

        return call

    return make


def test_handle_now_through_the_api(api, household):
    call = api("grid")
    key = str(uuid.uuid4())
    body = {
        "household_id": household.pk,
        "channel": "chat_group",
        "category": "heating",
        "urgency": "urgent",
        "title": "暖气不热",
        "client_id": key,
    }
    created = call("post", "/requests", body)
    assert created.status_code == 201, created.content
    assert call("post", "/requests", body).status_code == 200
    rid = created.json()["id"]
    assert created.json()["place"].endswith(household.room)
    photos = call(
        "post",
        f"/requests/{rid}/photos",
        {"photos": [png_upload()], "kind": "report"},
        multipart=True,
    )
    assert photos.status_code == 201 and photos.json()[0]["url"].startswith("/requests/photos/")
    refused = call("post", f"/requests/{rid}/claim", {})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "status"
    assert (
        call("post", f"/requests/{rid}/triage", {"track": "handle_now"}).json()["status"]
        == "waiting"
    )
    step = str(uuid.uuid4())
    assert call("post", f"/requests/{rid}/claim", {"client_id": step}).json()["claimed_by"]
    assert call("post", f"/requests/{rid}/claim", {"client_id": step}).status_code == 200
    no_result = call("post", f"/requests/{rid}/done", {"result": " "})
    assert no_result.status_code == 422 and no_result.json()["errors"][0]["field"] == "result"
    done = call("post", f"/requests/{rid}/done", {"result": "放了气，热了"})
    assert done.json()["status"] == "done"
    rated = call("post", f"/requests/{rid}/rate", {"rating": 5})
    assert (rated.json()["status"], rated.json()["rating"]) == ("closed", 5)
    assert call("post", f"/requests/{rid}/rate", {"rating": 4}).status_code == 409
    reopened = call("post", f"/requests/{rid}/reopen", {"reason": "又凉了"})
    assert reopened.json()["status"] == "waiting"
    twice = call("post", f"/requests/{rid}/reopen", {"reason": "x"})
    assert twice.status_code == 422


def test_consult_and_meeting_through_the_api(api, household, tree):
    call = api("community")
    now = timezone.now()
    m1 = call(
        "post",
        "/meetings",
        {
            "community_id": tree.communities[0].pk,
            "title": "四月议事会",
            "starts_at": (now + dt.timedelta(days=1)).isoformat(),
            "place": "党群服务中心",
        },
    )
    assert m1.status_code == 201, m1.content
    rid = call(
        "post",
        "/requests",
        {
            "household_id": household.pk,
            "channel": "questionnaire",
            "category": "repairs",
            "title": "楼顶漏水",
        },
    ).json()["id"]
    r = call("post", f"/requests/{rid}/triage", {"track": "consult"}).json()
    assert r["meeting_id"] == m1.json()["id"]
    close = call("post", f"/requests/{rid}/close", {"result": "x"})
    assert close.status_code == 422 and "reported back" in close.json()["errors"][0]["message"]
    due = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    assert (
        call("post", f"/requests/{rid}/assign", {"assignee": "鹿鸣物业", "due_on": due}).json()[
            "status"
        ]
        == "assigned"
    )
    hold = call("post", f"/meetings/{m1.json()['id']}/hold")
    assert hold.status_code == 422 and hold.json()["errors"][0]["field"] == "attendees"
    record = call(
        "post",
        f"/meetings/{m1.json()['id']}/record",
        {
            "attendees": [
                {"category": "committee", "name": "张书记"},
                {"category": "property", "name": "王经理", "organisation": "鹿鸣物业"},
            ],
            "chair": "张书记",
            "notes": "漏水由物业负责",
        },
    )
    assert [a["name"] for a in record.json()["attendees"]] == ["张书记", "王经理"]
    held = call("post", f"/meetings/{m1.json()['id']}/hold").json()
    assert held["status"] == "held" and [i["id"] for i in held["agenda"]] == [rid]
    call("post", f"/requests/{rid}/done", {"result": "防水层重做"})
    m2 = call(
        "post",
        "/meetings",
        {
            "community_id": tree.communities[0].pk,
            "title": "五月议事会",
            "starts_at": (now + dt.timedelta(days=30)).isoformat(),
        },
    )
    detail = call("get", f"/meetings/{m2.json()['id']}").json()
    assert [i["id"] for i in detail["report_backs"]] == [rid]
    reported = call(
        "post", f"/requests/{rid}/report-back", {"meeting_id": m2.json()["id"], "note": "居民认可"}
    )
    assert reported.json()["status"] == "reported"
    assert call("post", f"/requests/{rid}/close", {}).json()["status"] == "closed"


def test_errand_through_the_api(api, household, courier, client):
    call = api("grid")
    key = str(uuid.uuid4())
    body = {
        "household_id": household.pk,
        "urgency": "medicine",
        "client_id": key,
        "items": [{"name": "布洛芬", "quantity": "1盒"}],
        "payment_note": "到付",
    }
    created = call("post", "/errands", body)
    assert created.status_code == 201, created.content
    assert call("post", "/errands", body).status_code == 200
    eid = created.json()["id"]
    assert call("post", f"/errands/{eid}/assign", {"courier_id": courier.pk}).status_code == 422
    call("post", f"/errands/{eid}/accept", {})
    assigned = call("post", f"/errands/{eid}/assign", {"courier_id": courier.pk}).json()
    assert assigned["courier"]["id"] == courier.pk
    courier_call = api(courier.user)
    assert [e["id"] for e in courier_call("get", "/courier/errands").json()] == [eid]
    step = str(uuid.uuid4())
    assert (
        courier_call("post", f"/errands/{eid}/pick-up", {"client_id": step}).json()["status"]
        == "picked_up"
    )
    assert (
        courier_call("post", f"/errands/{eid}/pick-up", {"client_id": step}).status_code == 200
    )  # a retry of the same step
    code = Errand.objects.get(pk=eid).delivery_code
    wrong = courier_call(
        "post",
        f"/errands/{eid}/deliver",
        {"code": "0000" if code != "0000" else "1111"},
        multipart=True,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code"
    deliver_key = str(uuid.uuid4())
    photo = courier_call(
        "post",
        f"/errands/{eid}/deliver",
        {"photo": png_upload(), "client_id": deliver_key},
        multipart=True,
    )
    assert photo.status_code == 200, photo.content
    assert (photo.json()["status"], photo.json()["proof"]) == ("delivered", "photo")
    again = courier_call(
        "post",
        f"/errands/{eid}/deliver",
        {"photo": png_upload(), "client_id": deliver_key},
        multipart=True,
    )
    assert again.status_code == 200 and Errand.objects.get(pk=eid).photos.count() == 1
    assert courier_call("post", f"/errands/{eid}/confirm", {}).status_code == 403
    assert call("post", f"/errands/{eid}/confirm", {"rating": 4}).json()["status"] == "confirmed"


def test_links_figures_overdue(api, household, tree):
    call = api("grid")
    link = call("post", f"/households/{household.pk}/link", {})
    assert link.status_code == 200 and link.json()["url"].endswith(f"/h/{link.json()['token']}/")
    assert call("get", f"/households/{household.pk}/link").json()["token"] == link.json()["token"]
    renewed = call("post", f"/households/{household.pk}/link", {"renew": True}).json()
    assert renewed["token"] != link.json()["token"]
    assert call("post", f"/households/{household.pk}/link/revoke").status_code == 204
    assert call("get", f"/households/{household.pk}/link").status_code == 404
    issued = call("post", f"/buildings/{household.building_id}/links").json()
    assert issued == {"building_id": household.building_id, "issued": 8}
    assert call("post", f"/buildings/{household.building_id}/links").json()["issued"] == 0
    call(
        "post",
        "/requests",
        {"household_id": household.pk, "channel": "phone", "category": "water", "title": "停水"},
    )
    figures = call("get", f"/figures?node_id={tree.grids[0].pk}").json()
    assert figures["total"]["figures"]["requests_collected"] == 1
    assert [c["node"]["id"] for c in figures["children"]] == [b.pk for b in tree.buildings[:2]]
    timings = call("get", "/timings").json()
    assert [t["track"] for t in timings] == ["handle_now", "consult"]
    assert call("get", "/overdue").json() == {"requests": [], "errands": []}
    Request.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert len(call("get", "/overdue").json()["requests"]) == 1
