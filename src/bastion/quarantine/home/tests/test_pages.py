"""The home measures' pages: the grid chief's due list and its report, the grid chief's home
page announcing what is due, the missed checks up the tree, a measure's numbers masked until
revealed (logged), its end, and the household reporting from its own link."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from bastion.accounts.models import RevealLog
from bastion.geo.models import Household
from bastion.quarantine.home.models import HomeMeasure, HomeReport
from bastion.quarantine.home.tests.test_services import place
from bastion.requests import services as requests_services

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_grid_chief_sees_what_is_due_and_enters_a_report(tree):
    measure = place(tree, starts_on=timezone.localdate() - dt.timedelta(days=1))
    chief = _client(tree.users["grid"])
    assert 'href="/quarantine/home/due/"' in chief.get("/").content.decode()
    due = chief.get("/quarantine/home/due/").content.decode()
    assert f'name="measure_id" value="{measure.pk}"' in due
    assert measure.name not in due  # masked
    chief.post(
        "/quarantine/home/due/", {"measure_id": measure.pk, "temperature": "44", "half": "am"}
    )
    assert not HomeReport.objects.exists()
    chief.post(
        "/quarantine/home/due/", {"measure_id": measure.pk, "temperature": "36.6", "half": "am"}
    )
    assert str(HomeReport.objects.get().temperature) == "36.6"
    # yesterday's two checks were missed: listed for the community and the street
    for name in ("community", "street"):
        page = _client(tree.users[name]).get("/quarantine/home/").content.decode()
        assert f"/quarantine/home/{measure.pk}/" in page
    other = _client(tree.users["other_grid"])
    assert f"/quarantine/home/{measure.pk}/" not in other.get("/quarantine/home/").content.decode()
    assert other.get(f"/quarantine/home/{measure.pk}/").status_code == 404
    assert 'href="/quarantine/home/due/"' not in other.get("/").content.decode()


def test_numbers_masked_until_revealed_and_logged_and_the_end(tree):
    measure = place(tree)
    street = _client(tree.users["street"])
    page = street.get(f"/quarantine/home/{measure.pk}/").content.decode()
    assert measure.doc_number not in page
    shown = street.post(f"/quarantine/home/{measure.pk}/reveal/doc_number/").content.decode()
    assert measure.doc_number in shown
    assert RevealLog.objects.filter(subject_id=measure.pk, field="doc_number").count() == 1
    street.post(f"/quarantine/home/{measure.pk}/end/", {"reason": ""})
    assert HomeMeasure.objects.get().ended_at is None  # before the planned end: a reason
    street.post(f"/quarantine/home/{measure.pk}/end/", {"reason": "解除"})
    assert HomeMeasure.objects.get().ended_at is not None


def test_the_household_reports_from_its_own_link(tree):
    measure = place(tree)
    link = requests_services.link_issue(household=measure.household, actor=tree.users["admin"])
    token = requests_services.link_token(link)
    c = Client()
    page = c.get(f"/quarantine/home/h/{token}/")
    assert page.status_code == 200 and f'value="{measure.pk}"' in page.content.decode()
    c.post(f"/quarantine/home/h/{token}/", {"measure_id": measure.pk, "temperature": "36.8"})
    report = HomeReport.objects.get()
    assert (report.reporter, report.reported_by) == ("household", None)
    assert c.get(f"/quarantine/home/h/{token}x/").status_code == 404
    # another household's measure is not reached through this link
    neighbour = place(tree, household=Household.objects.filter(grid=tree.grids[1]).first())
    assert f'value="{neighbour.pk}"' not in c.get(f"/quarantine/home/h/{token}/").content.decode()
    answer = c.post(
        f"/quarantine/home/h/{token}/", {"measure_id": neighbour.pk, "temperature": "36.8"}
    )
    assert answer.status_code == 404 and not neighbour.reports.exists()


def test_every_write_through_the_api_with_client_ids(tree):
    import uuid

    from bastion.accounts.testing import api_client
    from bastion.geo.models import Resident

    resident = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    api = api_client(tree.users["community"])
    today = timezone.localdate()
    body = {
        "client_id": str(uuid.uuid4()), "kind": "isolation", "starts_on": str(today),
        "ends_on": str(today + dt.timedelta(days=7)), "reason": "密接", "source": "close_contact",
        "resident_id": resident.pk, "door_sensor": True,
    }  # fmt: skip
    bad = api.post("/api/v1/quarantine/home/measures", body | {"ends_on": str(today)},
                   content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "ends_on" in bad.content.decode()
    assert not HomeMeasure.objects.exists()
    first = api.post("/api/v1/quarantine/home/measures", body, content_type="application/json")
    again = api.post("/api/v1/quarantine/home/measures", body, content_type="application/json")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and HomeMeasure.objects.count() == 1
    assert first.json()["name"] != resident.name  # masked
    mid = first.json()["id"]
    report = {"client_id": str(uuid.uuid4()), "temperature": 36.7, "half": "am"}
    url = f"/api/v1/quarantine/home/measures/{mid}/reports"
    assert api.post(url, report, content_type="application/json").status_code == 200
    assert api.post(url, report, content_type="application/json").status_code == 200
    assert HomeReport.objects.count() == 1
    hot = {"client_id": str(uuid.uuid4()), "temperature": 43.5, "half": "pm"}
    assert api.post(url, hot, content_type="application/json").status_code == 422
    assert HomeReport.objects.count() == 1
    other = api_client(tree.users["other_grid"])
    assert other.post(url, report | {"client_id": str(uuid.uuid4())},
                      content_type="application/json").status_code == 404  # fmt: skip
    end = api.post(f"/api/v1/quarantine/home/measures/{mid}/end", {"reason": "解除"},
                   content_type="application/json")  # fmt: skip
    assert end.status_code == 200 and end.json()["ended_at"]
    late = {"client_id": str(uuid.uuid4()), "temperature": 36.5, "half": "pm"}
    assert api.post(url, late, content_type="application/json").status_code == 409
