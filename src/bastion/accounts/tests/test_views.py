"""The admin pages: the reveal log and the change history, for admins only, within scope."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bastion.accounts.models import RevealLog
from bastion.accounts.services import personal_data_reveal
from bastion.core.testing import login
from bastion.geo import services as geo
from bastion.geo.models import Resident
from bastion.people import services as people
from bastion.people.conftest import person_at


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def reveals(tree):
    """Two reveals by the grid chief and one by the street commander."""
    residents = list(Resident.objects.filter(grid=tree.grids[0]).order_by("id")[:2])
    for r in residents:
        personal_data_reveal(user=tree.users["grid"], subject=r, field="id_number")
    personal_data_reveal(user=tree.users["street"], subject=residents[0], field="phone", via="api")
    return residents


@pytest.mark.parametrize("name", ["accounts:reveal_log", "accounts:changes"])
@pytest.mark.parametrize("who", ["grid", "street", "volunteer", "nobody"])
def test_admin_pages_are_refused_to_non_admins(tree, name, who):
    assert client_for(tree.users[who]).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["accounts:reveal_log", "accounts:changes"])
def test_admin_pages_need_a_login(tree, client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_sees_the_reveal_log(tree, reveals):
    response = client_for(tree.users["admin"]).get(reverse("accounts:reveal_log"))
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [(e.user.username, e.subject_name, e.field, e.via) for e in entries] == [
        ("street", reveals[0].name, "phone", "api"),
        ("grid", reveals[1].name, "id_number", "web"),
        ("grid", reveals[0].name, "id_number", "web"),
    ]
    html = response.content.decode()
    assert reveals[1].name in html and "ID number" in html and "API" in html


def test_reveal_log_filters_by_login_and_date(tree, reveals):
    client = client_for(tree.users["admin"])
    by_grid = client.get(reverse("accounts:reveal_log"), {"username": "grid"})
    assert {e.user.username for e in by_grid.context["entries"]} == {"grid"}
    assert len(by_grid.context["entries"]) == 2
    today = timezone.localdate()
    same_day = client.get(reverse("accounts:reveal_log"), {"since": today, "until": today})
    assert len(same_day.context["entries"]) == 3
    tomorrow = client.get(reverse("accounts:reveal_log"), {"since": today + dt.timedelta(1)})
    assert tomorrow.context["entries"] == []
    bad_date = client.get(reverse("accounts:reveal_log"), {"since": "not-a-date"})
    assert bad_date.status_code == 200 and len(bad_date.context["entries"]) == 3
    assert "since" in bad_date.context["form"].errors


def test_reveal_log_pages(tree):
    resident = Resident.objects.filter(grid=tree.grids[0]).first()
    entries = [
        RevealLog(
            user=tree.users["grid"],
            subject_type="resident",
            subject_id=resident.pk,
            subject_name=resident.name,
            field="phone",
        )
        for _ in range(51)
    ]
    for entry in entries:
        entry.locate(resident)
    RevealLog.objects.bulk_create(entries)
    client = client_for(tree.users["admin"])
    first = client.get(reverse("accounts:reveal_log"))
    assert (len(first.context["entries"]), first.context["has_next"]) == (50, True)
    second = client.get(reverse("accounts:reveal_log"), {"page": 2})
    assert (len(second.context["entries"]), second.context["has_next"]) == (1, False)
    assert second.context["has_previous"]
    assert client.get(reverse("accounts:reveal_log"), {"page": "x"}).status_code == 200


def test_an_admin_of_another_city_sees_none_of_it(tree, reveals):
    other_city = geo.node_create(parent=None, name="别的市")
    other_admin = login("other_admin", "city_admin", other_city)
    client = client_for(other_admin)
    assert client.get(reverse("accounts:reveal_log")).context["entries"] == []
    assert client.get(reverse("accounts:changes")).context["entries"] == []


def test_admin_sees_changes_with_numbers_masked(tree):
    admin = tree.users["admin"]
    person = person_at(tree.units[0], "楼长丙", "13900000003")
    post = people.post_assign(
        person=person, role="building_chief", node=tree.buildings[0], actor=tree.users["grid"]
    )
    people.post_end(post=post, actor=admin)
    client = client_for(admin)
    response = client.get(reverse("accounts:changes"), {"object_type": "people.post"})
    entries = [row.entry for row in response.context["entries"]]
    assert [(e.action, e.actor) for e in entries] == [
        ("update", admin),
        ("create", tree.users["grid"]),
    ]
    html = response.content.decode()
    assert "Ended on" in html and "Building chief" in html and "楼长丙" in html
    residents = client.get(reverse("accounts:changes"), {"object_type": "geo.resident"})
    html = residents.content.decode()
    assert len(residents.context["entries"]) == 50 and residents.context["has_next"]
    assert "138****" in html
    phone = Resident.objects.get(name="居民1").phone
    assert phone not in html  # numbers stay masked in the history


def test_changes_of_one_object(tree):
    resident = Resident.objects.get(name="居民1")
    response = client_for(tree.users["admin"]).get(
        reverse("accounts:changes"), {"object_type": "geo.resident", "object_id": resident.pk}
    )
    [row] = response.context["entries"]
    assert row.entry.object_id == resident.pk
    shown = {c.label: c.new for c in row.changes}
    assert shown["Mobile"] == "138****0001"
    assert shown["ID number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]


def test_change_page_queries_do_not_grow_with_entries(tree):
    client = client_for(tree.users["admin"])

    def count(**params):
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("accounts:changes"), {"object_type": "people.post", **params})
        return len(ctx.captured_queries)

    person = person_at(tree.units[0], "楼长丙", "13900000003")
    people.post_assign(person=person, role="building_chief", node=tree.buildings[0])
    one = count()
    for i, unit in enumerate(tree.units[:10]):
        people.post_assign(
            person=person_at(unit, f"单元长{i}", f"139000001{i:02d}"), role="unit_chief", node=unit
        )
    assert count() == one


def test_changes_show_a_zone_whose_log_names_its_buildings(tree):
    """A zone's creation logs its buildings, a reverse relation with no column of its own."""
    geo.zone_create(
        street=tree.street,
        name="一号指挥区",
        kind="joint",
        buildings=tree.buildings[:2],
        actor=tree.users["admin"],
    )
    response = client_for(tree.users["admin"]).get(
        reverse("accounts:changes"), {"object_type": "geo.commandzone"}
    )
    assert response.status_code == 200
    assert [row.entry.object_repr for row in response.context["entries"]] == ["一号指挥区"]


def test_a_reveal_is_located_where_its_subject_lives(tree):
    resident = Resident.objects.filter(grid=tree.grids[1]).first()
    personal_data_reveal(user=tree.users["street"], subject=resident, field="phone")
    entry = RevealLog.objects.get()
    assert (entry.grid_id, entry.unit_id) == (resident.grid_id, resident.unit_id)
    # so a grid-level admin of the first grid sees none of it, by that one column
    admin_of_first = login("grid_admin", "city_admin", tree.grids[0])
    assert client_for(admin_of_first).get(reverse("accounts:reveal_log")).context["entries"] == []
    assert (
        len(client_for(tree.users["admin"]).get(reverse("accounts:reveal_log")).context["entries"])
        == 1
    )
