"""The residents ledger's identity columns: document kind and number, sex and birth date for
documents that do not carry them, guardian (by name, same room), no phone, registered
address — imported all-or-nothing with bad rows named, and exported masked."""

import datetime as dt

import pytest

from bastion.core.errors import DomainError
from bastion.geo.identity import make_pr_2023_number
from bastion.geo.models import DocKind, Resident
from bastion.ledgers.tests.ledger_files import HEADER, IDENTITY_HEADER, good_rows, xlsx_bytes
from bastion.ledgers.tests.test_export import export
from bastion.ledgers.tests.test_import import TREE_RESIDENTS, problems_of, run

PR = make_pr_2023_number("11", "276", dt.date(1979, 11, 3), 5)
CHILD_BIRTH = (dt.date.today() - dt.timedelta(days=4 * 365)).isoformat()


def rows_with_identity() -> list[list]:
    """Three rooms: a foreign family (passport + permanent residence card) with a child
    without a document under the father, a Hong Kong resident, and an elder without a phone
    registered elsewhere."""
    base = good_rows(9)
    extra = [
        ["外国护照", "C01X00T47", "男", "1980-04-02", "", "否", ""],
        ["外国人永久居留身份证", PR, "", "", "", "否", ""],
        ["无证件", "", "女", CHILD_BIRTH, "Hans", "否", ""],
        ["港澳居民来往内地通行证", "H1234567802", "女", "1992-08-08", "", "否", ""],
        ["", "", "", "", "", "是", "河南省信阳市浉河区"],
        ["", "", "", "", "", "否", "四川省成都市武侯区"],
    ]
    rows = [[*r, "", "", "", "", "", "否", ""] for r in base]
    for i, cells in zip((0, 1, 2, 3, 6, 7), extra, strict=True):
        rows[i][-7:] = cells
    for i in (0, 1, 2, 3):
        rows[i][1] = ""  # known by another document (or none): no ID number
    rows[0][0], rows[1][0], rows[2][0] = "Hans", "Greta", "Mia"
    rows[6][2] = ""  # the elder without a phone
    return rows


def test_the_identity_columns_are_imported(tree):
    result = run(tree, xlsx_bytes(rows_with_identity(), HEADER + IDENTITY_HEADER))
    assert result.residents == 9
    hans = Resident.objects.get(name="Hans")
    assert (hans.id_number, hans.doc_kind, hans.doc_number, hans.sex) == (
        None,
        DocKind.PASSPORT,
        "C01X00T47",
        "M",
    )
    greta = Resident.objects.get(name="Greta")
    assert (greta.doc_kind, greta.doc_number, greta.birth_date) == (
        DocKind.PR_CARD,
        PR,
        dt.date(1979, 11, 3),
    )
    mia = Resident.objects.get(name="Mia")
    assert (mia.doc_kind, mia.guardian_id, mia.household_id) == (
        DocKind.NONE,
        hans.pk,
        hans.household_id,
    )
    hk = Resident.objects.get(doc_kind=DocKind.HK_MACAO_PERMIT)
    assert hk.doc_number == "H12345678"
    elder = Resident.objects.get(name="导入6")
    assert (elder.no_phone, elder.phone, elder.registered_address) == (
        True,
        "",
        "河南省信阳市浉河区",
    )


def test_bad_identity_rows_are_named_and_nothing_is_imported(tree):
    rows = rows_with_identity()
    rows[0][-6] = "C0"  # passport number too short
    rows[2][-3] = "Nobody"  # no such guardian in the room
    rows[3][-7] = "签证"  # unknown kind
    rows[6][2] = "13900000006"  # a phone although marked as having none
    rows[7][-4] = ""  # fine: an ID card holder needs no birth date
    problems = problems_of(tree, xlsx_bytes(rows, HEADER + IDENTITY_HEADER))
    assert [(p["row"], p["field"]) for p in problems] == [
        (2, "doc_number"),
        (4, "guardian"),
        (5, "doc_kind"),
        (8, "no_phone"),
    ]
    assert "Passport number must be 5 to 17" in problems[0]["message"]
    assert "Nobody" in problems[1]["message"]
    assert Resident.objects.count() == TREE_RESIDENTS


def test_a_document_already_registered_or_twice_in_the_file_is_named(tree):
    twice = rows_with_identity()[:2]
    twice[1][-7:-1] = twice[0][-7:-1]
    problems = problems_of(tree, xlsx_bytes(twice, HEADER + IDENTITY_HEADER))
    assert [(p["row"], p["field"], p["message"]) for p in problems] == [
        (2, "doc_number", "The same document number is on row 3."),
        (3, "doc_number", "The same document number is on row 2."),
    ]
    run(tree, xlsx_bytes(rows_with_identity()[:1], HEADER + IDENTITY_HEADER))
    again = rows_with_identity()[:1]
    again[0][0] = "Hans Zwei"
    with pytest.raises(DomainError) as caught:
        run(tree, xlsx_bytes(again, HEADER + IDENTITY_HEADER))
    assert [(p["row"], p["field"]) for p in caught.value.as_list()] == [(2, "doc_number")]
    assert Resident.objects.count() == TREE_RESIDENTS + 1


@pytest.mark.parametrize("reveal", [False, True])
def test_the_export_carries_the_identity_columns_masked_unless_revealed(tree, reveal):
    run(tree, xlsx_bytes(rows_with_identity(), HEADER + IDENTITY_HEADER))
    rows = export(tree.users["street"], tree.street, reveal=reveal, language="zh-hans")
    header = rows[0]
    for column in IDENTITY_HEADER:
        assert column in header
    at = {h: i for i, h in enumerate(header)}
    by_name = {r[0]: r for r in rows[1:]}
    hans, mia, elder = by_name["Hans"], by_name["Mia"], by_name["导入6"]
    assert hans[at["证件类型"]] == "外国护照"
    assert hans[at["其他证件号码"]] == ("C01X00T47" if reveal else "C0*****47")
    assert hans[at["身份证号"]] == ""
    assert (mia[at["证件类型"]], mia[at["监护人"]]) == ("无证件", "Hans")
    assert (elder[at["无手机"]], elder[at["户籍地址"]]) == ("是", "河南省信阳市浉河区")
