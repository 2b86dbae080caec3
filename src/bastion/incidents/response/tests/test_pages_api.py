"""The response's pages and API: a case entered, its proposal adjusted and confirmed (again:
the same bundle), the board with the overdue task in red, a task moved on, a disinfection
recorded once per client id; bad input refused naming the field, nothing written."""

import datetime as dt
import uuid

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.services import token_issue
from bastion.core.models import ChangeLog
from bastion.incidents.models import ControlArea
from bastion.incidents.response.models import Bundle, Case, Disinfection, Task

API = "/api/v1/incidents"


def _api(user) -> Client:
    return Client(headers={"authorization": f"Bearer {token_issue(user=user)}"})


def _json(client, method, url, body=None):
    return getattr(client, method)(url, body or {}, content_type="application/json")


def test_the_api_takes_a_case_through_proposal_confirmation_tasks_and_disinfection(tree):
    api = _api(tree.users["community"])
    key = str(uuid.uuid4())
    body = {"node_id": tree.units[1].pk, "name": "王某", "reference": "DC-7", "client_id": key}
    made = _json(api, "post", f"{API}/cases", body)
    assert made.status_code == 201, made.content
    case = made.json()
    assert _json(api, "post", f"{API}/cases", body).json()["id"] == case["id"]
    assert [(p["node_id"], p["level"]) for p in case["proposed"]] == [
        (tree.communities[0].pk, "precaution"),
        (tree.grids[0].pk, "controlled"),
        (tree.buildings[0].pk, "sealed"),
    ]
    # Adjusted: only the unit sealed. A node elsewhere is refused (its name unsaid).
    bad = _json(
        api,
        "put",
        f"{API}/cases/{case['id']}/proposal",
        {"areas": [{"node_id": tree.units[3].pk, "level": "sealed"}]},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "areas"
    ok = _json(
        api,
        "put",
        f"{API}/cases/{case['id']}/proposal",
        {"areas": [{"node_id": tree.units[1].pk, "level": "sealed"}]},
    )
    assert [p["level"] for p in ok.json()["proposed"]] == ["sealed"]
    first = _json(api, "post", f"{API}/cases/{case['id']}/confirm").json()
    again = _json(api, "post", f"{API}/cases/{case['id']}/confirm").json()
    assert first["id"] == again["id"] and Bundle.objects.count() == 1
    assert len(first["tasks"]) == 7
    [area] = first["areas"]
    assert (area["node_id"], area["ok"], area["quiet_days"]) == (tree.units[1].pk, False, 0)
    task = next(t for t in first["tasks"] if t["kind"] == "transfers")
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    logged = ChangeLog.objects.count()
    refused = _json(api, "post", f"{API}/tasks/{task['id']}", {"deadline": past, "state": "done"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "deadline"
    assert Task.objects.get(pk=task["id"]).state == "open" and ChangeLog.objects.count() == logged
    moved = _json(api, "post", f"{API}/tasks/{task['id']}", {"state": "in_progress"})
    assert moved.json()["state"] == "in_progress"
    key = str(uuid.uuid4())
    d = {"node_id": tree.units[1].pk, "place": "楼道", "agent": "84", "person": "张三"}
    for _ in range(2):
        r = _json(api, "post", f"{API}/bundles/{first['id']}/disinfections", d | {"client_id": key})
        assert r.status_code == 201, r.content
    assert Disinfection.objects.count() == 1
    outside = _json(
        api,
        "post",
        f"{API}/bundles/{first['id']}/disinfections",
        d | {"node_id": tree.units[0].pk},
    )
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "node"
    check = api.get(f"{API}/areas/{area['area_id']}/lift-check").json()
    assert (check["days_needed"], check["rounds_needed"]) == (14, 2)


def test_the_pages_enter_confirm_and_show_the_board_with_the_overdue_task_red(tree):
    c = Client()
    c.force_login(tree.users["community"])
    made = c.post(
        reverse("incidents:case_new"),
        {"node": tree.units[2].pk, "name": "李某", "reference": ""},
    )
    case = Case.objects.get()
    assert made.url == reverse("incidents:case", args=[case.pk])
    listed = c.get(reverse("incidents:cases")).content.decode()
    assert "李某" in listed and "112号楼 1单元" in listed  # the case, and a unit to enter one
    page = c.get(made.url).content.decode()
    assert "李某" in page and f'name="level_{tree.buildings[1].pk}"' in page
    confirmed = c.post(
        reverse("incidents:case_confirm", args=[case.pk]),
        {
            f"level_{tree.buildings[1].pk}": "sealed",
            f"level_{tree.grids[0].pk}": "controlled",
        },
    )
    bundle = Bundle.objects.get()
    assert confirmed.url == reverse("incidents:bundle", args=[bundle.pk])
    assert set(
        ControlArea.objects.filter(lifted_at__isnull=True).values_list("node_id", "level")
    ) == {(tree.buildings[1].pk, "sealed"), (tree.grids[0].pk, "controlled")}
    late = Task.objects.get(bundle=bundle, kind="transfers")
    Task.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    board = c.get(confirmed.url).content.decode()
    assert f'id="task-{late.pk}" class="card ic-task ic-overdue"' in board
    assert board.count("ic-overdue") == 1
    c.post(reverse("incidents:task", args=[late.pk]), {"state": "done"})
    assert Task.objects.get(pk=late.pk).state == "done"
    c.post(
        reverse("incidents:disinfection_new", args=[bundle.pk]),
        {"node": tree.units[2].pk, "place": "电梯", "agent": "含氯消毒液", "person": "张三"},
    )
    assert Disinfection.objects.get().place == "电梯"
    # A volunteer sees the board but changes nothing.
    v = Client()
    v.force_login(tree.users["volunteer"])
    assert v.get(confirmed.url).status_code == 200
    assert v.post(reverse("incidents:task", args=[late.pk]), {"state": "open"}).status_code == 404
