"""Lab results: .csv and .xlsx (and rows from the API), all or nothing; a positive pool traced
back to its people, their homes and the chiefs to call; its people on the retest list; an
invalid tube putting its people back to not sampled."""

import io

import pytest
from openpyxl import Workbook

from bastion.core.errors import DomainError
from bastion.core.models import ChangeLog
from bastion.people import services as people
from bastion.testing.conftest import person, scan
from bastion.testing.results import queries, services
from bastion.testing.results.models import ResultImport, Retest
from bastion.testing.rounds import coverage as round_coverage
from bastion.testing.rounds import services as round_services
from bastion.testing.scans import queries as scan_queries
from bastion.testing.scans.models import Result, Scan, Tube


@pytest.fixture
def sampled(testing):
    """Grid 1's first building: 16 residents in tubes A (5), B (5), C (5), D (1, open);
    grid 2's first resident in tube E at the other site."""
    grid = testing.tree.grids[0]
    residents = [
        r for r in testing.residents_of(grid) if r.building_id == testing.tree.buildings[0].pk
    ]
    for i, r in enumerate(residents):
        assert scan(testing.stations[0], "ABCD"[min(i // 5, 3)] + "-0001", r.id_number).ok
    other = testing.residents_of(testing.tree.grids[1])[0]
    assert scan(testing.stations[2], "E-0001", other.id_number).ok
    return residents


def csv(text: str) -> bytes:
    return text.encode("utf-8")


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(name: str, content: bytes) -> list[services.ResultRow]:
    return services.result_rows_read(filename=name, content=content)


def test_a_csv_with_chinese_headers_and_words_imports(testing, sampled):
    rows = read("lab.csv", csv("管号,结果\nA-0001,阴性\nB-0001,阳性\nC-0001,无效\n"))
    batch = services.results_import(
        actor=testing.admin, round=testing.round, rows=rows, filename="lab.csv"
    )

    assert (batch.tubes, batch.positive, batch.invalid) == (3, 1, 1)
    results = dict(Tube.objects.values_list("barcode", "result"))
    assert results == {
        "A-0001": "negative",
        "B-0001": "positive",
        "C-0001": "invalid",
        "D-0001": "",
        "E-0001": "",
    }
    assert set(Scan.objects.filter(tube__barcode="A-0001").values_list("result", flat=True)) == {
        "negative"
    }
    tube_b = Tube.objects.get(barcode="B-0001")
    assert tube_b.result_import == batch and tube_b.resulted_at is not None
    assert ChangeLog.objects.filter(object_type="testing.resultimport").count() == 1
    assert ChangeLog.objects.filter(object_type="testing.tube").count() == 2  # pos, invalid


def test_an_xlsx_with_english_headers_imports_and_closes_an_open_tube(testing, sampled):
    content = xlsx(
        [["Lab report"], [], ["Tube", "Result"], ["d-0001", "Negative"], ["E-0001", "negative"]]
    )
    rows = read("lab.xlsx", content)
    assert [(r.row, r.tube, r.result) for r in rows] == [
        (4, "d-0001", "Negative"),
        (5, "E-0001", "negative"),
    ]
    services.results_import(actor=testing.admin, round=testing.round, rows=rows)
    tube = Tube.objects.get(barcode="D-0001")
    assert (tube.result, tube.status) == ("negative", "closed")


def test_bad_rows_are_all_named_and_nothing_changes(testing, sampled):
    content = csv(
        "tube,result\nA-0001,negative\nZ-9999,positive\nB-0001,maybe\n"
        "C-0001,positive\nC-0001,negative\n,negative\n"
    )
    rows = read("lab.csv", content)
    with pytest.raises(DomainError) as e:
        services.results_import(actor=testing.admin, round=testing.round, rows=rows)

    problems = [(p.row, p.field) for p in e.value.problems]
    assert problems == [(3, "tube"), (4, "result"), (6, "result"), (7, "tube")]
    assert "Z-9999" in e.value.problems[0].message
    assert "maybe" in e.value.problems[1].message
    assert not Tube.objects.exclude(result="").exists()
    assert not Scan.objects.exclude(result="").exists()
    assert not ResultImport.objects.exists() and not Retest.objects.exists()


def test_a_tube_of_another_round_is_unknown_here(testing, sampled):
    import datetime as dt

    from django.utils import timezone

    other = round_services.round_open(
        actor=testing.admin,
        node=testing.tree.grids[3],
        name="别的",
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    rows = [services.ResultRow(None, "A-0001", "negative")]
    with pytest.raises(DomainError) as e:
        services.results_import(actor=testing.admin, round=other, rows=rows)
    assert [(p.row, p.field) for p in e.value.problems] == [(1, "tube")]


def test_a_file_without_the_columns_is_refused(testing):
    with pytest.raises(DomainError) as e:
        read("lab.csv", csv("编号,姓名\n1,张三\n"))
    assert {p.field for p in e.value.problems} == {"file"}
    assert len(e.value.problems) == 2
    with pytest.raises(DomainError):
        read("lab.csv", b"")


def test_the_same_results_again_change_nothing_and_a_changed_result_is_refused(testing, sampled):
    rows = [
        services.ResultRow(None, "A-0001", "negative"),
        services.ResultRow(None, "B-0001", "positive"),
    ]
    services.results_import(actor=testing.admin, round=testing.round, rows=rows)
    again = services.results_import(actor=testing.admin, round=testing.round, rows=rows)
    assert again.tubes == 0
    assert Retest.objects.count() == 5

    with pytest.raises(DomainError) as e:
        services.results_import(
            actor=testing.admin,
            round=testing.round,
            rows=[services.ResultRow(None, "A-0001", "positive")],
        )
    assert e.value.problems[0].field == "result"
    assert Tube.objects.get(barcode="A-0001").result == "negative"


def test_a_client_id_makes_an_import_idempotent(testing, sampled):
    import uuid

    key = uuid.uuid4()
    rows = [services.ResultRow(None, "A-0001", "negative")]
    first = services.results_import(
        actor=testing.admin, round=testing.round, rows=rows, client_id=key
    )
    second = services.results_import(
        actor=testing.admin, round=testing.round, rows=rows, client_id=key
    )
    assert first.pk == second.pk and ResultImport.objects.count() == 1


def test_an_invalid_tube_puts_its_people_back_to_not_sampled(testing, sampled):
    in_c = sampled[10:15]
    services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[services.ResultRow(None, "C-0001", "invalid")],
    )
    assert Scan.objects.filter(tube__barcode="C-0001", voided_at__isnull=True).count() == 0
    missing = set(
        round_coverage.missing_residents(testing.admin, testing.round, testing.tree.buildings[0])
    )
    assert set(in_c) <= missing
    # They can be sampled again, into a new tube.
    again = scan(testing.stations[0], "F-0001", in_c[0].id_number)
    assert again.status == "accepted"


@pytest.fixture
def chiefs(testing):
    tree, admin = testing.tree, testing.admin
    assign = people.post_assign
    return {
        "grid": assign(
            person=person(tree.units[0], "网格长甲", "13800000101"),
            role="grid_chief",
            node=tree.grids[0],
            actor=admin,
        ),
        "building": assign(
            person=person(tree.units[0], "楼长乙", "13800000102"),
            role="building_chief",
            node=tree.buildings[0],
            actor=admin,
        ),
        "unit": assign(
            person=person(tree.units[1], "单元长丙", "13800000103"),
            role="unit_chief",
            node=tree.units[1],
            actor=admin,
        ),
    }


def test_a_positive_pool_is_traced_to_its_people_homes_and_chiefs(testing, sampled, chiefs):
    services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[services.ResultRow(None, "B-0001", Result.POSITIVE)],
    )
    tube = scan_queries.tube_by_barcode(testing.admin, "b-0001")
    tb = queries.traceback(testing.admin, tube)

    in_b = sampled[5:10]
    assert tb.people == 5 and tb.hidden == 0 and tb.walk_ins == []
    assert len(tb.buildings) == 1
    building = tb.buildings[0]
    assert building.building == testing.tree.buildings[0]
    assert [p.resident for p in building.people] == in_b
    assert [(p.scan.unit_id, p.resident.household_id) for p in building.people] == [
        (r.unit_id, r.household_id) for r in in_b
    ]
    assert building.people[0].scan.grid == testing.tree.grids[0]
    assert building.people[0].scan.community == testing.tree.communities[0]
    assert (building.grid_chief.person.name, building.grid_chief.person.phone) == (
        "网格长甲",
        "13800000101",
    )
    assert building.building_chief.person.phone == "13800000102"
    unit_of = {p.scan.unit_id for p in building.people}
    assert testing.tree.units[1].pk in unit_of
    assert building.unit_chief(testing.tree.units[1].pk).person.phone == "13800000103"
    assert building.unit_chief(testing.tree.units[0].pk) is None  # vacant

    # Its people are on the retest list, due.
    retests = list(queries.retests(testing.admin, testing.round))
    assert [r.resident for r in retests] == sorted(in_b, key=lambda r: r.pk)
    assert all(r.tube is None and r.source_tube == tube for r in retests)
    assert all(p.retest is not None for p in building.people)


def test_a_traceback_shows_only_the_people_in_the_users_area(testing, sampled):
    services.results_import(
        actor=testing.admin,
        round=testing.round,
        rows=[services.ResultRow(None, "B-0001", "positive")],
    )
    # A grid chief of grid 1 sees the whole tube (it was opened in their grid).
    tube = scan_queries.tube_by_barcode(testing.tree.users["grid"], "B-0001")
    assert queries.traceback(testing.tree.users["grid"], tube).people == 5
    # The building chief of building 1 sees its people; the other grid sees nothing.
    assert queries.traceback(testing.tree.users["building"], tube).people == 5
    from django.http import Http404

    with pytest.raises(Http404):
        scan_queries.tube_by_barcode(testing.tree.users["other_grid"], "B-0001")
