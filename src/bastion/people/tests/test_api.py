"""The people API on the small known tree: persons, posts (assign, end, refusals naming the
holder), vacancies, idempotent retries, and the scope."""

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client

from bastion.accounts.models import RevealLog
from bastion.accounts.services import token_issue
from bastion.core.models import ChangeLog
from bastion.geo.models import Household
from bastion.people import services
from bastion.people.models import Person, Post

API = "/api/v1/people"
JSON = "application/json"


def as_user(user) -> Client:
    return Client(headers={"authorization": f"Bearer {token_issue(user=user)}"})


def home_in(unit) -> Household:
    return Household.objects.filter(unit=unit).order_by("room").first()


@dataclass
class Staff:
    grid_chief: Post  # of grids[0], person 张网格 living in units[0]
    building_chief: Post  # of buildings[0]
    other_chief: Post  # building chief of buildings[2] (grids[1]), person 李楼长
    spare: Person  # lives in units[1], holds nothing


@pytest.fixture
def staff(tree) -> Staff:
    admin = tree.users["admin"]
    u = tree.units

    def person(name, phone, unit):
        return services.person_create(name=name, kind="cadre", phone=phone, home=home_in(unit))

    zhang = person("张网格", "13900000001", u[0])
    wang = person("王楼长", "13900000002", u[0])
    li = person("李楼长", "13900000003", u[4])
    return Staff(
        grid_chief=services.post_assign(
            person=zhang,
            role="grid_chief",
            node=tree.grids[0],
            started_on=dt.date(2022, 3, 1),
            actor=admin,
        ),
        building_chief=services.post_assign(
            person=wang,
            role="building_chief",
            node=tree.buildings[0],
            started_on=dt.date(2022, 3, 2),
            actor=admin,
        ),
        other_chief=services.post_assign(
            person=li,
            role="building_chief",
            node=tree.buildings[2],
            started_on=dt.date(2022, 3, 3),
            actor=admin,
        ),
        spare=person("赵备用", "13900000004", u[1]),
    )


@pytest.fixture
def grid(tree) -> Client:
    return as_user(tree.users["grid"])


def post_json(post: Post, place: str) -> dict:
    return {
        "id": post.pk,
        "role": post.role,
        "role_label": str(post.get_role_display()),
        "person": {
            "id": post.person_id,
            "name": post.person.name,
            # A five chief's number is on the building notice; anyone else's is masked.
            "phone": post.person.phone
            if post.role in ("street_chief", "grid_chief", "building_chief", "unit_chief")
            else post.person.phone[:3] + "****" + post.person.phone[-4:],
        },
        "node": {"id": post.node_id, "name": post.node.name, "level": post.node.level},
        "zone_id": None,
        "title": "",
        "started_on": post.started_on.isoformat(),
        "ended_on": None,
        "place": place,
        "client_id": None,
    }


# --- persons --------------------------------------------------------------------------------


def test_persons_in_scope(tree, staff, grid):
    response = grid.get(f"{API}/persons")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [(p["name"], p["phone"], p["place"]) for p in body["items"]] == [
        ("张网格", "139****0001", "网格1-1 › 111号楼 › 1单元"),
        ("王楼长", "139****0002", "网格1-1 › 111号楼 › 1单元"),
        ("赵备用", "139****0004", "网格1-1 › 111号楼 › 2单元"),
    ]
    assert body["items"][0]["can_reveal"] is True
    assert [p["name"] for p in grid.get(f"{API}/persons", {"q": "楼长"}).json()["items"]] == [
        "王楼长"
    ]
    assert [p["name"] for p in grid.get(f"{API}/persons", {"q": "0004"}).json()["items"]] == [
        "赵备用"
    ]
    page = grid.get(f"{API}/persons", {"limit": 1, "offset": 1}).json()
    assert (page["count"], [p["name"] for p in page["items"]]) == (3, ["王楼长"])
    assert grid.get(f"{API}/persons", {"node": tree.grids[1].pk}).status_code == 404
    street = as_user(tree.users["street"]).get(f"{API}/persons", {"node": tree.grids[1].pk}).json()
    assert [p["name"] for p in street["items"]] == ["李楼长"]


def test_person_detail_with_current_posts(tree, staff, grid):
    person = staff.building_chief.person
    body = grid.get(f"{API}/persons/{person.pk}").json()
    assert (body["name"], body["kind"], body["id_number"], body["home_household_id"]) == (
        "王楼长",
        "cadre",
        "",
        home_in(tree.units[0]).pk,
    )
    assert body["posts"] == [post_json(staff.building_chief, "网格1-1 › 111号楼")]
    assert grid.get(f"{API}/persons/{staff.other_chief.person_id}").status_code == 404


def test_person_reveal_is_logged(tree, staff, grid):
    person = staff.spare
    response = grid.post(f"{API}/persons/{person.pk}/reveal", {"field": "phone"}, content_type=JSON)
    assert response.json() == {"field": "phone", "value": "13900000004"}
    assert list(RevealLog.objects.values_list("subject_type", "subject_id", "via")) == [
        ("person", person.pk, "api")
    ]
    assert (
        grid.post(
            f"{API}/persons/{staff.other_chief.person_id}/reveal",
            {"field": "phone"},
            content_type=JSON,
        ).status_code
        == 404
    )
    assert (
        as_user(tree.users["volunteer"])
        .post(f"{API}/persons/{person.pk}/reveal", {"field": "phone"}, content_type=JSON)
        .status_code
        == 403
    )
    assert RevealLog.objects.count() == 1


def test_create_person(tree, grid):
    home = home_in(tree.units[1])
    payload = {
        "name": "新志愿者",
        "kind": "volunteer",
        "phone": "13700000001",
        "home_household_id": home.pk,
        "client_id": str(uuid.uuid4()),
    }
    first = grid.post(f"{API}/persons", payload, content_type=JSON)
    again = grid.post(f"{API}/persons", payload, content_type=JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    person = Person.objects.get(name="新志愿者")
    assert (person.kind, person.home_id, person.unit_id, str(person.client_id)) == (
        "volunteer",
        home.pk,
        tree.units[1].pk,
        payload["client_id"],
    )
    assert ChangeLog.objects.get(object_type="people.person", object_id=person.pk).source == ("api")


def test_create_person_refusals(tree, grid):
    bad = grid.post(
        f"{API}/persons", {"name": "", "kind": "cadre", "phone": "1"}, content_type=JSON
    )
    assert bad.status_code == 422
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["home", "name", "phone"]
    kind = grid.post(
        f"{API}/persons",
        {"name": "x", "kind": "wizard", "phone": "13700000001", "node_id": tree.grids[0].pk},
        content_type=JSON,
    )
    assert [e["field"] for e in kind.json()["errors"]] == ["kind"]
    theirs = grid.post(
        f"{API}/persons",
        {
            "name": "x",
            "kind": "cadre",
            "phone": "13700000001",
            "home_household_id": home_in(tree.units[4]).pk,
        },
        content_type=JSON,
    )
    assert theirs.status_code == 404
    volunteer = as_user(tree.users["volunteer"]).post(
        f"{API}/persons",
        {"name": "x", "kind": "cadre", "phone": "13700000001", "node_id": tree.grids[0].pk},
        content_type=JSON,
    )
    assert volunteer.status_code == 403
    assert not Person.objects.exists()


# --- posts ----------------------------------------------------------------------------------


def test_current_posts_in_scope(tree, staff, grid):
    body = grid.get(f"{API}/posts").json()
    assert body == {
        "count": 2,
        "items": [
            post_json(staff.grid_chief, "网格1-1"),
            post_json(staff.building_chief, "网格1-1 › 111号楼"),
        ],
    }
    assert grid.get(f"{API}/posts", {"node": tree.buildings[0].pk}).json()["count"] == 1
    assert grid.get(f"{API}/posts", {"role": "grid_chief"}).json()["count"] == 1
    assert grid.get(f"{API}/posts", {"q": "王"}).json()["count"] == 1
    assert grid.get(f"{API}/posts", {"node": tree.grids[1].pk}).status_code == 404
    assert grid.get(f"{API}/posts/{staff.building_chief.pk}").json() == post_json(
        staff.building_chief, "网格1-1 › 111号楼"
    )
    assert grid.get(f"{API}/posts/{staff.other_chief.pk}").status_code == 404
    street = as_user(tree.users["street"]).get(f"{API}/posts").json()
    assert street["count"] == 3


def test_assign_a_post(tree, staff, grid):
    payload = {
        "person_id": staff.spare.pk,
        "role": "unit_chief",
        "node_id": tree.units[1].pk,
        "title": "",
        "started_on": "2022-04-01",
        "client_id": str(uuid.uuid4()),
    }
    first = grid.post(f"{API}/posts", payload, content_type=JSON)
    assert first.status_code == 201
    post = Post.objects.get(pk=first.json()["id"])
    assert (post.person_id, post.role, post.node_id, post.started_on, post.unit_id) == (
        staff.spare.pk,
        "unit_chief",
        tree.units[1].pk,
        dt.date(2022, 4, 1),
        tree.units[1].pk,
    )
    again = grid.post(f"{API}/posts", payload, content_type=JSON)
    assert (again.status_code, again.json()) == (200, first.json())
    assert Post.objects.filter(role="unit_chief").count() == 1
    assert ChangeLog.objects.filter(object_type="people.post", object_id=post.pk).count() == 1
    vacancies = grid.get(f"{API}/nodes/{tree.grids[0].pk}/vacancies").json()
    assert [lv["held"] for lv in vacancies["levels"]] == [1, 1, 1]


def test_a_held_post_is_refused_with_409_naming_the_holder(tree, staff, grid):
    payload = {
        "person_id": staff.spare.pk,
        "role": "building_chief",
        "node_id": tree.buildings[0].pk,
    }
    response = grid.post(f"{API}/posts", payload, content_type=JSON)
    assert response.status_code == 409
    [problem] = response.json()["errors"]
    assert problem["field"] == "role" and "王楼长" in problem["message"]
    assert Post.objects.filter(node=tree.buildings[0]).count() == 1


def test_a_post_that_does_not_fit_the_node_is_422(tree, staff, grid):
    wrong_level = grid.post(
        f"{API}/posts",
        {"person_id": staff.spare.pk, "role": "unit_chief", "node_id": tree.buildings[1].pk},
        content_type=JSON,
    )
    assert wrong_level.status_code == 422
    assert [e["field"] for e in wrong_level.json()["errors"]] == ["node"]
    unknown = grid.post(
        f"{API}/posts",
        {"person_id": staff.spare.pk, "role": "king", "node_id": tree.units[1].pk},
        content_type=JSON,
    )
    assert [e["field"] for e in unknown.json()["errors"]] == ["role"]
    assert Post.objects.count() == 3


def test_assign_outside_the_scope_or_as_a_volunteer(tree, staff, grid):
    their_node = {"person_id": staff.spare.pk, "role": "unit_chief", "node_id": tree.units[4].pk}
    assert grid.post(f"{API}/posts", their_node, content_type=JSON).status_code == 404
    their_person = {
        "person_id": staff.other_chief.person_id,
        "role": "unit_chief",
        "node_id": tree.units[1].pk,
    }
    assert grid.post(f"{API}/posts", their_person, content_type=JSON).status_code == 404
    mine = {"person_id": staff.spare.pk, "role": "unit_chief", "node_id": tree.units[1].pk}
    volunteer = as_user(tree.users["volunteer"])
    assert volunteer.post(f"{API}/posts", mine, content_type=JSON).status_code == 403
    assert Post.objects.count() == 3


def test_end_a_post(tree, staff, grid):
    post = staff.building_chief
    url = f"{API}/posts/{post.pk}/end"
    response = grid.post(url, {}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["ended_on"] == dt.date.today().isoformat()
    post.refresh_from_db()
    assert post.ended_on == dt.date.today()
    # Retried: the same answer, nothing written again.
    assert grid.post(url, {}, content_type=JSON).json() == response.json()
    assert ChangeLog.objects.filter(object_id=post.pk, action="update").count() == 1
    # Ending it on another day is a conflict.
    other_day = grid.post(url, {"ended_on": "2023-01-01"}, content_type=JSON)
    assert other_day.status_code == 409
    assert [e["field"] for e in other_day.json()["errors"]] == ["ended_on"]
    # The building's chief post is vacant again and can be given to someone else.
    assert (
        grid.post(
            f"{API}/posts",
            {
                "person_id": staff.spare.pk,
                "role": "building_chief",
                "node_id": tree.buildings[0].pk,
            },
            content_type=JSON,
        ).status_code
        == 201
    )


def test_end_refusals(tree, staff, grid):
    before_start = grid.post(
        f"{API}/posts/{staff.grid_chief.pk}/end", {"ended_on": "2020-01-01"}, content_type=JSON
    )
    assert before_start.status_code == 422
    assert [e["field"] for e in before_start.json()["errors"]] == ["ended_on"]
    assert (
        grid.post(f"{API}/posts/{staff.other_chief.pk}/end", {}, content_type=JSON).status_code
        == 404
    )
    assert (
        as_user(tree.users["volunteer"])
        .post(f"{API}/posts/{staff.grid_chief.pk}/end", {}, content_type=JSON)
        .status_code
        == 403
    )
    assert not Post.objects.filter(ended_on__isnull=False).exists()


# --- vacancies ------------------------------------------------------------------------------


def test_vacancies_of_a_grid(tree, staff, grid):
    response = grid.get(f"{API}/nodes/{tree.grids[0].pk}/vacancies")
    assert response.status_code == 200
    body = response.json()
    assert body["node"] == {"id": tree.grids[0].pk, "name": "网格1-1", "level": "grid"}
    summary = [
        (
            lv["level"],
            lv["role"],
            lv["expected"],
            lv["held"],
            lv["vacant"],
            lv["not_listed"],
            [n["name"] for n in lv["nodes"]],
        )
        for lv in body["levels"]
    ]
    assert summary == [
        ("grid", "grid_chief", 1, 1, 0, 0, []),
        ("building", "building_chief", 2, 1, 1, 0, ["112号楼"]),
        ("unit", "unit_chief", 4, 0, 4, 0, ["1单元", "2单元", "1单元", "2单元"]),
    ]
    assert body["levels"][2]["nodes"][2]["place"] == "网格1-1 › 112号楼 › 1单元"
    assert body["zones_without_commander"] == []
    limited = grid.get(f"{API}/nodes/{tree.grids[0].pk}/vacancies", {"limit": 1}).json()
    assert [(lv["vacant"], lv["not_listed"]) for lv in limited["levels"]] == [
        (0, 0),
        (1, 0),
        (4, 3),
    ]
    assert grid.get(f"{API}/nodes/{tree.grids[1].pk}/vacancies").status_code == 404


def test_vacancies_of_the_street(tree, staff):
    body = as_user(tree.users["street"]).get(f"{API}/nodes/{tree.street.pk}/vacancies").json()
    assert [(lv["level"], lv["expected"], lv["held"]) for lv in body["levels"]] == [
        ("street", 1, 0),
        ("grid", 4, 1),
        ("building", 8, 2),
        ("unit", 16, 0),
    ]
