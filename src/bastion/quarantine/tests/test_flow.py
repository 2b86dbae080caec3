"""Checkpoint → quarantine intake → checks → release → hand-over home, end to end through the
pages and the API; the release notice rendered with the person's details; who sees a stay
(the site's staff, the street above, the person's home grid and community; not the grid the
hotel stands in, not another grid)."""

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.models import RevealLog
from bastion.accounts.testing import api_client
from bastion.checkpoints import services as checkpoints
from bastion.checkpoints.models import Occupant
from bastion.checkpoints.queries import handovers_waiting
from bastion.checkpoints.tests.conftest import entry, person
from bastion.people.mobilization import services as mobilization
from bastion.quarantine import services
from bastion.quarantine.models import HealthCheck, Stay, StayState
from bastion.quarantine.tests.conftest import ID_1, ID_2, NOW, admit

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_checkpoint_to_intake_to_checks_to_release_and_home(tree, site, rooms, staff):
    checkpoint = mobilization.place_create(node=tree.grids[0], name="幸福路卡口", kind="checkpoint")
    checkpoints.entries_record(
        actor=tree.users["street"],
        place=checkpoint,
        items=[entry(person(decision="quarantine", health_code="red"), arrived_at=None)],
    )
    occupant = Occupant.objects.get()
    assert list(handovers_waiting(place=checkpoint)) == [occupant]
    # the site's chief sees the hand-over waiting (the district's) and receives it into a room
    chief = _client(staff)
    page = chief.get(f"/quarantine/{site.pk}/intake/")
    assert page.status_code == 200 and "王**" in page.content.decode()
    assert "王建国" not in page.content.decode()
    answer = chief.post(
        f"/quarantine/{site.pk}/intake/",
        {"source": "checkpoint", "occupant_id": occupant.pk, "room_id": rooms[0].pk},
        follow=True,
    )
    assert answer.status_code == 200
    stay = Stay.objects.get()
    assert (stay.name, stay.doc_number, stay.source) == ("王建国", ID_1, "checkpoint")
    assert list(handovers_waiting(place=checkpoint)) == []  # the checkpoint's board: received
    board = _client(tree.users["street"]).get(f"/checkpoints/{checkpoint.pk}/").content.decode()
    assert "Nobody waiting" in board or "无人等待" in board
    # twice-daily checks from the phone's list of who is due
    due = chief.get(f"/quarantine/{site.pk}/checks/").content.decode()
    assert f'name="stay_id" value="{stay.pk}"' in due
    chief.post(f"/quarantine/{site.pk}/checks/", {"stay_id": stay.pk, "temperature": "36.6"})
    assert HealthCheck.objects.filter(stay=stay).count() == 1
    assert f'value="{stay.pk}"' not in chief.get(f"/quarantine/{site.pk}/checks/").content.decode()
    # an early release needs a reason; with it, released, and handed over home
    chief.post(f"/quarantine/stays/{stay.pk}/release/", {})
    assert Stay.objects.get().state == StayState.IN
    chief.post(f"/quarantine/stays/{stay.pk}/release/", {"reason": "核酸阴性，医生评估"})
    stay.refresh_from_db()
    assert stay.state == StayState.RELEASED
    services.stay_hand_over(actor=staff, stay=stay, home_node=tree.grids[1])
    stay.refresh_from_db()
    assert stay.home_grid_id == tree.grids[1].pk and stay.handed_over_at is not None
    # the home grid's chief now sees the person (and the site's own grid chief does not)
    assert _client(tree.users["other_grid"]).get(f"/quarantine/stays/{stay.pk}/").status_code == 200
    assert _client(tree.users["grid"]).get(f"/quarantine/stays/{stay.pk}/").status_code == 404


def test_the_release_notice_names_the_person_and_logs_the_number(tree, site, rooms, staff):
    stay = admit(staff, site, rooms[0], home_node=tree.grids[1])
    services.stay_release(actor=staff, stay=stay, at=NOW + dt.timedelta(days=14))
    page = _client(tree.users["street"]).get(f"/quarantine/stays/{stay.pk}/notice/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "解除集中隔离告知书" in html and "王建国" in html and ID_1 in html
    assert "2026年12月7日" in html and "2026年12月21日" in html and "7天居家健康监测" in html
    css = Path(__file__).parents[1] / "static/quarantine/notice.css"
    assert "@page { size: A4" in css.read_text()
    assert RevealLog.objects.filter(user=tree.users["street"], field="doc_number").count() == 1
    # a role that may not reveal prints the number masked
    volunteer = _client(tree.users["volunteer"])
    stay.home_grid_id = tree.grids[0].pk
    Stay.objects.filter(pk=stay.pk).update(home_grid=tree.grids[0])
    html = volunteer.get(f"/quarantine/stays/{stay.pk}/notice/").content.decode()
    assert ID_1 not in html and "1101**********002X" in html


def test_who_sees_a_stay(tree, site, rooms, staff):
    stay = admit(staff, site, rooms[0], home_node=tree.grids[3])
    seen = {
        name: Stay.objects.restrict(tree.users[name]).filter(pk=stay.pk).exists()
        for name in ("admin", "street", "community", "grid", "other_grid", "building", "volunteer")
    }
    # the hotel stands in grids[0] (community 1); the person lives in grids[3] (community 2)
    assert seen == {
        "admin": True,
        "street": True,
        "community": False,
        "grid": False,
        "other_grid": False,
        "building": False,
        "volunteer": False,
    }
    assert Stay.objects.restrict(staff).filter(pk=stay.pk).exists()
    assert Stay.objects.restrict(staff, "change").filter(pk=stay.pk).exists()
    assert _client(tree.users["grid"]).get(f"/quarantine/{site.pk}/").status_code == 404
    assert _client(staff).get(f"/quarantine/{site.pk}/").status_code == 200


def test_the_api_admits_idempotently_and_refuses_a_full_room(tree, site, rooms, staff):
    client = api_client(tree.users["street"])
    body = {
        "client_id": str(uuid.uuid4()),
        "room_id": rooms[0].pk,
        "source": "returnee",
        "name": "王建国",
        "doc_number": ID_1,
        "travel_no": "G123",
        "arrival_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
    }
    first = client.post(
        f"/api/v1/quarantine/sites/{site.pk}/stays", body, content_type="application/json"
    )
    again = client.post(
        f"/api/v1/quarantine/sites/{site.pk}/stays", body, content_type="application/json"
    )
    assert first.status_code == 200, first.content
    assert again.json()["id"] == first.json()["id"]
    assert Stay.objects.count() == 1
    other = body | {
        "client_id": str(uuid.uuid4()),
        "name": "李四",
        "doc_number": ID_2,
    }
    full = client.post(
        f"/api/v1/quarantine/sites/{site.pk}/stays", other, content_type="application/json"
    )
    assert full.status_code == 409
    assert full.json()["errors"][0]["field"] == "room_id"
    check = client.post(
        f"/api/v1/quarantine/stays/{first.json()['id']}/checks",
        {"client_id": str(uuid.uuid4()), "temperature": 43.5},
        content_type="application/json",
    )
    assert check.status_code == 422 and check.json()["errors"][0]["field"] == "temperature"
    assert not HealthCheck.objects.exists()


def test_the_api_refuses_an_id_of_another_source(tree, site, rooms):
    client = api_client(tree.users["street"])
    body = {
        "client_id": str(uuid.uuid4()),
        "room_id": rooms[0].pk,
        "source": "returnee",
        "name": "王建国",
        "doc_number": ID_1,
        "travel_no": "G123",
        "arrival_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "transfer_id": 1,
    }
    answer = client.post(
        f"/api/v1/quarantine/sites/{site.pk}/stays", body, content_type="application/json"
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["transfer_id"]
    assert not Stay.objects.exists()
