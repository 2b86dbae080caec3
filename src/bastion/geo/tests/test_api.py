"""The geo API on the small known tree (bastion.core.testing): exact figures, masking, reveal
logging, problem lists that name the field, idempotent retries, and the scope."""

import datetime as dt
import uuid

import pytest
from django.test import Client

from bastion.core.models import ChangeLog
from bastion.geo import services
from bastion.geo.identity import make_id_number
from bastion.geo.models import Household, Resident, aged_cutoff

API = "/api/v1/geo"
JSON = "application/json"
NO_FLAGS = {"immobile": 0, "disabled": 0, "chronic_illness": 0, "pregnant": 0, "infant": 0}


def birth(seq: int) -> dt.date:
    """The birth date the small tree gives resident number `seq` (1-based)."""
    return dt.date(1940 + seq % 60, 1 + seq % 12, 1 + seq % 28)


def aged(seqs) -> int:
    return sum(1 for s in seqs if birth(s) <= aged_cutoff())


def counts(households: int, seqs) -> dict:
    return {"households": households, "residents": len(seqs), "aged": aged(seqs), **NO_FLAGS}


GRID0 = range(1, 33)  # residents 居民1..居民32 live in grids[0], 33..64 in grids[1]


@pytest.fixture
def grid(tree, api_as) -> Client:
    return api_as(tree.users["grid"])


def node_json(node, parent, households, seqs) -> dict:
    return {
        "id": node.pk,
        "name": node.name,
        "level": node.level,
        "code": node.code,
        "floors": node.floors,
        "parent_id": parent.pk,
        "counts": counts(households, seqs),
    }


# --- nodes ----------------------------------------------------------------------------------


def test_roots_are_the_callers_role_nodes_with_counts(tree, grid, api_as):
    assert grid.get(f"{API}/nodes").json() == [
        node_json(tree.grids[0], tree.communities[0], 16, GRID0)
    ]
    street = api_as(tree.users["street"]).get(f"{API}/nodes").json()
    assert street == [node_json(tree.street, tree.district, 64, range(1, 129))]
    assert api_as(tree.users["nobody"]).get(f"{API}/nodes").json() == []


def test_a_node_with_counts_ancestors_and_descendants(tree, grid, api_as):
    response = grid.get(f"{API}/nodes/{tree.grids[0].pk}")
    assert response.status_code == 200
    assert response.json() == {
        **node_json(tree.grids[0], tree.communities[0], 16, GRID0),
        "ancestors": [],  # the grid chief sees nothing above the grid
        "descendants": {"building": 2, "unit": 4},
        "can_change": True,
    }
    street = api_as(tree.users["street"]).get(f"{API}/nodes/{tree.grids[0].pk}").json()
    assert [a["name"] for a in street["ancestors"]] == ["测试街道", "社区1"]


def test_children_with_counts(tree, grid):
    response = grid.get(f"{API}/nodes/{tree.grids[0].pk}/children")
    assert response.json() == [
        node_json(tree.buildings[0], tree.grids[0], 8, range(1, 17)),
        node_json(tree.buildings[1], tree.grids[0], 8, range(17, 33)),
    ]
    units = grid.get(f"{API}/nodes/{tree.units[0].pk}/children").json()
    assert units == []  # a unit has no child nodes


def test_nodes_outside_the_scope_are_404(tree, grid):
    for node in (tree.grids[1], tree.buildings[2], tree.street):
        assert grid.get(f"{API}/nodes/{node.pk}").status_code == 404
        assert grid.get(f"{API}/nodes/{node.pk}/children").status_code == 404
    missing = grid.get(f"{API}/nodes/999999", headers={"accept-language": "en"})
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "detail": "Not found.",
            "errors": [{"field": "node_id", "message": "No such node, or not in your area."}],
        },
    )


def test_building_grid_draws_units_by_floors(tree, grid):
    building = tree.buildings[0]
    response = grid.get(f"{API}/buildings/{building.pk}/grid")
    assert response.status_code == 200
    body = response.json()
    assert body["building"] == {"id": building.pk, "name": "111号楼", "level": "building"}
    assert [u["name"] for u in body["units"]] == ["1单元", "2单元"]
    assert body["floors"] == [2, 1]
    cells = {
        (c["unit_id"], c["floor"]): [(h["room"], h["residents"]) for h in c["households"]]
        for c in body["cells"]
    }
    u1, u2 = tree.units[0].pk, tree.units[1].pk
    assert cells == {
        (u1, 1): [("101", 2), ("102", 2)],
        (u1, 2): [("201", 2), ("202", 2)],
        (u2, 1): [("101", 2), ("102", 2)],
        (u2, 2): [("201", 2), ("202", 2)],
    }
    assert grid.get(f"{API}/buildings/{tree.grids[0].pk}/grid").status_code == 404  # not one
    assert grid.get(f"{API}/buildings/{tree.buildings[2].pk}/grid").status_code == 404


# --- residents ------------------------------------------------------------------------------


def test_search_by_name_in_scope_masked(tree, grid):
    found = grid.get(f"{API}/residents", {"q": "居民1"}).json()
    assert [r["name"] for r in found] == ["居民1", *[f"居民{n}" for n in range(10, 20)]]
    first = found[0]
    resident = Resident.objects.get(name="居民1")
    assert first["id_number"] == resident.id_number[:4] + "*" * 10 + resident.id_number[-4:]
    assert first["phone"] == "138****0001"
    assert first["can_reveal"] is True
    assert resident.id_number not in str(found) and "13800000001" not in str(found)
    # Residents of the other grid are not found, however they are asked for.
    assert grid.get(f"{API}/residents", {"q": "居民33"}).json() == []
    assert grid.get(f"{API}/residents", {"q": "13800000033"}).json() == []


def test_search_by_last_digits(tree, grid):
    assert [r["name"] for r in grid.get(f"{API}/residents", {"q": "13800000005"}).json()] == [
        "居民5"
    ]
    tail = Resident.objects.get(name="居民7").id_number[-6:]
    expected = sorted(
        (r.name, r.pk)
        for r in Resident.objects.filter(grid=tree.grids[0])
        if r.id_number.endswith(tail) or r.phone.endswith(tail)
    )
    found = grid.get(f"{API}/residents", {"q": tail}).json()
    assert [(r["name"], r["id"]) for r in found] == expected
    assert grid.get(f"{API}/residents", {"q": "  "}).json() == []
    assert grid.get(f"{API}/residents").status_code == 422  # q is required


def test_resident_detail(tree, grid):
    resident = Resident.objects.select_related("household").get(name="居民3")
    response = grid.get(f"{API}/residents/{resident.pk}")
    assert response.status_code == 200
    today = dt.date.today()
    b = birth(3)
    assert response.json() == {
        "id": resident.pk,
        "name": "居民3",
        "sex": resident.sex,
        "age": today.year - b.year - ((today.month, today.day) < (b.month, b.day)),
        "aged": b <= aged_cutoff(),
        "id_number": resident.id_number[:4] + "*" * 10 + resident.id_number[-4:],
        "phone": "138****0003",
        "doc_kind": "id_card",
        "doc_number": "",
        "guardian_id": None,
        "no_phone": False,
        "registered_address": "",
        "relation": "head",
        "presence": "home",
        "immobile": False,
        "disabled": False,
        "chronic_illness": False,
        "pregnant": False,
        "infant": False,
        "household": {"id": resident.household_id, "room": "102", "floor": 1},
        "unit_id": tree.units[0].pk,
        "building_id": tree.buildings[0].pk,
        "grid_id": tree.grids[0].pk,
        "can_reveal": True,
        "client_id": None,
    }
    other = Resident.objects.get(name="居民40")
    assert grid.get(f"{API}/residents/{other.pk}").status_code == 404


def test_reveal_shows_the_full_number_and_logs_it(tree, grid, reveal_log):
    resident = Resident.objects.get(name="居民2")
    response = grid.post(
        f"{API}/residents/{resident.pk}/reveal", {"field": "id_number"}, content_type=JSON
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": resident.id_number}
    phone = grid.post(
        f"{API}/residents/{resident.pk}/reveal", {"field": "phone"}, content_type=JSON
    )
    assert phone.json() == {"field": "phone", "value": "13800000002"}
    log = list(
        reveal_log.objects.order_by("id").values_list(
            "user__username", "subject_type", "subject_id", "subject_name", "field", "via"
        )
    )
    assert log == [
        ("grid", "resident", resident.pk, "居民2", "id_number", "api"),
        ("grid", "resident", resident.pk, "居民2", "phone", "api"),
    ]


def test_reveal_refusals_log_nothing(tree, grid, reveal_log, api_as):
    mine = Resident.objects.get(name="居民2")
    theirs = Resident.objects.get(name="居民34")
    bad_field = grid.post(f"{API}/residents/{mine.pk}/reveal", {"field": "name"}, content_type=JSON)
    assert bad_field.status_code == 422
    assert [e["field"] for e in bad_field.json()["errors"]] == ["field"]
    assert (
        grid.post(
            f"{API}/residents/{theirs.pk}/reveal", {"field": "phone"}, content_type=JSON
        ).status_code
        == 404
    )
    # Roles that do not need full numbers may not see them.
    for role in ("volunteer", "building"):
        refused = api_as(tree.users[role]).post(
            f"{API}/residents/{mine.pk}/reveal", {"field": "phone"}, content_type=JSON
        )
        assert refused.status_code == 403
        assert "detail" in refused.json()
    assert not reveal_log.objects.exists()
    found = api_as(tree.users["volunteer"]).get(f"{API}/residents/{mine.pk}").json()
    assert found["can_reveal"] is False and found["phone"] == "138****0002"


def new_resident(**overrides) -> dict:
    return {
        "name": "新居民",
        "id_number": make_id_number("220421", dt.date(1990, 5, 6), 901),
        "phone": "139 1234 5678",
        "relation": "child",
        "immobile": True,
    } | overrides


def test_create_resident(tree, grid):
    household = Household.objects.get(unit=tree.units[0], room="101")
    response = grid.post(
        f"{API}/households/{household.pk}/residents", new_resident(), content_type=JSON
    )
    assert response.status_code == 201
    body = response.json()
    resident = Resident.objects.get(pk=body["id"])
    assert (
        resident.name,
        resident.phone,
        resident.relation,
        resident.immobile,
        resident.birth_date,
        resident.sex,
    ) == ("新居民", "13912345678", "child", True, dt.date(1990, 5, 6), "M")
    assert (resident.grid_id, resident.unit_id) == (tree.grids[0].pk, tree.units[0].pk)
    assert body["phone"] == "139****5678" and body["household"]["room"] == "101"
    entry = ChangeLog.objects.get(object_type="geo.resident", object_id=resident.pk)
    assert (entry.action, entry.source, entry.actor) == ("create", "api", tree.users["grid"])
    assert grid.get(f"{API}/nodes/{tree.grids[0].pk}").json()["counts"]["immobile"] == 1


def test_create_resident_lists_every_bad_field_and_writes_nothing(tree, grid):
    household = Household.objects.get(unit=tree.units[0], room="101")
    url = f"{API}/households/{household.pk}/residents"
    before = (Resident.objects.count(), ChangeLog.objects.count())

    bad = new_resident(name=" ", id_number="220421199005069010", phone="12345")
    response = grid.post(url, bad, content_type=JSON)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert sorted(e["field"] for e in errors) == ["id_number", "name", "phone"]
    assert all(e["message"] for e in errors)

    taken = new_resident(id_number=Resident.objects.get(name="居民1").id_number)
    response = grid.post(url, taken, content_type=JSON)
    assert [e["field"] for e in response.json()["errors"]] == ["id_number"]

    # A body that does not fit the schema answers in the same shape.
    response = grid.post(url, new_resident(relation="cousin", id_number=None), content_type=JSON)
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["id_number", "relation"]
    assert (Resident.objects.count(), ChangeLog.objects.count()) == before


def test_create_resident_retried_with_its_client_id_writes_once(tree, grid):
    household = Household.objects.get(unit=tree.units[0], room="101")
    url = f"{API}/households/{household.pk}/residents"
    client_id = str(uuid.uuid4())
    first = grid.post(url, new_resident(client_id=client_id), content_type=JSON)
    again = grid.post(url, new_resident(client_id=client_id), content_type=JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["client_id"] == client_id
    assert Resident.objects.filter(name="新居民").count() == 1
    assert (
        ChangeLog.objects.filter(object_type="geo.resident", object_id=first.json()["id"]).count()
        == 1
    )
    # Without the client id the retry is a second registration of the same ID number: refused.
    dup = grid.post(url, new_resident(), content_type=JSON)
    assert dup.status_code == 422


def test_a_client_id_used_outside_the_scope_is_a_conflict(tree, grid, api_as):
    client_id = str(uuid.uuid4())
    theirs = Household.objects.get(unit=tree.units[4], room="101")
    other = api_as(tree.users["other_grid"])
    assert (
        other.post(
            f"{API}/households/{theirs.pk}/residents",
            new_resident(client_id=client_id),
            content_type=JSON,
        ).status_code
        == 201
    )
    mine = Household.objects.get(unit=tree.units[0], room="101")
    response = grid.post(
        f"{API}/households/{mine.pk}/residents",
        new_resident(client_id=client_id, name="别人"),
        content_type=JSON,
    )
    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == ["client_id"]
    assert "新居民" not in response.content.decode()


def test_create_resident_outside_the_scope_or_as_a_volunteer(tree, grid, api_as):
    theirs = Household.objects.get(unit=tree.units[4], room="101")
    mine = Household.objects.get(unit=tree.units[0], room="101")
    assert (
        grid.post(
            f"{API}/households/{theirs.pk}/residents", new_resident(), content_type=JSON
        ).status_code
        == 404
    )
    volunteer = api_as(tree.users["volunteer"])
    assert (
        volunteer.post(
            f"{API}/households/{mine.pk}/residents", new_resident(), content_type=JSON
        ).status_code
        == 403
    )
    assert not Resident.objects.filter(name="新居民").exists()


def test_update_resident(tree, grid):
    resident = Resident.objects.get(name="居民4")
    url = f"{API}/residents/{resident.pk}"
    change = {"presence": "away", "phone": "13912345678", "chronic_illness": True}
    response = grid.patch(url, change, content_type=JSON)
    assert response.status_code == 200
    assert (
        response.json()["presence"],
        response.json()["phone"],
        response.json()["chronic_illness"],
    ) == ("away", "139****5678", True)
    resident.refresh_from_db()
    assert (resident.presence, resident.phone, resident.name) == ("away", "13912345678", "居民4")
    entry = ChangeLog.objects.get(
        object_type="geo.resident", object_id=resident.pk, action="update"
    )
    assert entry.source == "api"
    assert entry.changes == {
        "phone": ["13800000004", "13912345678"],
        "presence": ["home", "away"],
        "chronic_illness": [False, True],
    }
    # The same change again changes nothing and records nothing.
    assert grid.patch(url, change, content_type=JSON).status_code == 200
    assert ChangeLog.objects.filter(object_id=resident.pk, action="update").count() == 1


def test_update_resident_refuses_bad_fields_and_changes_nothing(tree, grid):
    resident = Resident.objects.get(name="居民4")
    url = f"{API}/residents/{resident.pk}"
    response = grid.patch(url, {"phone": "123", "name": "", "presence": "home"}, content_type=JSON)
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["name", "phone"]
    response = grid.patch(url, {"presence": "abroad"}, content_type=JSON)
    assert [e["field"] for e in response.json()["errors"]] == ["presence"]
    resident.refresh_from_db()
    assert (resident.name, resident.phone, resident.presence) == ("居民4", "13800000004", "home")
    assert not ChangeLog.objects.filter(object_id=resident.pk, action="update").exists()


def test_move_resident(tree, grid):
    resident = Resident.objects.get(name="居民4")
    target = Household.objects.get(unit=tree.units[3], room="202")
    response = grid.patch(
        f"{API}/residents/{resident.pk}", {"household_id": target.pk}, content_type=JSON
    )
    assert response.status_code == 200
    resident.refresh_from_db()
    assert (resident.household_id, resident.unit_id, resident.building_id) == (
        target.pk,
        tree.units[3].pk,
        tree.buildings[1].pk,
    )
    # Not into another grid's household, and not out of a household.
    theirs = Household.objects.get(unit=tree.units[4], room="101")
    assert (
        grid.patch(
            f"{API}/residents/{resident.pk}", {"household_id": theirs.pk}, content_type=JSON
        ).status_code
        == 404
    )
    none = grid.patch(f"{API}/residents/{resident.pk}", {"household_id": None}, content_type=JSON)
    assert [e["field"] for e in none.json()["errors"]] == ["household_id"]
    resident.refresh_from_db()
    assert resident.household_id == target.pk


def test_update_outside_the_scope_or_as_a_volunteer(tree, grid, api_as):
    theirs = Resident.objects.get(name="居民40")
    mine = Resident.objects.get(name="居民4")
    assert (
        grid.patch(
            f"{API}/residents/{theirs.pk}", {"presence": "away"}, content_type=JSON
        ).status_code
        == 404
    )
    volunteer = api_as(tree.users["volunteer"])
    refused = volunteer.patch(f"{API}/residents/{mine.pk}", {"presence": "away"}, content_type=JSON)
    assert refused.status_code == 403
    assert Resident.objects.filter(presence="away").count() == 0


# --- households -----------------------------------------------------------------------------


def test_household_detail_with_residents(tree, grid):
    household = Household.objects.get(unit=tree.units[1], room="201")
    response = grid.get(f"{API}/households/{household.pk}")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "room", "floor", "grid_id", "client_id")} == {
        "id": household.pk,
        "room": "201",
        "floor": 2,
        "grid_id": tree.grids[0].pk,
        "client_id": None,
    }
    assert body["unit"] == {"id": tree.units[1].pk, "name": "2单元", "level": "unit"}
    assert body["building"]["id"] == tree.buildings[0].pk
    assert [(r["name"], r["relation"], r["phone"]) for r in body["residents"]] == [
        ("居民13", "head", "138****0013"),
        ("居民14", "spouse", "138****0014"),
    ]
    theirs = Household.objects.get(unit=tree.units[4], room="201")
    assert grid.get(f"{API}/households/{theirs.pk}").status_code == 404


def test_create_household_on_a_unit(tree, grid, api_as):
    url = f"{API}/units/{tree.units[0].pk}/households"
    response = grid.post(url, {"room": " 301 ", "floor": 3}, content_type=JSON)
    assert response.status_code == 201
    body = response.json()
    assert (body["room"], body["floor"], body["residents"]) == ("301", 3, [])
    household = Household.objects.get(pk=body["id"])
    assert (household.unit_id, household.grid_id) == (tree.units[0].pk, tree.grids[0].pk)
    assert ChangeLog.objects.get(object_type="geo.household", object_id=household.pk).source == (
        "api"
    )

    again = grid.post(url, {"room": "301", "floor": 3}, content_type=JSON)
    assert again.status_code == 422
    assert [e["field"] for e in again.json()["errors"]] == ["room"]
    on_building = grid.post(
        f"{API}/units/{tree.buildings[0].pk}/households",
        {"room": "9", "floor": 1},
        content_type=JSON,
    )
    assert [e["field"] for e in on_building.json()["errors"]] == ["unit"]
    assert (
        grid.post(
            f"{API}/units/{tree.units[4].pk}/households",
            {"room": "9", "floor": 1},
            content_type=JSON,
        ).status_code
        == 404
    )
    assert (
        api_as(tree.users["volunteer"])
        .post(url, {"room": "9", "floor": 1}, content_type=JSON)
        .status_code
        == 403
    )
    assert Household.objects.count() == 65


def test_create_household_retried_with_its_client_id_writes_once(tree, grid):
    url = f"{API}/units/{tree.units[0].pk}/households"
    payload = {"room": "301", "floor": 3, "client_id": str(uuid.uuid4())}
    first = grid.post(url, payload, content_type=JSON)
    again = grid.post(url, payload, content_type=JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert first.json()["client_id"] == payload["client_id"]
    assert Household.objects.filter(room="301").count() == 1
    assert (
        ChangeLog.objects.filter(object_type="geo.household", object_id=first.json()["id"]).count()
        == 1
    )


# --- command zones --------------------------------------------------------------------------


@pytest.fixture
def zones(tree):
    b = tree.buildings
    return [
        services.zone_create(
            street=tree.street, name="一区", kind="independent", buildings=[b[1], b[0]]
        ),
        services.zone_create(street=tree.street, name="二区", kind="joint", buildings=[b[4], b[6]]),
    ]


def test_zones_in_scope_with_buildings(tree, zones, api_as):
    street = api_as(tree.users["street"])
    b = tree.buildings
    ref = lambda n: {"id": n.pk, "name": n.name, "level": "building"}  # noqa: E731
    expected = [
        {
            "id": zones[0].pk,
            "name": "一区",
            "kind": "independent",
            "street_id": tree.street.pk,
            "buildings": [ref(b[0]), ref(b[1])],
        },
        {
            "id": zones[1].pk,
            "name": "二区",
            "kind": "joint",
            "street_id": tree.street.pk,
            "buildings": [ref(b[4]), ref(b[6])],
        },
    ]
    assert street.get(f"{API}/zones").json() == expected
    assert street.get(f"{API}/zones", {"node": tree.street.pk}).json() == expected
    assert street.get(f"{API}/zones", {"node": tree.grids[0].pk}).json() == []
    assert street.get(f"{API}/zones/{zones[1].pk}").json() == expected[1]


def test_zones_are_the_streets_so_a_grid_chief_sees_none(tree, zones, grid):
    assert grid.get(f"{API}/zones").json() == []
    assert grid.get(f"{API}/zones/{zones[0].pk}").status_code == 404
    assert grid.get(f"{API}/zones", {"node": tree.street.pk}).status_code == 404


def test_a_child_is_registered_over_the_api_under_a_guardian_in_scope(tree, grid):
    parent = Resident.objects.filter(grid=tree.grids[0]).order_by("pk").first()
    body = {
        "name": "小雨",
        "doc_kind": "none",
        "birth_date": (dt.date.today() - dt.timedelta(days=800)).isoformat(),
        "sex": "F",
        "relation": "child",
        "guardian_id": parent.pk,
    }
    made = grid.post(
        f"{API}/households/{parent.household_id}/residents", body, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    assert (made.json()["doc_kind"], made.json()["guardian_id"]) == ("none", parent.pk)
    outside = Resident.objects.get(name="居民40")  # another grid: not theirs to name
    body["guardian_id"] = outside.pk
    refused = grid.post(
        f"{API}/households/{parent.household_id}/residents", body, content_type="application/json"
    )
    assert refused.status_code == 404
    body.pop("guardian_id")
    missing = grid.post(
        f"{API}/households/{parent.household_id}/residents", body, content_type="application/json"
    )
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["guardian"]
