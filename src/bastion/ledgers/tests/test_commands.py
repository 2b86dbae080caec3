"""`bastion import` and `bastion export` on the terminal."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from bastion.geo.models import Resident
from bastion.ledgers.models import ImportJob
from bastion.ledgers.tests.ledger_files import good_rows, xlsx_bytes


def test_import_command_imports_and_reports(tree, tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(7)))
    out = io.StringIO()
    call_command("import", "residents", str(path), node=tree.street.pk, user="street", stdout=out)
    assert Resident.objects.filter(name__startswith="导入").count() == 7
    job = ImportJob.objects.get()
    assert out.getvalue().splitlines()[-1] == (
        f"Imported 7 residents into 测试街道; 3 new households (job {job.pk})."
    )


def test_import_command_prints_every_problem_and_fails(tree, tmp_path):
    rows = good_rows(4)
    rows[1][1] = "110101195001010011"
    rows[2][2] = "999"
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "import",
            "residents",
            str(path),
            node=tree.street.pk,
            user="street",
            stdout=out,
            lang="en",
        )
    job = ImportJob.objects.get()
    assert str(refused.value) == f"Nothing was imported: 2 problems (job {job.pk})."
    # the table's body: one line per problem, with its file row, column and message
    table = [
        tuple(cell.strip() for cell in line.strip("│").split("│"))
        for line in out.getvalue().splitlines()
        if line.startswith("│")
    ]
    assert table == [
        ("3", "ID number", "ID number fails the GB 11643 checksum."),
        ("4", "Mobile", "Mobile number must be 11 digits starting with 13–19."),
    ]
    assert Resident.objects.filter(name__startswith="导入").count() == 0


def test_import_command_refuses_a_node_out_of_scope(tree, tmp_path):
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(xlsx_bytes(good_rows(1)))
    with pytest.raises(CommandError, match="may not"):
        call_command("import", "residents", str(path), node=tree.grids[1].pk, user="grid")


def test_export_commands(tree, tmp_path):
    out = tmp_path / "residents.xlsx"
    call_command(
        "export",
        "residents",
        node=tree.grids[0].pk,
        user="grid",
        output=str(out),
        stdout=io.StringIO(),
    )
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert len(rows) == 33 and "*" in rows[1][1]
    posts = tmp_path / "posts.xlsx"
    call_command(
        "export",
        "posts",
        node=tree.grids[0].pk,
        user="grid",
        output=str(posts),
        stdout=io.StringIO(),
        lang="en",
    )
    assert CalamineWorkbook.from_path(str(posts)).get_sheet_by_index(0).to_python()[0][0] == (
        "Name"
    )
    with pytest.raises(CommandError):
        call_command(
            "export",
            "residents",
            node=tree.grids[0].pk,
            user="volunteer",
            output=str(out),
            reveal=True,
            stdout=io.StringIO(),
        )
    with pytest.raises(CommandError):
        call_command("export", "residents", node=tree.street.pk, user="grid", output=str(out))
