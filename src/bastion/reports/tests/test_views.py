"""The pages and the API: what a login reads, and the scope — another grid's report, dashboard,
export, submission and recomputation answer 404 exactly like a missing node."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from bastion.accounts.models import ApiToken
from bastion.core.testing import PASSWORD
from bastion.reports import services
from bastion.reports.models import GridReport, ReportDay

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def computed(tree):
    services.report_compute(day=services.local_today())
    return tree


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def api(client, user):
    token = ApiToken.issue(user)
    return lambda method, url: getattr(client, method)(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def page_urls(node_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("reports:dashboard", args=[node_id])),
        ("get", reverse("reports:export", args=[node_id])),
        ("post", reverse("reports:recompute", args=[node_id])),
        ("post", reverse("reports:submit", args=[node_id])),
    ]


def api_urls(node_id: int) -> list[tuple[str, str]]:
    return [
        ("get", f"/api/v1/reports/nodes/{node_id}/report"),
        ("get", f"/api/v1/reports/nodes/{node_id}/dashboard"),
        ("get", f"/api/v1/reports/nodes/{node_id}/export.xlsx"),
        ("post", f"/api/v1/reports/nodes/{node_id}/recompute"),
        ("post", f"/api/v1/reports/grids/{node_id}/submit"),
    ]


def test_a_grid_chief_cannot_reach_another_grids_report(computed, client):
    tree = computed
    other, own = tree.grids[1], tree.grids[0]
    login(client, tree.users["grid"])
    for method, url in page_urls(other.pk) + page_urls(tree.communities[0].pk) + page_urls(999999):
        assert getattr(client, method)(url).status_code == 404, url
    call = api(client, tree.users["grid"])
    for method, url in api_urls(other.pk) + api_urls(tree.street.pk) + api_urls(999999):
        assert call(method, url).status_code == 404, url
    # The same requests on the chief's own grid answer.
    assert client.get(reverse("reports:dashboard", args=[own.pk])).status_code == 200
    assert call("get", f"/api/v1/reports/nodes/{own.pk}/report").status_code == 200
    assert not GridReport.objects.filter(grid=other, submitted_at__isnull=False).exists()


def test_a_volunteer_reads_but_cannot_submit(computed, client):
    grid = computed.grids[0]
    login(client, computed.users["volunteer"])
    assert client.get(reverse("reports:dashboard", args=[grid.pk])).status_code == 200
    assert client.post(reverse("reports:submit", args=[grid.pk])).status_code == 403
    assert client.post(reverse("reports:recompute", args=[grid.pk])).status_code == 403
    call = api(client, computed.users["volunteer"])
    assert call("post", f"/api/v1/reports/grids/{grid.pk}/submit").status_code == 403
    assert not GridReport.objects.filter(submitted_at__isnull=False).exists()


def test_buildings_have_no_report_and_anonymous_logins_none(computed, client):
    login(client, computed.users["admin"])
    building = computed.buildings[0]
    assert client.get(reverse("reports:dashboard", args=[building.pk])).status_code == 404
    client.logout()
    response = client.get(reverse("reports:dashboard", args=[computed.street.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(f"/api/v1/reports/nodes/{computed.street.pk}/report").status_code == 401


def test_the_index_opens_the_logins_own_node(computed, client):
    login(client, computed.users["community"])
    response = client.get(reverse("reports:index"))
    assert response["Location"] == reverse("reports:dashboard", args=[computed.communities[0].pk])
    client.logout()
    login(client, computed.users["building"])
    page = client.get(reverse("reports:index"), HTTP_ACCEPT_LANGUAGE="en")
    assert b"your role has none" in page.content


def test_the_dashboard_page(computed, client):
    street = computed.street
    login(client, computed.users["street"])
    response = client.get(reverse("reports:dashboard", args=[street.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="rp-trend"' in html and 'id="rp-children"' in html
    data = json.loads(
        html.split('<script id="rp-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [c["name"] for c in data["children"]] == ["社区1", "社区2"]
    assert {f["key"]: f["value"] for f in data["figures"]}["residents"] == 128
    assert len(data["trend"]["days"]) == 14
    assert data["board"] is None
    community = client.get(reverse("reports:dashboard", args=[computed.communities[0].pk]))
    assert 'id="board"' in community.content.decode()


def test_a_grid_chief_submits_on_the_page_and_through_the_api(computed, client):
    grid = computed.grids[0]
    login(client, computed.users["grid"])
    page = client.get(reverse("reports:dashboard", args=[grid.pk])).content.decode()
    assert reverse("reports:submit", args=[grid.pk]) in page
    response = client.post(
        reverse("reports:submit", args=[grid.pk]), {"day": services.local_today().isoformat()}
    )
    assert response.status_code == 302
    report = GridReport.objects.get(grid=grid, day=services.local_today())
    assert report.submitted_by == computed.users["grid"]

    other = computed.users["other_grid"]
    response = api(client, other)("post", f"/api/v1/reports/grids/{computed.grids[1].pk}/submit")
    assert response.status_code == 200
    stored = GridReport.objects.get(grid=computed.grids[1], day=services.local_today())
    assert stored.submitted_by == other and response.json()["late"] == stored.late


def test_the_report_api(computed, client):
    call = api(client, computed.users["community"])
    response = call("get", f"/api/v1/reports/nodes/{computed.communities[0].pk}/report")
    body = response.json()
    assert [r["name"] for r in body["rows"]] == ["网格1-1", "网格1-2"]
    assert body["total"]["households"] == 32
    assert sum(r["values"]["households"] for r in body["rows"]) == 32
    assert body["flags"]["pending"] + body["flags"]["missing"] == 2
    figures = call("get", "/api/v1/reports/figures").json()
    assert figures[0] == {"key": "households", "label": figures[0]["label"], "module": "geo"}
    dashboard = call("get", f"/api/v1/reports/nodes/{computed.communities[0].pk}/dashboard")
    assert dashboard.status_code == 200
    assert len(dashboard.json()["board"]["grids"]) == 2


@override_settings(TASKS=IMMEDIATE)
def test_recompute_on_demand(tree, client):
    login(client, tree.users["community"])
    response = client.post(reverse("reports:recompute", args=[tree.communities[0].pk]))
    assert response.status_code == 302
    assert GridReport.objects.filter(day=services.local_today()).count() == 2
    services.report_freeze(day=services.local_today())
    call = api(client, tree.users["community"])
    assert call("post", f"/api/v1/reports/nodes/{tree.communities[0].pk}/recompute").json() == {
        "queued": False,
        "frozen": True,
    }
    assert ReportDay.objects.get(day=services.local_today()).frozen


@pytest.mark.django_db(transaction=True)
def test_a_recompute_is_followed_by_its_task_and_only_for_its_node(tree, client, settings):
    """The worker closes its database connection between tasks, as a real process does; on
    PostgreSQL that needs a test outside the wrapping transaction."""
    import io

    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    login(client, tree.users["street"])
    mine, other = tree.communities
    response = client.post(reverse("reports:recompute", args=[mine.pk]))
    task_id = response["location"].split("?task=")[1]
    status = reverse("reports:recompute_status", args=[mine.pk, task_id])
    polled = client.get(status, headers={"HX-Request": "true"})
    assert polled.status_code == 200 and b'hx-trigger="every 2s"' in polled.content
    # The same task asked under another node, or an unknown id: as missing.
    assert (
        client.get(reverse("reports:recompute_status", args=[other.pk, task_id])).status_code == 404
    )
    unknown = reverse("reports:recompute_status", args=[mine.pk, "not-a-task"])
    assert client.get(unknown).status_code == 404
    # The worker runs it: the next poll sends the page to the fresh figures.
    call_command(
        "db_worker", batch=True, startup_delay=False, stdout=io.StringIO(), stderr=io.StringIO()
    )
    done = client.get(status, headers={"HX-Request": "true"})
    assert (done.status_code, done["HX-Redirect"]) == (
        204,
        reverse("reports:dashboard", args=[mine.pk]),
    )
