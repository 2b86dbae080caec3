"""Re-importing a ledger (issue 14 item 15): update mode matches rows by ID number, previews
each person's changes (numbers masked), applies them all or none through the job, each in the
person's history; a duplicate refused in create mode says where that person is registered,
if the importer may see it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.geo.models import Resident
from bastion.geo.services import resident_update
from bastion.ledgers import services
from bastion.ledgers.models import ImportJob
from bastion.ledgers.tests.ledger_files import good_rows, id_number, xlsx_bytes

PHONE, NAME, PRESENCE, ROOM, FLOOR = 2, 0, 10, 8, 9


def run(tree, rows, *, user="street", node=None, mode="update", confirmed=None):
    return services.residents_import(
        actor=tree.users[user],
        node=node or tree.street,
        filename="ledger.xlsx",
        content=xlsx_bytes(rows),
        mode=mode,
        confirmed=confirmed,
    )


@pytest.fixture
def registered(tree):
    """Three residents imported earlier from a ledger into grid 网格1-1, room 301."""
    rows = good_rows(3)
    run(tree, rows, mode="create")
    return rows


def edited(rows):
    rows = [list(r) for r in rows]
    rows[0][PHONE] = "13712345678"
    rows[0][NAME] = "导入零"
    rows[1][PRESENCE] = "外出"
    return rows


def test_preview_lists_each_change_masked_and_writes_nothing(tree, registered):
    before = list(Resident.objects.order_by("pk").values())
    result = run(tree, edited(registered))
    first = Resident.objects.get(id_number=id_number(0))
    second = Resident.objects.get(id_number=id_number(1))
    assert result.changes == [
        {
            "row": 2,
            "resident_id": first.pk,
            "name": "导入0",
            "changes": [
                {"field": "name", "old": "导入0", "new": "导入零"},
                {"field": "phone", "old": "139****0000", "new": "137****5678"},
            ],
        },
        {
            "row": 3,
            "resident_id": second.pk,
            "name": "导入1",
            "changes": [{"field": "presence", "old": "At home", "new": "Away"}],
        },
    ]
    assert list(Resident.objects.order_by("pk").values()) == before


def test_apply_writes_every_change_into_each_history(tree, registered):
    rows = edited(registered)
    rows[2][ROOM], rows[2][FLOOR] = "902", 9  # the third moves to a new room
    preview = run(tree, rows).changes
    result = run(tree, rows, confirmed=preview)
    assert result.households == 1
    first = Resident.objects.get(id_number=id_number(0))
    assert (first.name, first.phone) == ("导入零", "13712345678")
    assert Resident.objects.get(id_number=id_number(1)).presence == "away"
    moved = Resident.objects.get(id_number=id_number(2))
    assert moved.household.room == "902" and moved.household.floor == 9
    assert moved.unit_id == tree.units[0].pk
    logs = ChangeLog.objects.filter(source="import", action="update", object_type="geo.resident")
    assert logs.count() == 3
    entry = logs.get(object_id=first.pk)
    assert entry.actor == tree.users["street"]
    assert entry.changes == {"name": ["导入0", "导入零"], "phone": ["13900000000", "13712345678"]}
    assert [c["field"] for c in preview[2]["changes"]] == ["room"]
    assert preview[2]["changes"][0]["new"].endswith("111号楼 1单元 902")


def test_one_bad_row_names_row_and_field_and_writes_nothing(tree, registered):
    rows = edited(registered)
    rows[2][PHONE] = "12345"
    before = list(Resident.objects.order_by("pk").values())
    with pytest.raises(DomainError) as caught:
        run(tree, rows)
    assert [(p["row"], p["field"]) for p in caught.value.as_list()] == [(4, "phone")]
    assert list(Resident.objects.order_by("pk").values()) == before


def test_a_change_since_the_preview_refuses_the_whole_apply(tree, registered):
    rows = edited(registered)
    preview = run(tree, rows).changes
    second = Resident.objects.get(id_number=id_number(1))
    resident_update(resident=second, presence="moved_out")
    before = list(Resident.objects.order_by("pk").values())
    with pytest.raises(DomainError) as caught:
        run(tree, rows, confirmed=preview)
    assert caught.value.as_list()[0]["field"] == "file"
    assert list(Resident.objects.order_by("pk").values()) == before


def test_update_rows_must_find_a_resident_the_importer_may_change(tree, registered):
    rows = [list(r) for r in registered]
    rows[0][1] = id_number(500)  # nobody registered
    with pytest.raises(DomainError) as caught:
        run(tree, rows)
    assert [(p["row"], p["field"]) for p in caught.value.as_list()] == [(2, "id_number")]
    # the other grid's chief may not change grid 网格1-1's residents, and learns no address
    other = [list(r) for r in registered]
    for r in other:
        r[5], r[6] = "网格1-2", "121号楼"
    with pytest.raises(DomainError) as caught:
        run(tree, other, user="other_grid", node=tree.grids[1])
    messages = [p["message"] for p in caught.value.as_list()]
    assert len(messages) == 3 and all("outside your area" in m for m in messages), messages
    assert not any("111号楼" in m or "301" in m for m in messages)


def test_duplicate_in_create_mode_says_where_if_the_importer_may_see_it(tree, registered):
    with pytest.raises(DomainError) as caught:
        run(tree, registered[:1], mode="create", user="street")
    (problem,) = caught.value.as_list()
    assert problem["field"] == "id_number" and problem["row"] == 2
    assert "社区1 网格1-1 111号楼 1单元 301" in problem["message"]
    assert "update mode" in problem["message"]


def test_duplicate_in_create_mode_outside_scope_says_only_elsewhere(tree, registered):
    rows = [list(registered[0])]
    rows[0][5], rows[0][6] = "网格1-2", "121号楼"
    with pytest.raises(DomainError) as caught:
        run(tree, rows, mode="create", user="other_grid", node=tree.grids[1])
    (problem,) = caught.value.as_list()
    assert problem["field"] == "id_number"
    assert "elsewhere" in problem["message"]
    assert "网格1-1" not in problem["message"] and "301" not in problem["message"]


# --- through the job: the API and the page ----------------------------------------------------


@pytest.mark.usefixtures("immediate_tasks")
def test_api_update_preview_then_apply(tree, registered, api_as):
    api = api_as(tree.users["street"])
    upload = SimpleUploadedFile("again.xlsx", xlsx_bytes(edited(registered)))
    response = api.post(
        "/api/v1/ledgers/imports", {"node": tree.street.pk, "file": upload, "mode": "update"}
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["mode"], body["imported_rows"]) == ("preview", "update", 0)
    assert [c["name"] for c in body["changes"]] == ["导入0", "导入1"]
    phone = body["changes"][0]["changes"][1]
    assert (phone["field"], phone["old"], phone["new"]) == ("phone", "139****0000", "137****5678")
    assert Resident.objects.get(id_number=id_number(0)).name == "导入0"
    applied = api.post(f"/api/v1/ledgers/imports/{body['id']}/apply")
    assert applied.status_code == 202, applied.content
    assert (applied.json()["status"], applied.json()["imported_rows"]) == ("done", 2)
    assert Resident.objects.get(id_number=id_number(0)).name == "导入零"
    assert ImportJob.objects.get(pk=body["id"]).content == b""
    again = api.post(f"/api/v1/ledgers/imports/{body['id']}/apply")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "job"


@pytest.mark.usefixtures("immediate_tasks")
def test_page_update_preview_then_apply(tree, registered, client):
    client.force_login(tree.users["street"])
    upload = SimpleUploadedFile("again.xlsx", xlsx_bytes(edited(registered)))
    response = client.post(
        "/ledgers/import/", {"node": tree.street.pk, "file": upload, "mode": "update"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "137****5678" in page and "13712345678" not in page
    assert "导入零" in page
    job = ImportJob.objects.get()
    assert job.status == "preview"
    done = client.post(f"/ledgers/import/{job.pk}/apply/", follow=True).content.decode()
    job.refresh_from_db()
    assert job.status == "done" and job.imported_rows == 2
    assert Resident.objects.get(id_number=id_number(0)).name == "导入零"
    assert "导入零" in done
