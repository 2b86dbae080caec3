"""Reading an uploaded spreadsheet (.xlsx, .xls, .ods or .csv) into numbered rows of raw cells.

Row numbers are the ones the spreadsheet shows (the header is usually row 1), so an error
table can be checked against the open file. Cells keep their type (calamine gives numbers as
floats) so the importer can tell an ID number that Excel turned into a number.
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from bastion.core.errors import DomainError, Problem
from bastion.core.sheets.columns import header_key

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .ods
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
HEADER_SEARCH_ROWS = 20  # a title row or two above the header is common in office ledgers


@dataclass
class Sheet:
    header_row: int  # the spreadsheet's number of the header row
    header: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number, cells)


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing '.0', dates as ISO, blanks as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _blank(cells: list) -> bool:
    return all(cell_text(c) == "" for c in cells)


def _spreadsheet_grid(content: bytes) -> list[list]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        if not workbook.sheet_names:
            return []
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # calamine raises several kinds for a damaged or foreign file
        raise DomainError(
            _(
                "The file could not be read as a spreadsheet. Save it as .xlsx or .csv and try "
                "again."
            ),
            field="file",
        ) from None


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM); else GB18030, which is what Excel on Chinese Windows
    writes when it saves CSV."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise DomainError(
            _("The CSV file is neither UTF-8 nor GB18030 text."), field="file"
        ) from None


def _csv_grid(content: bytes) -> list[list]:
    text = decode_text(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:
        raise DomainError(_("The CSV file is malformed: %(e)s") % {"e": e}, field="file") from None


def _header_index(grid: list[list], known: Mapping[str, str]) -> int | None:
    """The row holding the headers: the first of the top rows naming two known columns, else
    the first row that is not blank."""
    first = None
    for index, cells in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if _blank(cells):
            continue
        if first is None:
            first = index
        named = {known.get(header_key(cell_text(c))) for c in cells} - {None}
        if len(named) >= 2:
            return index
    return first


def sheet_read(*, filename: str, content: bytes, known: Mapping[str, str] | None = None) -> Sheet:
    """Read the first sheet of a spreadsheet, or a CSV file. `known` maps the format's headers
    to its columns (`columns.header_index`), to find the header row below a title or two.
    Raises DomainError for an empty or unreadable file."""
    if not content.strip():
        raise DomainError(_("The file is empty."), field="file")
    if content.startswith((ZIP_MAGIC, OLE_MAGIC)):
        grid = _spreadsheet_grid(content)
    elif filename.lower().endswith(SPREADSHEET_SUFFIXES):
        raise DomainError(
            _(
                "The file could not be read as a spreadsheet. Save it as .xlsx or .csv and try "
                "again."
            ),
            field="file",
        )
    else:
        grid = _csv_grid(content)
    header_index = _header_index(grid, known or {})
    if header_index is None:
        raise DomainError(_("The file is empty."), field="file")
    sheet = Sheet(header_row=header_index + 1, header=[cell_text(c) for c in grid[header_index]])
    sheet.rows = [
        (index + 1, cells)
        for index, cells in enumerate(grid[header_index + 1 :], start=header_index + 1)
        if not _blank(cells)
    ]
    if not sheet.rows:
        raise DomainError(
            [Problem("file", _("The file has a header row but no data rows."), sheet.header_row)]
        )
    return sheet
