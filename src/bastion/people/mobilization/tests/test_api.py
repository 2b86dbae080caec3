"""The mobilization API (/api/v1/mobilization) on the small known tree: idempotent check-in
from a phone, roster refusals with their reasons, the public report-in, dispatch retries,
allowance months, and the scope."""

import datetime as dt
import io
import json
import uuid

import pytest
from django.test import Client, override_settings
from django.utils import timezone, translation
from openpyxl import load_workbook

from bastion.accounts.services import token_issue
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.models import CheckEvent, Deployment, Dispatch, ReportIn
from bastion.people.mobilization.tests.mobilization_data import build_duty, place_now, tomorrow

API = "/api/v1/mobilization"
JSON = "application/json"


def as_user(user) -> Client:
    return Client(
        headers={"authorization": f"Bearer {token_issue(user=user)}", "accept-language": "en"}
    )


def post(client: Client, path: str, body: dict | None = None, **extra):
    return client.post(API + path, json.dumps(body or {}, default=str), content_type=JSON, **extra)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the UI's default language is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def duty(tree):
    return build_duty(tree)


def test_check_in_from_a_phone_is_idempotent_by_client_id(duty, tree):
    place, day = place_now(tree.grids[0], "现在卡口", chief=duty.cadres[0])
    [now_shift, *_] = services.roster_build(place=place, day=day)
    a = services.shift_assign(shift=now_shift, person=duty.cadres[1])
    phone = as_user(duty.chief_user)  # the point chief, a volunteer on the grid
    key = str(uuid.uuid4())
    first = post(phone, f"/assignments/{a.pk}/check-in", {"client_id": key})
    again = post(phone, f"/assignments/{a.pk}/check-in", {"client_id": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert CheckEvent.objects.filter(assignment=a).count() == 1
    other = post(phone, f"/assignments/{a.pk}/check-in", {"client_id": str(uuid.uuid4())})
    assert other.status_code == 409
    assert "already checked in" in other.json()["errors"][0]["message"]
    out = post(
        phone,
        f"/assignments/{a.pk}/check-out",
        {"client_id": str(uuid.uuid4()), "note": "一切正常"},
    )
    assert out.status_code == 201
    roster = phone.get(f"{API}/places/{place.pk}", {"day": day.isoformat()}).json()
    duty_row = roster["shifts"][0]["duties"][0]
    assert duty_row["check_in"]["client_id"] == key and duty_row["check_out"]["note"] == "一切正常"
    assert roster["shifts"][1]["handover"] == ["一切正常"]


def test_a_volunteer_who_is_not_the_point_chief_may_only_look(duty, tree):
    place, day = place_now(tree.grids[0], "现在卡口", chief=duty.cadres[0])
    [now_shift, *_] = services.roster_build(place=place, day=day)
    a = services.shift_assign(shift=now_shift, person=duty.cadres[1])
    looker = as_user(tree.users["volunteer"])
    assert looker.get(f"{API}/places/{place.pk}").status_code == 200
    refused = post(looker, f"/assignments/{a.pk}/check-in", {"client_id": str(uuid.uuid4())})
    assert refused.status_code == 403
    assert not CheckEvent.objects.exists()


def test_roster_refusals_answer_409_with_the_reason(duty, tree):
    day = tomorrow()
    shifts = services.roster_build(place=duty.guard, day=day)
    grid = as_user(tree.users["grid"])
    person = duty.cadres[1].pk
    for shift in shifts[:2]:
        assert (
            post(grid, f"/shifts/{shift.pk}/assignments", {"person_id": person}).status_code == 201
        )
    again = post(grid, f"/shifts/{shifts[0].pk}/assignments", {"person_id": person})
    assert again.status_code == 200
    refused = post(grid, f"/shifts/{shifts[2].pk}/assignments", {"person_id": person})
    assert refused.status_code == 409
    [problem] = refused.json()["errors"]
    assert problem["field"] == "person" and "hours in a row" in problem["message"]
    gaps = grid.get(f"{API}/gaps", {"node": tree.grids[0].pk}).json()
    assert {(g["place"], g["index"], g["rostered"]) for g in gaps} == {
        ("1号楼东门值守点", 0, 1),
        ("1号楼东门值守点", 1, 1),
        ("1号楼东门值守点", 2, 0),
        ("北路卡口", 0, 0),
        ("北路卡口", 1, 0),
        ("北路卡口", 2, 0),
    }


def test_a_grid_chief_gets_404_for_another_grids_places_rosters_and_people(duty, tree):
    day = tomorrow()
    far_shifts = services.roster_build(place=duty.far, day=day)
    far_duty = services.shift_assign(shift=far_shifts[0], person=duty.others[1])
    own_shifts = services.roster_build(place=duty.guard, day=day)
    grid = as_user(tree.users["grid"])
    assert grid.get(f"{API}/places/{duty.far.pk}").status_code == 404
    assert grid.get(f"{API}/places", {"node": tree.grids[1].pk}).status_code == 404
    assert {p["name"] for p in grid.get(f"{API}/places").json()} == {"1号楼东门值守点", "北路卡口"}
    for path, body in (
        (f"/shifts/{far_shifts[1].pk}/assignments", {"person_id": duty.cadres[1].pk}),
        (f"/shifts/{own_shifts[0].pk}/assignments", {"person_id": duty.others[0].pk}),
        (f"/assignments/{far_duty.pk}/check-in", {"client_id": str(uuid.uuid4())}),
        (f"/places/{duty.far.pk}/roster", {"day": day.isoformat()}),
    ):
        assert post(grid, path, body).status_code == 404, path
    assert grid.delete(f"{API}/assignments/{far_duty.pk}").status_code == 404
    # The person sent down to the grid (living elsewhere) may be rostered there.
    services.dispatch_create(
        persons=[duty.others[0]],
        kind="sent_down",
        starts_on=timezone.localdate(),
        ends_on=day,
        node=tree.grids[0],
    )
    assert (
        post(
            grid, f"/shifts/{own_shifts[0].pk}/assignments", {"person_id": duty.others[0].pk}
        ).status_code
        == 201
    )


def test_the_public_report_in_needs_no_login_and_keeps_one_registration(tree):
    anonymous = Client(headers={"accept-language": "en"})
    token = queries.report_in_token(tree.communities[0])
    body = {
        "community_token": token,
        "name": "党员甲",
        "phone": "13912345678",
        "id_number": "220421198001010018",
        "employer": "东丰县教育局",
        "skills": ["driver"],
    }
    first = post(anonymous, "/report-in", body)
    assert first.status_code == 201, first.content
    assert first.json()["community"] == "社区1"
    assert post(anonymous, "/report-in", body).status_code == 201  # sent again: one row
    assert post(anonymous, "/report-in", {**body, "name": "冒名者"}).status_code == 201
    bad = post(anonymous, "/report-in", {**body, "community_token": token + "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "community_token"
    wrong = post(anonymous, "/report-in", {**body, "id_number": "220421198001010019"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "id_number"
    assert ReportIn.objects.count() == 1
    with override_settings(BASTION_REPORT_IN_PER_HOUR=1):
        many = post(anonymous, "/report-in", {**body, "id_number": "220421198001020013"})
    assert many.status_code == 429
    # The community confirms, giving a task.
    staff = as_user(tree.users["community"])
    [row] = staff.get(f"{API}/report-ins", {"status": "pending"}).json()
    assert row["id_number"] == "2204**********0018"
    done = post(staff, f"/report-ins/{row['id']}/confirm", {"task": "跑腿代购"})
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    other = as_user(tree.users["other_grid"])
    assert post(other, f"/report-ins/{row['id']}/reject", {"reason": "x"}).status_code == 404


def test_a_dispatch_retried_with_its_client_id_sends_nobody_twice(duty, tree):
    street = as_user(tree.users["street"])
    today = timezone.localdate()
    body = {
        "person_ids": [p.pk for p in duty.cadres[:3]],
        "kind": "sent_down",
        "node_id": tree.grids[2].pk,
        "starts_on": today,
        "ends_on": today + dt.timedelta(days=10),
        "client_id": str(uuid.uuid4()),
    }
    first = post(street, "/dispatches", body)
    again = post(street, "/dispatches", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Dispatch.objects.count() == 1 and Deployment.objects.count() == 3
    refused = post(street, "/dispatches", {**body, "client_id": str(uuid.uuid4())})
    assert refused.status_code == 422
    assert len(refused.json()["errors"]) == 3
    coverage = street.get(f"{API}/coverage", {"short_only": True}).json()
    assert [(c["community"]["name"], c["cadres"], c["short"]) for c in coverage] == [
        ("社区1", 0, 3)
    ]  # the three went to the second community
    deployment = first.json()["deployments"][0]
    recalled = post(street, f"/deployments/{deployment['id']}/recall", {"reason": "病假"})
    assert recalled.status_code == 200 and recalled.json()["recalled_on"] == str(today)
    grid = as_user(tree.users["grid"])
    assert post(grid, f"/deployments/{deployment['id']}/recall").status_code == 404


def test_an_allowance_month_through_the_api(duty, tree):
    street = as_user(tree.users["street"])
    first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    opened = post(street, "/allowance-months", {"node_id": tree.street.pk, "month": first})
    assert opened.status_code == 201, opened.content
    month = opened.json()
    assert {r["key"]: r["amount"] for r in month["rates"]}["checkpoint"] == "200.00"
    path = f"/allowance-months/{month['id']}"
    assert (
        post(street, path + "/rates", {"key": "guard_point", "amount": "120"}).json()["amount"]
        == "120.00"
    )
    award = {
        "person_id": duty.cadres[0].pk,
        "title": "网格之星",
        "amount": "500",
        "node_id": tree.grids[0].pk,
        "awarded_on": first,
        "client_id": str(uuid.uuid4()),
    }
    assert post(street, path + "/awards", award).status_code == 201
    assert post(street, path + "/awards", award).status_code == 200
    closed = post(street, path + "/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["total"] == "500.00"
    late = post(street, path + "/awards", {**award, "client_id": str(uuid.uuid4())})
    assert late.status_code == 409
    export = street.get(API + path + "/export")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "赵一" and rows[-1][-1] == 500
    grid = as_user(tree.users["grid"])
    assert grid.get(API + path).status_code == 404
    assert grid.get(API + path + "/export").status_code == 404
