"""The missing list (漏检) and the home-visit list as .xlsx ledgers, written through
`core.sheets`: one row per resident in place order, ID and phone numbers masked (a clerk's
file leaves the system; a reveal stays on the page, logged)."""

from collections.abc import Iterable

from openpyxl import Workbook

from bastion.core.sheets.columns import Column, yes_no
from bastion.core.sheets.writing import header_cells, text_cells, widths, workbook_bytes
from bastion.geo.identity import mask_id_number, mask_mobile
from bastion.geo.models import Resident

COLUMNS = (
    Column("grid", "网格", "Grid"),
    Column("building", "楼栋", "Building"),
    Column("unit", "单元", "Unit"),
    Column("floor", "楼层", "Floor"),
    Column("room", "房号", "Room"),
    Column("name", "姓名", "Name"),
    Column("id_number", "证件号码（脱敏）", "ID number (masked)"),
    Column("phone", "手机号（脱敏）", "Mobile (masked)"),
    Column("immobile", "行动不便", "Immobile"),
    Column("disabled", "残疾", "Disabled"),
)
# Every value is written as it is: the numbers are masked (never all digits) and a room is a
# string, so they stay text without a styled cell each (a street's list is ~17,000 rows).
TEXT_COLUMNS: set[int] = set()


def people_xlsx(residents: Iterable[Resident], title: str) -> bytes:
    """Residents (with household, unit, building and grid read) as a one-sheet workbook."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Sheet")
    widths(sheet, [14, 12, 10, 6, 8, 12, 22, 16, 10, 8])
    sheet.append(header_cells(sheet, COLUMNS, None))
    for r in residents:
        sheet.append(
            text_cells(
                sheet,
                [
                    r.grid.name if r.grid_id else "",
                    r.building.name,
                    r.unit.name,
                    r.household.floor,
                    r.household.room,
                    r.name,
                    mask_id_number(r.id_number or r.doc_number or ""),
                    mask_mobile(r.phone) if r.phone else "",
                    yes_no(r.immobile),
                    yes_no(r.disabled),
                ],
                TEXT_COLUMNS,
            )
        )
    return workbook_bytes(book)
