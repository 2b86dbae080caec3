"""Building ledger files in tests: good rows for the small tree, and the file formats."""

import csv
import datetime as dt
import io

from openpyxl import Workbook

from bastion.geo.identity import make_id_number

HEADER = [
    "姓名",
    "身份证号",
    "手机号",
    "与户主关系",
    "社区",
    "网格",
    "楼栋",
    "单元",
    "房号",
    "楼层",
    "在住状态",
    "行动不便",
    "残疾",
    "慢性病",
    "孕妇",
    "婴幼儿",
]
HEADER_EN = [
    "Name",
    "ID number",
    "Mobile",
    "Relation to head",
    "Community",
    "Grid",
    "Building",
    "Unit",
    "Room",
    "Floor",
    "Presence",
    "Immobile",
    "Disabled",
    "Chronic illness",
    "Pregnant",
    "Infant",
]
# The identity columns (documents, guardian, no phone, registered address), after the others.
IDENTITY_HEADER = ["证件类型", "其他证件号码", "性别", "出生日期", "监护人", "无手机", "户籍地址"]
# Where rows go by default: grid 网格1-1 of the small tree (its two buildings, two units each).
PLACES = [("社区1", "网格1-1", f"11{b}号楼", f"{u}单元") for b in (1, 2) for u in (1, 2)]


def id_number(i: int) -> str:
    """A valid ID number, distinct for each i, never one the small tree uses (area 110101)."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=i // 1000)
    return make_id_number("110101", birth, i % 1000)


def good_rows(n: int, *, start: int = 0, places=PLACES, rooms_per_floor: int = 20) -> list[list]:
    """n valid rows, three residents to a new room (rooms 3xx and up, unused by the tree)."""
    rows = []
    for i in range(start, start + n):
        household = (i - start) // 3
        community, grid, building, unit = places[household % len(places)]
        slot = household // len(places)
        floor = 3 + slot // rooms_per_floor
        room = f"{floor}{slot % rooms_per_floor + 1:02d}"
        rows.append(
            [
                f"导入{i}",
                id_number(i),
                f"139{i:08d}",
                "户主" if i % 3 == 0 else "子女",
                community,
                grid,
                building,
                unit,
                room,
                floor,
                "在家",
                "否",
                "是" if i % 10 == 0 else "否",
                "否",
                "否",
                "否",
            ]
        )
    return rows


def xlsx_bytes(rows: list[list], header: list | None = HEADER, *, title_rows=0) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民")
    for _ in range(title_rows):
        sheet.append(["某某社区居民台账"])
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], header: list | None = HEADER, *, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)
