"""Writing workbooks: a styled header row, formula-safe cells, column widths."""

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from bastion.core.sheets.columns import Column

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
REQUIRED_FILL = PatternFill("solid", fgColor="F8D7C4")


def header_cells(
    sheet, columns: Iterable[Column], language: str | None, required: bool = False
) -> list:
    """The header row of a write-only sheet, bold on a tint; with `required`, the required
    columns on a warmer tint (the import templates)."""
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header(language))
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if required and column.required else HEADER_FILL
        cells.append(cell)
    return cells


def widths(sheet, widths: Iterable[int]) -> None:
    """Column widths, in characters, from column A on."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def text_cells(sheet, values: list, text_columns: set[int] = frozenset()) -> list:
    """Cells for one row. The ID and phone columns are text ('@') so Excel keeps every digit,
    and text that starts with '=' stays text: a name typed as '=HYPERLINK(...)' must not
    become a formula in an office's spreadsheet."""
    cells = []
    for index, value in enumerate(values):
        formula_like = isinstance(value, str) and value.startswith("=")
        if index in text_columns or formula_like:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            if index in text_columns:
                cell.number_format = "@"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def workbook_bytes(workbook: Workbook) -> bytes:
    """A finished workbook as the bytes of an .xlsx file."""
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
