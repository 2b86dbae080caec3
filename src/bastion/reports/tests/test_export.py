"""The .xlsx ledger: title row, one header row per language, one row per child, total row."""

from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from bastion.geo.models import Level
from bastion.reports import registry, services
from bastion.reports.exports import report_xlsx
from bastion.reports.tests.conftest import DAY
from bastion.reports.tests.helpers import at


def sheet_rows(content: bytes) -> list[list]:
    sheet = load_workbook(BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_street_ledger(tree, plugin):
    services.report_compute(day=DAY, now=at(DAY, 9))
    services.grid_report_submit(grid=tree.grids[0], day=DAY, actor=None, now=at(DAY, 10))
    services.grid_report_submit(grid=tree.grids[2], day=DAY, actor=None, now=at(DAY, 21))
    services.report_freeze(day=DAY, now=at(DAY, 20))
    with translation.override("en"):
        rows = sheet_rows(report_xlsx(tree.users["street"], tree.street, DAY, at(DAY, 22)))
        labels = {f.key: str(f.label) for f in registry.figures()}
    keys = registry.figure_keys()
    width = 1 + len(keys) + 4

    assert rows[0][0] == f"测试街道 — daily report of {DAY.isoformat()} (frozen)"
    assert rows[0][1:] == [None] * (width - 1)  # one merged title cell
    assert rows[1] == [
        "Community",
        *(labels[k] for k in keys),
        "Submitted on time",
        "Submitted late",
        "Missing",
        "Not yet submitted",
    ]
    with translation.override("zh-hans"):
        assert rows[2][0] == str(Level.COMMUNITY.label)
        assert rows[2][1 : 1 + len(keys)] == [str(f.label) for f in registry.figures()]
    body = {
        r[0]: dict(zip(keys, r[1 : 1 + len(keys)], strict=True)) | {"flags": r[1 + len(keys) :]}
        for r in rows[3:]
    }
    assert list(body) == ["社区1", "社区2", "Total"]
    assert body["社区1"]["households"] == 32 and body["社区1"]["residents"] == 64
    assert body["社区1"]["grids"] == 2 and body["Total"]["grids"] == 4
    assert body["Total"]["residents"] == 128
    # on time, late, missing, pending
    assert body["社区1"]["flags"] == [1, 0, 1, 0]
    assert body["社区2"]["flags"] == [0, 1, 1, 0]
    assert body["Total"]["flags"] == [1, 1, 2, 0]
    assert len(rows) == 1 + 2 + 2 + 1


def test_a_grid_ledger_has_the_grid_as_its_row(tree):
    services.report_compute(day=DAY, now=at(DAY, 9))
    with translation.override("zh-hans"):
        rows = sheet_rows(report_xlsx(tree.users["grid"], tree.grids[0], DAY, at(DAY, 9)))
        total = gettext("Total")
    assert "网格1-1" in rows[0][0] and DAY.isoformat() in rows[0][0]
    assert [r[0] for r in rows[3:]] == ["网格1-1", total]
    assert rows[3][1:3] == [16, 32]
