"""Reading an uploaded resident ledger: the shared reader (`core.sheets.reading`) told the
ledger's headers, so it finds the header row below an office's title rows."""

from bastion.core.sheets.reading import Sheet, cell_text
from bastion.core.sheets.reading import sheet_read as _sheet_read
from bastion.ledgers.columns import HEADER_INDEX

__all__ = ["Sheet", "cell_text", "sheet_read"]


def sheet_read(*, filename: str, content: bytes) -> Sheet:
    """The first sheet (or the CSV file) of a resident ledger as numbered rows of raw cells."""
    return _sheet_read(filename=filename, content=content, known=HEADER_INDEX)
