"""The screening API: every write the pages do, and the reads a phone app needs."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bastion.accounts.models import ApiToken
from bastion.geo.models import Resident
from bastion.screening.models import Callback, CallRow, FollowUp, Visit
from bastion.screening.tests.conftest import local_at, walking_order
from bastion.screening.tests.test_call_lists import csv_file


@pytest.fixture
def api(client, tree):
    def call(method, path, body=None, *, user="grid", **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(tree.users[user])}"}
        url = "/api/v1/screening" + path
        if method == "get":
            return client.get(url, **headers)
        if "data" in extra:
            return client.post(url, extra["data"], **headers)
        return client.post(url, json.dumps(body), content_type="application/json", **headers)

    return call


def test_a_phone_marks_households_and_reads_its_list(api, tree, campaign):
    h = walking_order(tree.grids[0])
    resident = Resident.objects.filter(household=h[0]).first()
    visit = {
        "client_id": str(uuid.uuid4()),
        "outcome": "reached",
        "channel": "visit",
        "findings": [{"resident_id": resident.pk, "temperature": "37.8"}],
    }
    path = f"/campaigns/{campaign.pk}/households/{h[0].pk}/visits"
    first = api("post", path, visit)
    assert first.status_code == 201
    assert first.json()["household_status"] == "reached" and first.json()["created"]
    retry = api("post", path, visit)
    assert (retry.status_code, retry.json()["id"]) == (200, first.json()["id"])
    assert FollowUp.objects.get().resident == resident

    batch = {
        "visits": [
            {
                "client_id": str(uuid.uuid4()),
                "campaign_id": campaign.pk,
                "household_id": h[1].pk,
                "outcome": "not_reachable",
                "at": local_at(days_ago=1).isoformat(),
            },
            {
                "client_id": visit["client_id"],  # the same visit again: a retry
                "campaign_id": campaign.pk,
                "household_id": h[0].pk,
                "outcome": "reached",
                "channel": "visit",
                "findings": visit["findings"],
            },
            {
                "client_id": str(uuid.uuid4()),
                "campaign_id": campaign.pk,
                "household_id": h[2].pk,
                "outcome": "away",
            },
        ]
    }
    response = api("post", "/visits", batch)
    assert [v["created"] for v in response.json()["visits"]] == [True, False, True]
    assert Visit.objects.count() == 3

    today = api("get", f"/campaigns/{campaign.pk}/grids/{tree.grids[0].pk}/today").json()
    assert today["progress"] | {"percent": 0} == {
        "total": 16,
        "cleared": 2,
        "left_today": 14,
        "carried": 1,
        "done_today": 2,
        "percent": 0,
    }
    assert today["left"][0] == today["left"][0] | {
        "household_id": h[1].pk,
        "carried_over": True,
        "attempts": 1,
    }
    assert [e["household_id"] for e in today["done"]] == [h[2].pk, h[0].pk]
    cover = api("get", f"/campaigns/{campaign.pk}/coverage", user="street").json()
    assert cover["totals"] | {"percent": 0, "cleared": 0, "left": 0} == {
        "total": 64,
        "not_yet": 61,
        "reached": 1,
        "not_reachable": 1,
        "away": 1,
        "cleared": 0,
        "left": 0,
        "percent": 0,
    }
    assert [c["counts"]["total"] for c in cover["children"]] == [32, 32]


def test_a_visit_client_id_reused_for_another_visit_is_409(api, tree, campaign):
    """The same client id with another outcome (alone or in a batch) is a conflict naming
    `client_id` (and the item), not a retry; nothing of the batch is written."""
    h = walking_order(tree.grids[0])
    path = f"/campaigns/{campaign.pk}/households/{h[0].pk}/visits"
    visit = {"client_id": str(uuid.uuid4()), "outcome": "away"}
    assert api("post", path, visit).status_code == 201
    assert api("post", path, visit).status_code == 200
    other = api("post", path, visit | {"outcome": "not_reachable"})
    assert other.status_code == 409
    assert [e["field"] for e in other.json()["errors"]] == ["client_id"]
    fresh = {"client_id": str(uuid.uuid4()), "campaign_id": campaign.pk, "household_id": h[1].pk}
    batch = {
        "visits": [
            fresh | {"outcome": "away"},
            {
                "client_id": visit["client_id"],
                "campaign_id": campaign.pk,
                "household_id": h[0].pk,
                "outcome": "not_reachable",
            },
        ]
    }
    answer = api("post", "/visits", batch)
    assert answer.status_code == 409
    assert answer.json()["errors"] == [
        answer.json()["errors"][0] | {"field": "client_id", "row": 2}
    ]
    assert list(Visit.objects.values_list("outcome", flat=True)) == ["away"]


def test_refusals_name_the_field(api, tree, campaign):
    household = walking_order(tree.grids[0])[0]
    path = f"/campaigns/{campaign.pk}/households/{household.pk}/visits"
    response = api("post", path, {"client_id": str(uuid.uuid4()), "outcome": "reached"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["channel"]
    response = api(
        "post", path, {"client_id": str(uuid.uuid4()), "outcome": "away"}, user="volunteer"
    )
    assert response.status_code == 403  # a volunteer sees the household but may not mark it


def test_campaigns_lists_rows_callbacks_and_follow_ups(api, tree, today):
    body = {
        "node_id": tree.street.pk,
        "name": "API",
        "starts_on": str(today),
        "ends_on": str(today),
        "client_id": str(uuid.uuid4()),
    }
    created = api("post", "/campaigns", body, user="street")
    assert created.status_code == 201
    again = api("post", "/campaigns", body, user="street")
    assert (again.status_code, again.json()["id"]) == (200, created.json()["id"])

    a, e, f = Resident.objects.filter(name__in=["居民1", "居民5", "居民6"]).order_by("id")
    Resident.objects.filter(pk=f.pk).update(phone=e.phone)
    content = csv_file(
        [(a.name, a.id_number, "", "", "退烧", "", ""), ("某人", "", e.phone, "", "抗病毒", "", "")]
    )
    response = api(
        "post",
        "/call-lists",
        user="street",
        data={
            "node_id": tree.street.pk,
            "kind": "pharmacy",
            "file": SimpleUploadedFile("l.csv", content),
        },
    )
    assert response.status_code == 201, response.content
    call_list = response.json()
    assert call_list["counts"] | {"callbacks": 1} == {
        "total": 2,
        "matched": 1,
        "ambiguous": 1,
        "unmatched": 0,
        "outside": 0,
        "callbacks": 1,
        "done": 0,
    }
    rows = api("get", f"/call-lists/{call_list['id']}/rows?status=ambiguous", user="street").json()
    assert {c["id"] for c in rows[0]["candidates"]} == {e.pk, f.pk}
    assert "*" in rows[0]["phone"]  # masked
    settled = api(
        "post", f"/call-rows/{rows[0]['id']}/resolve", {"resident_id": e.pk}, user="street"
    ).json()
    assert (settled["status"], settled["matched_by"], settled["resident"]["id"]) == (
        "matched",
        "person",
        e.pk,
    )
    assert CallRow.objects.filter(status="matched").count() == 2

    callback = Callback.objects.get(resident=a)
    record = {
        "client_id": str(uuid.uuid4()),
        "fever_now": True,
        "temperature": "38.3",
        "drug_user": "本人",
    }
    done = api("post", f"/callbacks/{callback.pk}/record", record)
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api("post", f"/callbacks/{callback.pk}/record", record).status_code == 200
    open_callbacks = api("get", "/callbacks?status=open", user="street").json()
    assert [cb["resident"]["id"] for cb in open_callbacks] == [e.pk]
    follow_ups = api("get", "/follow-ups").json()
    assert [(fu["resident"]["id"], fu["source"]) for fu in follow_ups] == [(a.pk, "callback")]
    closed = api("post", f"/follow-ups/{follow_ups[0]['id']}/close", {"outcome": "阴性"})
    assert closed.json()["closed_on"] == str(today)
    assert (
        api("post", f"/follow-ups/{follow_ups[0]['id']}/close", {"outcome": "again"}).status_code
        == 409
    )
