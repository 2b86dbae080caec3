"""The mobilization pages on the small known tree: every page answers, the public report-in
form, the point chief's check-in, dispatch from the pool, the allowance export, and a grid
chief who gets nothing of another grid."""

import datetime as dt
import io
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bastion.people import services as people_services
from bastion.people.mobilization import queries, services
from bastion.people.mobilization.models import Assignment, CheckEvent, Deployment, ReportIn
from bastion.people.mobilization.tests.mobilization_data import build_duty, place_now, tomorrow


def client_for(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def url(name, *args, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(f"people:{name}", args=args) + (f"?{query}" if query else "")


@pytest.fixture
def duty(tree):
    return build_duty(tree)


@pytest.fixture
def busy(duty, tree):
    """Tomorrow's rosters, a place on duty now with a check-in, a deployment, a branch, a
    month, a registration: one of each thing a page shows."""
    day = tomorrow()
    shifts = services.roster_build(place=duty.guard, day=day)
    planned = services.shift_assign(shift=shifts[0], person=duty.cadres[1])
    services.shift_assign(shift=shifts[1], person=duty.cadres[2])
    place, today = place_now(tree.grids[0], "现在卡口", chief=duty.cadres[0])
    now = services.roster_build(place=place, day=today)
    on = services.shift_assign(shift=now[0], person=duty.cadres[3])
    services.duty_check_in(assignment=on)
    services.dispatch_create(
        persons=duty.cadres[4:6],
        kind="sent_down",
        starts_on=timezone.localdate(),
        ends_on=day,
        node=tree.grids[0],
    )
    branch = services.team_create(kind="branch", name="卡口临时党支部", place=place)
    services.team_member_add(team=branch, person=duty.cadres[0], title="书记")
    month = services.allowance_month_open(node=tree.street, month=timezone.localdate())
    services.allowance_month_compute(month=month)
    row, _ = services.report_in_submit(
        community=tree.communities[0],
        name="党员甲",
        id_number="220421198001010018",
        phone="13912345678",
    )
    return {
        "day": day,
        "shift": shifts[2],
        "planned": planned,
        "place": place,
        "today": today,
        "on": on,
        "branch": branch,
        "month": month,
        "report_in": row,
    }


def test_every_page_answers_the_street_commander(duty, busy, tree):
    client = client_for(tree.users["street"])
    pages = [
        url("mobilization"),
        url("pool"),
        url("deployments"),
        url("deployments", state="all"),
        url("coverage"),
        url("report_ins"),
        url("report_ins", status="all"),
        url("report_in_qr", node=tree.communities[0].pk),
        url("places"),
        url("place_create"),
        url("gaps"),
        url("teams"),
        url("team_create"),
        url("allowances"),
        url("my_duty"),
        url("person_pick", q="赵"),
        url("place", duty.guard.pk, day=busy["day"].isoformat()),
        url("place", busy["place"].pk, day=busy["today"].isoformat()),
        url("place_edit", duty.guard.pk),
        url("shift_assign", busy["shift"].pk),
        url("assignment", busy["planned"].pk),
        url("person_duty", duty.cadres[1].pk),
        url("team", busy["branch"].pk),
        url("allowance_month", busy["month"].pk),
        url("report_in_decide", busy["report_in"].pk),
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
    overview = client.get(url("mobilization")).context
    # Tomorrow: the guard point's three shifts are short; three places have no roster.
    assert overview["deployed"] == 2 and overview["gaps"] == 3 + 3 + 3 + 3
    assert [c.community for c in overview["short"]] == tree.communities


def test_the_public_report_in_form_needs_no_login(tree):
    anonymous = client_for()
    link = url("report_in", c=queries.report_in_token(tree.communities[1]))
    page = anonymous.get(link)
    assert page.status_code == 200 and "社区2" in page.content.decode()
    form = {
        "name": "党员乙",
        "id_number": "220421198001010018",
        "phone": "139 1234 5678",
        "employer_name": "东丰县教育局",
        "skills": ["driver", "lawyer"],
    }
    done = anonymous.post(link, form)
    assert done.status_code == 200 and done.context["done"] is not None
    row = ReportIn.objects.get()
    assert (row.community, row.phone, row.skills) == (
        tree.communities[1],
        "13912345678",
        "driver,lawyer",
    )
    assert anonymous.post(link, form).context["done"]["name"] == "党员乙"  # sent twice: one row
    other = anonymous.post(url("report_in", c=queries.report_in_token(tree.communities[0])), form)
    assert other.status_code == 200 and "is received" in other.content.decode()
    bad = anonymous.post(link, {**form, "id_number": "220421198001010019"})
    assert "checksum" in bad.content.decode()
    assert ReportIn.objects.count() == 1
    with override_settings(BASTION_REPORT_IN_PER_HOUR=1):
        many = anonymous.post(link, {**form, "id_number": "220421198001020013"})
    assert many.status_code == 429
    lost = anonymous.get(url("report_in", c="4:forged"))
    assert lost.context["community"] is None and "not valid" in lost.content.decode()


def test_the_community_confirms_a_registration_with_a_post(tree, busy):
    row = busy["report_in"]
    staff = client_for(tree.users["community"])
    page = url("report_in_decide", row.pk)
    refused = staff.post(
        page, {"action": "confirm", "role": "grid_chief", "post_node": tree.buildings[0].pk}
    )
    assert refused.status_code == 200 and "belongs on a grid" in refused.content.decode()
    staff.post(
        page,
        {
            "action": "confirm",
            "role": "building_chief",
            "post_node": tree.buildings[0].pk,
            "task": "",
        },
    )
    row.refresh_from_db()
    assert row.status == "confirmed" and row.post.node_id == tree.buildings[0].pk
    assert client_for(tree.users["other_grid"]).get(page).status_code == 404


def test_the_point_chief_checks_in_at_their_place_and_a_volunteer_may_not(duty, tree):
    place, day = place_now(tree.grids[0], "现在卡口", chief=duty.cadres[0])
    [now, *_] = services.roster_build(place=place, day=day)
    a = services.shift_assign(shift=now, person=duty.cadres[1])
    b = services.shift_assign(shift=now, person=duty.cadres[2])
    chief = client_for(duty.chief_user)
    duty_page = chief.get(url("my_duty"))
    assert {item["place"] for item in duty_page.context["led"]} == {duty.guard, place}
    key = str(uuid.uuid4())
    for _ in range(2):  # a double tap posts the same form twice
        chief.post(url("check_in", a.pk), {"client_id": key, "next": url("my_duty")})
    assert CheckEvent.objects.filter(assignment=a).count() == 1
    volunteer = client_for(tree.users["volunteer"])
    assert volunteer.get(url("place", place.pk)).status_code == 200
    assert (
        volunteer.post(url("check_in", b.pk), {"client_id": str(uuid.uuid4())}).status_code == 403
    )
    assert chief.post(url("shift_assign", now.pk), {"person": duty.cadres[3].pk}).status_code == 302
    assert Assignment.objects.filter(shift=now).count() == 3


def test_a_rule_broken_on_the_page_is_shown_with_its_reason(duty, tree):
    shifts = services.roster_build(place=duty.guard, day=tomorrow())
    grid = client_for(tree.users["grid"])
    for shift in shifts[:2]:
        grid.post(url("shift_assign", shift.pk), {"person": duty.cadres[1].pk})
    refused = grid.post(url("shift_assign", shifts[2].pk), {"person": duty.cadres[1].pk})
    assert refused.status_code == 200
    assert "24 hours in a row" in refused.context["error"]
    assert Assignment.objects.filter(person=duty.cadres[1]).count() == 2


def test_dispatch_from_the_pool_page(duty, tree):
    admin = tree.users["admin"]
    for p in duty.cadres[:3]:
        people_services.post_assign(person=p, role="reserve", node=tree.street, actor=admin)
    services.availability_set(person=duty.cadres[2], status="limited", skills=["driver"])
    street = client_for(tree.users["street"])
    page = street.get(url("pool", skill="driver"))
    assert [r["person"] for r in page.context["rows"]] == [duty.cadres[2]]
    today = timezone.localdate()
    form = {
        "person": [duty.cadres[0].pk, duty.cadres[1].pk],
        "target": f"n{tree.grids[3].pk}",
        "kind": "reserve",
        "starts_on": today,
        "ends_on": today + dt.timedelta(days=5),
        "client_id": str(uuid.uuid4()),
    }
    assert street.post(url("pool"), form).status_code == 302
    assert set(Deployment.objects.values_list("person_id", flat=True)) == {
        duty.cadres[0].pk,
        duty.cadres[1].pk,
    }
    again = street.post(url("pool"), {**form, "client_id": str(uuid.uuid4())})
    assert again.status_code == 200
    assert "赵一 is already sent to 网格2-2" in again.content.decode()


def test_the_allowance_ledger_exports_to_xlsx(busy, tree):
    month = busy["month"]
    street = client_for(tree.users["street"])
    response = street.get(url("allowance_export", month.pk))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert [s.title for s in book.worksheets] == ["Per person", "Per paying body", "Lines"]
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("Name", "ID number", "Paying body")
    assert client_for(tree.users["grid"]).get(url("allowance_export", month.pk)).status_code == 404


def test_a_grid_chief_gets_404_for_another_grids_things(duty, busy, tree):
    far = services.roster_build(place=duty.far, day=busy["day"])
    far_duty = services.shift_assign(shift=far[0], person=duty.others[1])
    team = services.team_create(kind="shock_team", name="二网格突击队", node=tree.grids[1])
    grid = client_for(tree.users["grid"])
    for page in (
        url("place", duty.far.pk),
        url("place_edit", duty.far.pk),
        url("shift_assign", far[1].pk),
        url("assignment", far_duty.pk),
        url("person_duty", duty.others[1].pk),
        url("team", team.pk),
        url("places", node=tree.grids[1].pk),
        url("gaps", node=tree.grids[1].pk),
        url("pool", node=tree.grids[1].pk),
        url("teams", node=tree.grids[1].pk),
    ):
        assert grid.get(page).status_code == 404, page
    for page in (
        url("check_in", far_duty.pk),
        url("assignment_remove", far_duty.pk),
        url("roster_build", duty.far.pk),
    ):
        assert grid.post(page, {"client_id": str(uuid.uuid4())}).status_code == 404, page
    own = grid.get(url("places")).context["rows"]
    assert {r["place"].name for r in own} == {"1号楼东门值守点", "北路卡口", "现在卡口"}
    assert Assignment.objects.filter(pk=far_duty.pk).exists()
