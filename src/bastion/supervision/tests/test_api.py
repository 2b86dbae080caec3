"""The supervision API: an inspection with evidence over multipart (a retry answers the
first), refused without the evidence a checklist item needs; the fix with a photo; the
re-check refused to the fixer; the overdue list; the ledger; the patrol; the team."""

import json
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from bastion.accounts.testing import api_client
from bastion.core.testing import png_bytes
from bastion.supervision.models import Finding, Inspection, SupervisionTeam


def _png():
    return SimpleUploadedFile("p.png", png_bytes(b"GPS"), content_type="image/png")


def _post_inspection(client, data, photos=()):
    return client.post(
        "/api/v1/supervision/inspections", {"data": json.dumps(data), "photos": list(photos)}
    )


def test_inspection_fix_recheck_over_the_api(tree, world):
    street = api_client(tree.users["street"])
    key = str(uuid.uuid4())
    data = {
        "team_id": world.team.pk,
        "place_id": world.checkpoint.pk,
        "mode": "unannounced",
        "client_id": key,
        "findings": [
            {"item_id": world.cp_items[0].pk, "severity": "major", "photos": []},
            {"item_id": world.cp_items[1].pk, "severity": "minor", "text": "缺一人"},
        ],
    }
    refused = _post_inspection(street, data)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "photos"
    assert refused.json()["errors"][0]["row"] == 1
    assert Inspection.objects.count() == 0

    data["findings"][0]["photos"] = [0]
    made = _post_inspection(street, data, [_png()])
    assert made.status_code == 201, made.content
    body = made.json()
    assert [f["responsible_id"] for f in body["findings"]] == [world.point_chief.pk] * 2
    again = _post_inspection(street, data, [_png()])
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Finding.objects.count() == 2

    # The grid chief reports the fix of the first (for the point chief, who has no login).
    first = body["findings"][0]["id"]
    grid = api_client(tree.users["grid"])
    no_photo = grid.post(f"/api/v1/supervision/findings/{first}/fix", {"note": "补齐"})
    assert no_photo.status_code == 422
    fixed = grid.post(
        f"/api/v1/supervision/findings/{first}/fix", {"note": "补齐", "photo": _png()}
    )
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed"
    own = grid.post(
        f"/api/v1/supervision/findings/{first}/recheck",
        {"passed": True},
        content_type="application/json",
    )
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "rechecked_by"
    closed = street.post(
        f"/api/v1/supervision/findings/{first}/recheck",
        {"passed": True},
        content_type="application/json",
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    assert street.get("/api/v1/supervision/findings", {"overdue": True}).json() == []
    ledger = street.get(f"/api/v1/supervision/ledger/{tree.grids[0].pk}").json()
    assert (ledger["whole"]["total"], ledger["whole"]["closed"]) == (2, 1)
    assert ledger["whole"]["closure_rate"] == 0.5
    other = api_client(tree.users["other_grid"])
    assert other.get(f"/api/v1/supervision/findings/{first}").status_code == 404


def test_team_and_patrol_over_the_api(tree, world):
    street = api_client(tree.users["street"])
    key = str(uuid.uuid4())
    payload = {
        "node_id": tree.communities[0].pk,
        "name": "第二督查组",
        "member_ids": [world.grid_chief.pk],
        "leader_id": world.building_chief.pk,
        "client_id": key,
    }
    made = street.post("/api/v1/supervision/teams", payload, content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["leader_id"] == world.building_chief.pk
    again = street.post("/api/v1/supervision/teams", payload, content_type="application/json")
    assert again.status_code == 200 and SupervisionTeam.objects.count() == 2

    chief = api_client(tree.users["building"])
    patrol = chief.post(
        "/api/v1/supervision/patrols",
        {"building_id": tree.buildings[0].pk, "failed_item_ids": [world.building_items[0].pk]},
        content_type="application/json",
    )
    assert patrol.status_code == 201, patrol.content
    assert patrol.json()["failed_item_ids"] == [world.building_items[0].pk]
