"""The drivers' service station: a visit logged by plate, pass code or document (rest,
meals, a test and its result time), a retry written once and a double tap on the phone form
logged once; bad input refused naming each field with nothing written; today's figures and
the daily figure "drivers served" through the report registry."""

import datetime as dt
import re
import uuid

import pytest
from django.test import Client

from bastion.accounts.testing import api_client
from bastion.checkpoints.station import queries, services
from bastion.checkpoints.station.models import StationVisit
from bastion.checkpoints.tests.conftest import NOW
from bastion.core.errors import DomainError

URL = "/api/v1/checkpoints"


def test_visits_logged_and_counted(tree, checkpoint):
    crew = tree.users["community"]
    services.station_visit_record(
        actor=crew, place=checkpoint, plate="冀A·12345", rested=True, meals=2,
        tested=True, arrived_at=NOW - dt.timedelta(hours=3), result_at=NOW,
    )  # fmt: skip
    services.station_visit_record(
        actor=crew, place=checkpoint, doc_kind="id_card", doc_number="11010519491231002x",
        name="王建国", arrived_at=NOW - dt.timedelta(hours=1), left_at=NOW,
    )  # fmt: skip
    stored = list(StationVisit.objects.order_by("arrived_at").values_list("plate", "doc_number"))
    assert stored == [("冀A12345", ""), ("", "11010519491231002X")]
    today = queries.station_today(checkpoint, NOW.date())
    assert (today.visits, today.resting, today.meals, today.tested) == (2, 1, 2, 1)
    grid = tree.grids[0].pk
    assert queries.daily_figures(NOW.date(), [grid]) == {grid: {"station_drivers": 2}}
    assert queries.daily_figures(NOW.date() - dt.timedelta(days=1), [grid]) == {}


def test_bad_input_is_refused_naming_each_field_and_writes_nothing(tree, checkpoint):
    with pytest.raises(DomainError) as refused:
        services.station_visit_record(
            actor=tree.users["community"], place=checkpoint, plate="ABC", code="ZZZZZZ",
            meals=9, result_at=NOW - dt.timedelta(hours=1),
            arrived_at=NOW + dt.timedelta(days=400),
        )  # fmt: skip
    fields = {p.field for p in refused.value.problems}
    assert fields == {"plate", "code", "meals", "result_at", "arrived_at"}
    with pytest.raises(DomainError) as nobody:
        services.station_visit_record(actor=tree.users["community"], place=checkpoint)
    assert [p.field for p in nobody.value.problems] == ["plate"]
    assert not StationVisit.objects.exists()


def test_the_api_logs_a_visit_once_per_client_id(tree, checkpoint):
    client = api_client(tree.users["community"])
    body = {"client_id": str(uuid.uuid4()), "plate": "冀A12345", "meals": 1, "rested": True}
    url = f"{URL}/places/{checkpoint.pk}/station/visits"
    first = client.post(url, body, content_type="application/json")
    again = client.post(url, body, content_type="application/json")
    other = client.post(url, body | {"meals": 2}, content_type="application/json")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert StationVisit.objects.count() == 1
    figures = client.get(f"{URL}/places/{checkpoint.pk}/station").json()
    assert (figures["visits"], figures["meals"]) == (1, 1)
    volunteer = api_client(tree.users["volunteer"])
    assert volunteer.post(url, body, content_type="application/json").status_code == 403


def test_the_phone_form_logs_a_double_tap_once(tree, checkpoint):
    web = Client()
    web.force_login(tree.users["community"])
    page = web.get(f"/checkpoints/{checkpoint.pk}/station/").content.decode()
    key = re.search(r'name="client_id" value="([0-9a-f-]+)"', page).group(1)
    form = {"client_id": key, "plate": "冀A12345", "meals": "1", "rested": "1"}
    web.post(f"/checkpoints/{checkpoint.pk}/station/", form)
    web.post(f"/checkpoints/{checkpoint.pk}/station/", form)
    assert StationVisit.objects.count() == 1
    bad = web.post(f"/checkpoints/{checkpoint.pk}/station/", {"client_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and "station-problems" in bad.content.decode()
    visit = StationVisit.objects.get()
    web.post(f"/checkpoints/station/{visit.pk}/leave/")
    visit.refresh_from_db()
    assert visit.left_at is not None
