"""Call lists: reading and checking a file all or nothing, matching rows to residents,
settling the rows a person must decide, callbacks and the follow-ups they open."""

import csv
import datetime as dt
import io
import uuid

import openpyxl
import pytest
from django.http import Http404
from django.utils import timezone

from bastion.core.errors import Conflict, DomainError
from bastion.geo.identity import make_id_number
from bastion.geo.models import Resident
from bastion.screening import queries, services
from bastion.screening.models import (
    Callback,
    CallList,
    CallRow,
    FollowUp,
    MatchedBy,
    RowStatus,
)
from bastion.screening.services import CallRowData, match_rows

HEADER = ("姓名", "身份证号", "手机号", "地址", "药品类别", "购药时间", "药店")
NOT_REGISTERED_ID = make_id_number("110101", dt.date(1990, 5, 17), 123)


def csv_file(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def address(resident: Resident) -> str:
    return f"{resident.building.name}{resident.unit.name}{resident.household.room}"


def residents(*seqs) -> list[Resident]:
    """The small tree's residents by their number (居民1 is the first)."""
    by_name = {
        r.name: r
        for r in Resident.objects.select_related("building", "unit", "household").filter(
            name__in=[f"居民{s}" for s in seqs]
        )
    }
    return [by_name[f"居民{s}"] for s in seqs]


def test_matching_id_beats_phone_beats_name_and_ambiguous_is_never_matched(tree):
    a, b, c, d, e, f, g, h, i = residents(1, 2, 3, 4, 5, 6, 7, 8, 9)
    Resident.objects.filter(pk=f.pk).update(phone=e.phone)  # a phone shared in a household
    Resident.objects.filter(pk=h.pk).update(name=g.name)  # two of one name in one household
    rows = [
        CallRowData(1, name="某人", id_number=a.id_number, phone=b.phone),
        CallRowData(2, name=c.name, phone=b.phone, address=address(c)),
        CallRowData(3, name=c.name, address=address(c)),
        CallRowData(4, name="某人", phone=e.phone),
        CallRowData(5, name=g.name, address=address(g)),
        CallRowData(6, name="陌生人", id_number=NOT_REGISTERED_ID),
        CallRowData(7, name="某人", id_number=NOT_REGISTERED_ID, phone=d.phone),
        CallRowData(8, name=i.name, address=address(a)),  # right name, wrong address
        CallRowData(9, name=c.name, id_number=a.id_number, address=address(c)),
    ]
    got = [
        (m.status, m.matched_by, m.resident and m.resident.name, set(m.candidates))
        for m in match_rows(tree.street, rows)
    ]
    assert got == [
        ("matched", "id_number", a.name, set()),
        ("matched", "phone", b.name, set()),
        ("matched", "name_address", c.name, set()),
        ("ambiguous", "", None, {e.pk, f.pk}),
        ("ambiguous", "", None, {g.pk, h.pk}),
        ("unmatched", "", None, set()),
        ("matched", "phone", d.name, set()),
        ("unmatched", "", None, {i.pk}),  # the same-name resident is offered, not matched
        ("matched", "id_number", a.name, set()),
    ]
    # Only residents of the list's area are matched.
    assert match_rows(tree.communities[1], rows[:1])[0].status == RowStatus.UNMATCHED


def test_address_parts_do_not_match_inside_longer_numbers():
    assert services._has_token("111号楼1单元101", "1单元")
    assert not services._has_token("11号楼2单元101", "1号楼")
    assert not services._has_token("3号楼2单元1101", "101")
    assert services._has_token("3 号楼 2 单元 101 室".replace(" ", ""), "101")


def _import(
    tree, content, *, kind="pharmacy", user="street", node=None, filename="list.csv", **extra
):
    return services.call_list_import(
        actor=tree.users[user],
        node=node or tree.street,
        kind=kind,
        filename=filename,
        content=content,
        **extra,
    )


def test_import_matches_rows_and_opens_callbacks_on_the_residents_grids(tree):
    a, b, e, f, far = residents(1, 2, 5, 6, 100)
    Resident.objects.filter(pk=f.pk).update(phone=e.phone)
    content = csv_file(
        [
            (a.name, a.id_number, "", "", "退烧", "2022-04-01 10:30", "益丰大药房"),
            ("某人", "", b.phone, "", "抗病毒", "2022/4/1", "老百姓大药房"),
            ("某人", "", e.phone, "", "抗生素", "", ""),
            ("陌生人", NOT_REGISTERED_ID, "", "", "消炎药", "", ""),
            (far.name, far.id_number, "", "", "fever", "", ""),
        ]
    )
    call_list = _import(tree, content, name="4月1日购药名单")
    rows = list(CallRow.objects.filter(call_list=call_list).order_by("row"))
    assert [(r.row, r.status, r.drug_category) for r in rows] == [
        (2, "matched", "fever"),
        (3, "matched", "antiviral"),
        (4, "ambiguous", "antibiotic"),
        (5, "unmatched", "antibiotic"),
        (6, "matched", "fever"),
    ]
    assert rows[0].event_at == timezone.make_aware(dt.datetime(2022, 4, 1, 10, 30))
    # A matched row sits on its resident's grid; the others at the list's node.
    assert rows[0].grid_id == a.grid_id and rows[4].grid_id == far.grid_id
    assert rows[2].grid_id is None and rows[2].street_id == tree.street.pk
    callbacks = Callback.objects.order_by("call_row__row")
    assert [(cb.resident_id, cb.grid_id, cb.status) for cb in callbacks] == [
        (a.pk, a.grid_id, "open"),
        (b.pk, b.grid_id, "open"),
        (far.pk, far.grid_id, "open"),
    ]
    assert queries.call_list_counts(tree.users["street"], [call_list])[call_list.pk] == {
        "total": 5,
        "matched": 3,
        "ambiguous": 1,
        "unmatched": 1,
        "outside": 0,
        "callbacks": 3,
        "done": 0,
    }
    # The grid chief sees the list through its rows on their grid, and only those.
    chief = tree.users["grid"]
    assert queries.call_lists_for(chief).get() == call_list
    assert queries.call_list_counts(chief, [call_list])[call_list.pk]["total"] == 2
    # A retried upload (same client id) is the same list.
    client_id = uuid.uuid4()
    again = _import(tree, content, client_id=client_id)
    assert _import(tree, content, client_id=client_id) == again
    assert CallList.objects.count() == 2


def test_import_is_all_or_nothing_and_names_every_bad_row_and_field(tree):
    a = residents(1)[0]
    bad_id = a.id_number[:-1] + ("0" if a.id_number[-1] != "0" else "1")
    content = csv_file(
        [
            (a.name, a.id_number, "", "", "退烧", "", ""),
            ("张三", bad_id, "", "", "退烧", "", ""),
            ("李四", "", "13800000001", "", "", "", ""),
            ("王五", "", "1234", "", "抗病毒", "", ""),
            ("赵六", "", "13800000002", "", "抗病毒", "昨天下午", ""),
            ("", "", "13800000003", "", "退烧", "", ""),
            ("钱七", "", "", "", "止咳药", "", ""),
        ]
    )
    with pytest.raises(DomainError) as refused:
        _import(tree, content)
    assert [(p.row, p.field) for p in refused.value.problems] == [
        (3, "id_number"),
        (4, "drug_category"),
        (5, "phone"),
        (6, "event_at"),
        (7, "name"),
        (8, "id_number"),
        (8, "drug_category"),
    ]
    assert not CallList.objects.exists() and not CallRow.objects.exists()
    assert not Callback.objects.exists()


def test_import_refuses_a_file_without_the_name_column(tree):
    with pytest.raises(DomainError) as refused:
        _import(tree, csv_file([("220421", "13800000001")], header=("身份证号", "手机号")))
    assert [(p.row, p.field) for p in refused.value.problems] == [(1, "name")]


def test_import_reads_an_office_xlsx_with_a_title_row(tree):
    a, b = residents(1, 40)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["祥鹿街道药店购药人员名单（4月1日）"])
    sheet.append(
        ["序号", "购药人姓名", "身份证号码", "联系电话", "药品类型", "购药时间", "药店名称"]
    )
    sheet.append([1, a.name, a.id_number, None, "退热药", dt.datetime(2022, 4, 1, 9, 5), "益丰"])
    sheet.append([2, b.name, None, int(b.phone), "抗病毒", dt.datetime(2022, 4, 1, 9, 40), ""])
    out = io.BytesIO()
    book.save(out)
    call_list = _import(tree, out.getvalue(), filename="名单.xlsx")
    rows = list(call_list.rows.order_by("row"))
    assert [(r.row, r.resident_id, r.matched_by, r.drug_category) for r in rows] == [
        (3, a.pk, "id_number", "fever"),
        (4, b.pk, "phone", "antiviral"),
    ]
    assert rows[1].event_at == timezone.make_aware(dt.datetime(2022, 4, 1, 9, 40))


def test_a_person_settles_ambiguous_and_unmatched_rows(tree):
    e, f, far = residents(5, 6, 100)
    Resident.objects.filter(pk=f.pk).update(phone=e.phone)
    call_list = _import(
        tree,
        csv_file(
            [
                ("某人", "", e.phone, "", "退烧", "", ""),
                ("陌生人", NOT_REGISTERED_ID, "", "", "退烧", "", ""),
            ]
        ),
        node=tree.communities[0],
    )
    ambiguous, unmatched = call_list.rows.order_by("row")
    street = tree.users["street"]
    # Rows not matched are not on any grid: a grid chief cannot see or settle them.
    with pytest.raises(Http404):
        queries.call_row_for(tree.users["grid"], ambiguous.pk)
    # Not in the list's area: refused.
    with pytest.raises(DomainError):
        services.call_row_resolve(actor=street, row=ambiguous, resident=far)
    row = services.call_row_resolve(actor=street, row=ambiguous, resident=f)
    assert (row.status, row.matched_by, row.resident, row.grid_id) == (
        "matched",
        MatchedBy.PERSON,
        f,
        f.grid_id,
    )
    assert Callback.objects.get(call_row=row).grid_id == f.grid_id
    # The same answer again changes nothing; another answer is a conflict.
    services.call_row_resolve(actor=street, row=row, resident=f)
    with pytest.raises(Conflict):
        services.call_row_resolve(actor=street, row=row, resident=e)
    assert Callback.objects.count() == 1
    row = services.call_row_resolve(actor=street, row=unmatched, outside=True)
    assert (row.status, row.resident, row.resolved_by) == ("outside", None, street)
    with pytest.raises(DomainError):
        services.call_row_resolve(actor=street, row=row)
    assert queries.call_row_for(tree.users["grid"], ambiguous.pk).status == "matched"


def test_a_callback_with_fever_opens_a_follow_up_once(tree, today):
    a = residents(1)[0]
    _import(tree, csv_file([(a.name, a.id_number, "", "", "退烧", "", "")]))
    callback = Callback.objects.get()
    chief = tree.users["grid"]
    with pytest.raises(DomainError) as refused:
        services.callback_record(
            actor=chief,
            callback=callback,
            client_id=uuid.uuid4(),
            fever_now=False,
            travel_place="武汉",
            travel_date=today - dt.timedelta(days=20),
        )
    assert [p.field for p in refused.value.problems] == ["travel_date"]
    client_id = uuid.uuid4()
    done = services.callback_record(
        actor=chief,
        callback=callback,
        client_id=client_id,
        fever_now=False,
        temperature="38.0",
        drug_user="本人",
        drug_used_on=today,
        illness_history="高血压",
    )
    assert (done.status, done.fever_now, done.done_on, done.done_by) == (
        "done",
        True,
        today,
        chief,
    )  # 38.0 °C is fever whatever was ticked
    follow_up = FollowUp.objects.get()
    assert (follow_up.source, follow_up.callback, follow_up.resident, follow_up.grid_id) == (
        "callback",
        done,
        a,
        a.grid_id,
    )
    # A retry returns the recorded callback; a second, different record is a conflict.
    again = services.callback_record(
        actor=chief, callback=callback, client_id=client_id, fever_now=False
    )
    assert again.pk == done.pk and FollowUp.objects.count() == 1
    with pytest.raises(Conflict):
        services.callback_record(
            actor=chief, callback=callback, client_id=uuid.uuid4(), fever_now=False
        )
    # Closing the follow-up needs an outcome, and happens once.
    with pytest.raises(DomainError):
        services.follow_up_close(actor=chief, follow_up=follow_up, outcome=" ")
    closed = services.follow_up_close(actor=chief, follow_up=follow_up, outcome="核酸阴性")
    assert (closed.closed_on, closed.closed_by, closed.outcome) == (today, chief, "核酸阴性")
    with pytest.raises(Conflict):
        services.follow_up_close(actor=chief, follow_up=follow_up, outcome="again")


def test_a_tracing_list_opened_empty_takes_its_contacts_as_they_are_found(tree):
    a, b = residents(1, 2)
    street = tree.users["street"]
    listed = services.call_list_open(actor=street, node=tree.street, kind="tracing", name="密接")
    header = ("姓名", "身份证号", "手机号", "地址")

    first = csv_file([(a.name, a.id_number, "", "")], header)
    counts = services.call_rows_add(actor=street, call_list=listed, filename="a.csv", content=first)
    assert counts == {"rows": 1, "matched": 1}

    # A bad row refuses the whole file, named by the file's row; nothing is added.
    bad = csv_file([(b.name, b.id_number, "", ""), ("张三", "123", "", "")], header)
    with pytest.raises(DomainError) as refused:
        services.call_rows_add(actor=street, call_list=listed, filename="b.csv", content=bad)
    assert [(p.row, p.field) for p in refused.value.problems] == [(3, "id_number")]
    assert CallRow.objects.filter(call_list=listed).count() == 1

    fixed = csv_file([(b.name, b.id_number, "", "")], header)
    services.call_rows_add(actor=street, call_list=listed, filename="b.csv", content=fixed)
    rows = CallRow.objects.filter(call_list=listed).order_by("row")
    assert [(r.row, r.resident_id, r.status) for r in rows] == [
        (1, a.pk, "matched"),  # numbered in the list, one after another
        (2, b.pk, "matched"),
    ]
    assert sorted(Callback.objects.values_list("resident_id", flat=True)) == sorted([a.pk, b.pk])
