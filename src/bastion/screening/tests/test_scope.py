"""Scope: a grid chief walks every screening page and API route with another grid's ids and
gets nothing (404), and writes nothing. Lists show only their own grid's rows."""

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse

from bastion.accounts.models import ApiToken
from bastion.geo.models import Resident
from bastion.screening import services
from bastion.screening.models import (
    Callback,
    CallRow,
    CampaignHousehold,
    FollowUp,
    Visit,
)
from bastion.screening.tests.conftest import walking_order
from bastion.screening.tests.test_call_lists import NOT_REGISTERED_ID, csv_file


@pytest.fixture
def world(tree, campaign, mark, today):
    """Rows on the chief's grid (grids[0]) and on the next grid (grids[1]) of the same
    community, plus a row nobody matched and a campaign over the other community only."""
    mine, theirs = walking_order(tree.grids[0])[0], walking_order(tree.grids[1])[0]
    mine_r = Resident.objects.filter(household=mine).first()
    theirs_r = Resident.objects.filter(household=theirs).first()
    fever = [services.FindingInput(resident_id=theirs_r.pk, temperature="38.5")]
    mark(theirs, "reached", "visit", findings=fever)
    services.call_list_import(
        actor=tree.users["street"],
        node=tree.street,
        kind="pharmacy",
        filename="l.csv",
        content=csv_file(
            [
                (mine_r.name, mine_r.id_number, "", "", "退烧", "", ""),
                (theirs_r.name, theirs_r.id_number, "", "", "退烧", "", ""),
                ("陌生人", NOT_REGISTERED_ID, "", "", "退烧", "", ""),
            ]
        ),
    )
    elsewhere = services.campaign_open(
        actor=tree.users["admin"],
        node=tree.communities[1],
        name="别处",
        starts_on=today + dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=11),
    )
    return {
        "campaign": campaign.pk,
        "elsewhere": elsewhere.pk,
        "household": theirs.pk,
        "other_household": walking_order(tree.grids[2])[0].pk,
        "grid": tree.grids[1].pk,
        "row": CallRow.objects.get(resident=theirs_r).pk,
        "unmatched_row": CallRow.objects.get(status="unmatched").pk,
        "callback": Callback.objects.get(resident=theirs_r).pk,
        "follow_up": FollowUp.objects.get(resident=theirs_r).pk,
        "resident": theirs_r.pk,
    }


PAGES = [
    ("get", "screening:campaign", ["elsewhere"], {}),
    ("get", "screening:campaign", ["campaign"], {"node": "grid"}),
    ("get", "screening:grid", ["campaign", "grid"], {}),
    ("get", "screening:household", ["campaign", "household"], {}),
    (
        "post",
        "screening:household_mark",
        ["campaign", "household"],
        {"mark": "reached:visit", "client_id": str(uuid.uuid4())},
    ),
    (
        "post",
        "screening:household_mark",
        ["elsewhere", "other_household"],
        {"mark": "away:", "client_id": str(uuid.uuid4())},
    ),
    ("post", "screening:call_row_resolve", ["row"], {"outside": "on"}),
    ("post", "screening:call_row_resolve", ["unmatched_row"], {"outside": "on"}),
    ("get", "screening:callback", ["callback"], {}),
    (
        "post",
        "screening:callback",
        ["callback"],
        {"fever_now": "no", "client_id": str(uuid.uuid4())},
    ),
    ("post", "screening:follow_up_close", ["follow_up"], {"f0-outcome": "x"}),
]


def _written() -> tuple:
    return (
        Visit.objects.count(),
        CallRow.objects.filter(status="matched").count(),
        Callback.objects.filter(status="done").count(),
        FollowUp.objects.filter(closed_on__isnull=False).count(),
        list(CampaignHousehold.objects.order_by("pk").values_list("pk", "status")),
    )


@pytest.mark.parametrize(
    ("method", "name", "args", "data"), PAGES, ids=[f"{p[0]} {p[1]} {p[2]}" for p in PAGES]
)
def test_another_grids_pages_are_not_found(client, tree, world, method, name, args, data):
    client.force_login(tree.users["grid"])
    before = _written()
    url = reverse(name, args=[world[a] for a in args])
    query = {k: world[v] for k, v in data.items() if v in world}
    if method == "get":
        response = client.get(url, query)
    else:
        response = client.post(url, {k: v for k, v in data.items() if k not in query})
    assert response.status_code == 404
    assert _written() == before


API = [
    ("get", "/campaigns/{elsewhere}", None),
    ("get", "/campaigns/{elsewhere}/coverage", None),
    ("get", "/campaigns/{campaign}/coverage?node_id={grid}", None),
    ("get", "/campaigns/{campaign}/grids/{grid}/today", None),
    ("get", "/campaigns/{campaign}/households/{household}", None),
    (
        "post",
        "/campaigns/{campaign}/households/{household}/visits",
        {"client_id": str(uuid.uuid4()), "outcome": "away"},
    ),
    (
        "post",
        "/visits",
        {
            "visits": [
                {
                    "client_id": str(uuid.uuid4()),
                    "campaign_id": "campaign",
                    "household_id": "household",
                    "outcome": "away",
                }
            ]
        },
    ),
    ("post", "/call-rows/{row}/resolve", {"outside": True}),
    ("post", "/call-rows/{unmatched_row}/resolve", {"outside": True}),
    ("get", "/callbacks/{callback}", None),
    ("post", "/callbacks/{callback}/record", {"client_id": str(uuid.uuid4()), "fever_now": False}),
    ("post", "/follow-ups/{follow_up}/close", {"outcome": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), API, ids=[f"{a[0]} {a[1]}" for a in API])
def test_another_grids_api_routes_are_not_found(client, tree, world, method, path, body):
    token = ApiToken.issue(tree.users["grid"])
    before = _written()
    url = "/api/v1/screening" + path.format(**world)
    if body and "visits" in body:
        body = {
            "visits": [
                {**v, "campaign_id": world["campaign"], "household_id": world["household"]}
                for v in body["visits"]
            ]
        }
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "get":
        response = client.get(url, **headers)
    else:
        response = client.post(url, json.dumps(body), content_type="application/json", **headers)
    assert response.status_code == 404, response.content
    assert _written() == before


def test_lists_hold_only_the_chiefs_own_grid(client, tree, world):
    token = ApiToken.issue(tree.users["grid"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(path):
        return client.get("/api/v1/screening" + path, **headers).json()

    grid = tree.grids[0].pk
    assert [c["id"] for c in get("/campaigns")] == [world["campaign"]]
    assert {cb["resident"]["id"] for cb in get("/callbacks")} == set(
        Callback.objects.filter(grid_id=grid).values_list("resident_id", flat=True)
    )
    assert get("/follow-ups") == []
    call_list = get("/call-lists")
    assert [cl["counts"]["total"] for cl in call_list] == [1]
    rows = get(f"/call-lists/{call_list[0]['id']}/rows")
    assert [r["resident"]["id"] for r in rows] == list(
        CallRow.objects.filter(grid_id=grid).values_list("resident_id", flat=True)
    )
    cover = get(f"/campaigns/{world['campaign']}/coverage")
    assert (cover["node"]["id"], cover["totals"]["total"]) == (grid, 16)
    # The pages say the same.
    client.force_login(tree.users["grid"])
    page = client.get(reverse("screening:callbacks")).content.decode()
    assert page.count('class="sc-row-card') == 1
