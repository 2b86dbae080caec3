"""The residents import service, tested directly: the good files and a corpus of bad ones."""

import datetime as dt

import pytest

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.geo.identity import make_id_number
from bastion.geo.models import Household, Resident
from bastion.ledgers import services
from bastion.ledgers.tests.ledger_files import (
    HEADER,
    HEADER_EN,
    IDENTITY_HEADER,
    csv_bytes,
    good_rows,
    id_number,
    xlsx_bytes,
)

TREE_RESIDENTS = 128  # the small tree: 16 units × 4 households × 2 residents
TREE_HOUSEHOLDS = 64


def run(tree, content: bytes, *, filename="ledger.xlsx", node=None, user="street"):
    return services.residents_import(
        actor=tree.users[user], node=node or tree.street, filename=filename, content=content
    )


def problems_of(tree, content: bytes, **kw) -> list[dict]:
    with pytest.raises(DomainError) as caught:
        run(tree, content, **kw)
    assert Resident.objects.count() == TREE_RESIDENTS, "a rejected file imported something"
    assert Household.objects.count() == TREE_HOUSEHOLDS
    return caught.value.as_list()


# --- good files ------------------------------------------------------------------------------


def test_xlsx_imports_every_row_with_places_households_and_history(tree):
    rows = good_rows(30)
    result = run(tree, xlsx_bytes(rows))
    assert result == services.ImportResult(residents=30, households=10)
    imported = Resident.objects.filter(name__startswith="导入")
    assert imported.count() == 30
    first = imported.get(name="导入0")
    unit = tree.units[0]
    assert (
        first.city_id,
        first.district_id,
        first.street_id,
        first.community_id,
        first.grid_id,
        first.building_id,
        first.unit_id,
    ) == (
        tree.city.pk,
        tree.district.pk,
        tree.street.pk,
        tree.communities[0].pk,
        tree.grids[0].pk,
        tree.buildings[0].pk,
        unit.pk,
    )
    assert first.household.room == "301" and first.household.floor == 3
    assert first.household.unit_id == unit.pk and first.household.grid_id == tree.grids[0].pk
    assert first.relation == "head" and first.presence == "home" and first.phone == "13900000000"
    assert first.disabled and not imported.get(name="导入1").disabled
    assert imported.get(name="导入1").relation == "child"
    assert first.birth_date == dt.date(1950, 1, 1)
    logs = ChangeLog.objects.filter(source="import")
    assert logs.filter(object_type="geo.resident").count() == 30
    assert logs.filter(object_type="geo.household").count() == 10
    entry = logs.get(object_type="geo.resident", object_id=first.pk)
    assert entry.actor == tree.users["street"] and entry.action == "create"
    assert entry.changes["name"] == [None, "导入0"] and entry.grid_id == tree.grids[0].pk


def test_existing_room_gets_the_new_residents_without_a_new_household(tree):
    row = good_rows(1)[0]
    row[8], row[9] = "101", ""  # room 101 exists in 111号楼 1单元, floor may be left blank
    result = run(tree, xlsx_bytes([row]))
    assert result == services.ImportResult(residents=1, households=0)
    household = Resident.objects.get(name="导入0").household
    assert household.residents.count() == 3 and household.floor == 1


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_utf8_with_and_without_bom_and_gb18030(tree, encoding):
    result = run(tree, csv_bytes(good_rows(12), encoding=encoding), filename="台账.csv")
    assert result.residents == 12
    assert Resident.objects.filter(name="导入7").exists()
    assert ChangeLog.objects.filter(source="import", object_type="geo.resident").count() == 12


def test_english_headers_any_order_extra_columns_and_a_title_row(tree):
    rows = good_rows(6)
    header = ["No.", *reversed(HEADER_EN), "备注"]
    content = xlsx_bytes([[n, *reversed(r), "x"] for n, r in enumerate(rows)], header, title_rows=1)
    assert run(tree, content).residents == 6


def test_cells_as_written_in_real_ledgers(tree):
    """Codes and short names for places, full-width digits, 是/否 spelled otherwise, numbers
    for phone, room and floor."""
    row = good_rows(1)[0]
    row[2] = 13900000000
    row[3] = "儿子"
    row[4:8] = ["C1", "网格1-1", "111", "1"]
    row[8], row[9] = 501, "5楼"
    row[1] = row[1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    row[11] = "√"
    assert run(tree, xlsx_bytes([row])).residents == 1
    r = Resident.objects.get(name="导入0")
    assert (r.relation, r.phone, r.immobile, r.household.room, r.household.floor) == (
        "child",
        "13900000000",
        True,
        "501",
        5,
    )


def test_import_into_a_grid_takes_rows_of_that_grid(tree):
    assert run(tree, xlsx_bytes(good_rows(4)), node=tree.grids[0], user="grid").residents == 4


# --- the bad-file corpus ---------------------------------------------------------------------


def test_bad_checksum_names_the_row_and_column(tree):
    rows = good_rows(5)
    rows[2][1] = rows[2][1][:-1] + ("0" if rows[2][1][-1] != "0" else "1")
    assert problems_of(tree, xlsx_bytes(rows)) == [
        {"row": 4, "field": "id_number", "message": "ID number fails the GB 11643 checksum."}
    ]


def test_missing_and_wrong_headers_name_each_missing_column(tree):
    header = ["名字", *HEADER[1:5], "格子", *HEADER[6:]]
    problems = problems_of(tree, xlsx_bytes(good_rows(3), header))
    assert [(p["row"], p["field"]) for p in problems] == [(1, "name"), (1, "grid")]
    assert "姓名" in problems[0]["message"] and "网格" in problems[1]["message"]


def test_a_column_given_twice_is_refused(tree):
    problems = problems_of(
        tree, csv_bytes([r + ["x"] for r in good_rows(2)], [*HEADER, "姓名"]), filename="a.csv"
    )
    assert [(p["row"], p["field"]) for p in problems] == [(1, "name")]


@pytest.mark.parametrize(
    "content",
    [b"", b"   \r\n", "\ufeff".encode(), b",,,\r\n,,\r\n"],
    ids=["zero-bytes", "blank", "bom-only", "empty-cells"],
)
def test_empty_csv(tree, content):
    assert problems_of(tree, content, filename="x.csv") == [
        {"field": "file", "message": "The file is empty."}
    ]


def test_empty_xlsx_and_header_only(tree):
    assert problems_of(tree, xlsx_bytes([], None))[0]["message"] == "The file is empty."
    assert problems_of(tree, xlsx_bytes([])) == [
        {"row": 1, "field": "file", "message": "The file has a header row but no data rows."}
    ]


def test_not_a_spreadsheet(tree):
    problems = problems_of(tree, b"PK\x03\x04 this is no zip", filename="x.xlsx")
    assert problems[0]["field"] == "file" and "could not be read" in problems[0]["message"]
    problems = problems_of(tree, b"\xff\xfe\x00garbage\x81\x00", filename="x.csv")
    assert "neither UTF-8 nor GB18030" in problems[0]["message"]


def test_unknown_unit_names_the_level_that_is_unknown(tree):
    rows = good_rows(5)
    rows[0][7] = "9单元"
    rows[1][6] = "999号楼"
    rows[2][4] = "无此社区"
    rows[3][5] = "网格2-1"  # a grid of the other community
    rows[4][4] = ""
    problems = problems_of(tree, xlsx_bytes(rows))
    assert [(p["row"], p["field"]) for p in problems] == [
        (2, "unit"),
        (3, "building"),
        (4, "community"),
        (5, "grid"),
        (6, "community"),
    ]
    assert problems[0]["message"] == "No unit 9单元 in 111号楼."


def test_unit_outside_the_target_node_is_unknown(tree):
    rows = good_rows(2, places=[("社区1", "网格1-2", "121号楼", "1单元")])
    problems = problems_of(tree, xlsx_bytes(rows), node=tree.grids[0], user="grid")
    assert [(p["row"], p["field"]) for p in problems] == [(2, "grid"), (3, "grid")]


def test_duplicate_id_in_the_file_names_every_row(tree):
    rows = good_rows(6)
    rows[4][1] = rows[1][1]
    rows[5][1] = rows[1][1]
    problems = problems_of(tree, xlsx_bytes(rows))
    assert [(p["row"], p["field"], p["message"]) for p in problems] == [
        (3, "id_number", "The same ID number is on row 6, 7."),
        (6, "id_number", "The same ID number is on row 3, 7."),
        (7, "id_number", "The same ID number is on row 3, 6."),
    ]


def test_id_already_registered(tree):
    rows = good_rows(3)
    rows[1][1] = Resident.objects.order_by("id").first().id_number
    assert problems_of(tree, xlsx_bytes(rows)) == [
        {
            "row": 3,
            "field": "id_number",
            "message": "ID number is already registered, at 社区1 网格1-1 111号楼 1单元 101. "
            "To change this person's details, import the file in update mode.",
        }
    ]


def test_bad_phone_missing_name_and_every_other_problem_of_a_row(tree):
    rows = good_rows(4)
    rows[0][2] = "1234"
    rows[1][0] = ""
    rows[2][3] = "邻居"
    rows[2][10] = "出差"
    rows[2][12] = "也许"
    rows[3][1] = 2.20421194001011e17  # Excel kept it as a number
    rows[3][9] = "顶楼"
    problems = problems_of(tree, xlsx_bytes(rows))
    assert [(p["row"], p["field"]) for p in problems] == [
        (2, "phone"),
        (3, "name"),
        (4, "relation"),
        (4, "presence"),
        (4, "disabled"),
        (5, "id_number"),
        (5, "floor"),
    ]
    assert problems[1]["message"] == "Name is required."
    assert "15 digits" in problems[5]["message"]


def test_floors_must_agree_and_a_new_room_needs_one(tree):
    rows = good_rows(4)  # rows 0-2 share room 301, row 3 is in room 301 of the next unit
    rows[1][9] = 4
    rows[3][9] = ""
    extra = good_rows(1, start=90)[0]
    extra[8], extra[9] = "101", 2  # 101 of 111号楼 1单元 is on floor 1
    problems = problems_of(tree, xlsx_bytes([*rows, extra]))
    assert [(p["row"], p["field"]) for p in problems] == [(3, "floor"), (5, "floor"), (6, "floor")]
    assert problems[2]["message"] == "Room 101 of this unit is on floor 1, not 2."


def test_too_many_rows(tree, settings):
    settings.BASTION_IMPORT_MAX_ROWS = 10
    problems = problems_of(tree, xlsx_bytes(good_rows(11)))
    assert problems[0]["field"] == "file" and "11 rows" in problems[0]["message"]


def test_ten_thousand_rows_with_one_bad_row_imports_nothing_and_names_it(tree):
    rows = good_rows(10_000)
    rows[7_321][1] = make_id_number("110101", dt.date(1990, 2, 3), 5)[:-1] + "Y"
    content = csv_bytes(rows, encoding="gb18030")  # as Excel on Chinese Windows saves it
    seen = []
    with pytest.raises(DomainError) as caught:
        services.residents_import(
            actor=tree.users["street"],
            node=tree.street,
            filename="big.csv",
            content=content,
            progress=lambda *a: seen.append(a),
        )
    assert caught.value.as_list() == [
        {
            "row": 7_323,
            "field": "id_number",
            "message": "ID number must be 17 digits followed by a digit or X.",
        }
    ]
    assert Resident.objects.count() == TREE_RESIDENTS
    assert not ChangeLog.objects.filter(source="import").exists()
    assert ("checking", 5_000, 10_000) in seen and seen[-1] == ("checking", 10_000, 10_000)


def test_three_thousand_good_rows_go_in_several_batches(tree):
    result = run(tree, xlsx_bytes(good_rows(3_000)))
    assert result == services.ImportResult(residents=3_000, households=1_000)
    assert Resident.objects.count() == TREE_RESIDENTS + 3_000
    imported = ChangeLog.objects.filter(source="import", object_type="geo.resident")
    assert imported.count() == 3_000
    last = Resident.objects.get(id_number=id_number(2_999))
    assert last.name == "导入2999" and imported.filter(object_id=last.pk).exists()


def test_the_job_records_its_progress_as_it_goes(tree):
    from bastion.ledgers.models import ImportJob

    job = services.import_job_create(
        user=tree.users["street"],
        node=tree.street,
        filename="a.xlsx",
        content=xlsx_bytes(good_rows(1_200)),
    )
    seen = []

    def watch(phase, done, total):
        stored = ImportJob.objects.get(pk=job.pk)
        seen.append((phase, stored.status, stored.processed_rows, stored.total_rows))

    job = services.import_run(job_id=job.pk, progress=watch)
    assert ("checking", "running", 500, 1_200) in seen
    assert ("checking", "running", 1_000, 1_200) in seen
    assert seen[-1] == ("writing", "running", 1_200, 1_200)
    job.refresh_from_db()
    assert (job.status, job.imported_rows, job.percent, job.content) == ("done", 1_200, 100, b"")
    assert job.finished_at is not None and job.started_at is not None


def test_a_nul_or_a_megabyte_is_refused_with_row_and_field(tree):
    """What the columns cannot store is refused among the other problems (issue 15 item 9):
    SQLite would store it, PostgreSQL would fail the whole import on a database error."""
    rows = good_rows(4)
    rows[0][0] = "张\x00三"
    rows[2][8] = "3\x0001"
    content = csv_bytes(rows)  # a worksheet cannot hold a NUL; a CSV file can
    assert [(p["row"], p["field"]) for p in problems_of(tree, content, filename="a.csv")] == [
        (2, "name"),
        (4, "room"),
    ]
    rows = good_rows(2)
    rows[1][0] = "名" * (1024 * 1024)
    rows[1][16:] = ["", "", "", "", "", "", "地" * (1024 * 1024)]
    problems = problems_of(tree, xlsx_bytes(rows, HEADER + IDENTITY_HEADER))
    assert [(p["row"], p["field"]) for p in problems] == [
        (3, "name"),
        (3, "registered_address"),
    ]
