"""A node's daily report as an .xlsx ledger: a title row naming the node and the day, one header
row per language (the active one first), one row per child, the total row."""

import datetime as dt

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from bastion.core.sheets.responses import xlsx_response
from bastion.core.sheets.writing import widths, workbook_bytes
from bastion.geo.models import Level, Node
from bastion.reports import registry
from bastion.reports.queries import report_table

FLAG_COLUMNS = ("on_time", "late", "missing", "pending")


def _headers(child_level: str) -> list[str]:
    """The header row in the active language."""
    flag_labels = {
        "on_time": _("Submitted on time"),
        "late": _("Submitted late"),
        "missing": _("Missing"),
        "pending": _("Not yet submitted"),
    }
    return [
        str(Level(child_level).label),
        *(str(f.label) for f in registry.figures()),
        *(flag_labels[k] for k in FLAG_COLUMNS),
    ]


def _languages() -> list[str]:
    active = translation.get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    first = next((c for c in codes if c.split("-")[0] == active.split("-")[0]), codes[0])
    return [first, *(c for c in codes if c != first)]


def report_xlsx(user, node: Node, day: dt.date, now: dt.datetime) -> bytes:
    table = report_table(user, node, day, now)
    child_level = "grid" if node.level == "grid" else node.child_level
    keys = registry.figure_keys()
    book = Workbook()
    sheet = book.active
    sheet.title = day.isoformat()
    state = table["state"]
    if state and state.frozen:
        status = _("frozen")
    elif state and state.computed_at:
        at = timezone.localtime(state.computed_at).strftime("%Y-%m-%d %H:%M")
        status = _("live, as at %(time)s") % {"time": at}
    else:
        status = _("not computed")
    title = _("%(node)s — daily report of %(day)s (%(status)s)") % {
        "node": node.name,
        "day": day.isoformat(),
        "status": status,
    }
    width = 1 + len(keys) + len(FLAG_COLUMNS)
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    languages = _languages()
    for code in languages:
        with translation.override(code):
            sheet.append(_headers(child_level))
    thin = Side(style="thin", color="999999")
    header_fill = PatternFill("solid", fgColor="E8EEF4")
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(languages)):
        for cell in row:
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for child, values, flags in table["rows"]:
        sheet.append([child.name, *(values[k] for k in keys), *(flags[k] for k in FLAG_COLUMNS)])
    sheet.append(
        [_("Total"), *(table["total"][k] for k in keys), *(table["flags"][k] for k in FLAG_COLUMNS)]
    )
    last = sheet.max_row
    for cell in sheet[last]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, max_row=last, max_col=width):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    widths(sheet, [22, *[14] * (width - 1)])
    sheet.freeze_panes = sheet.cell(2 + len(languages), 2)
    return workbook_bytes(book)


def report_xlsx_response(user, node: Node, day: dt.date, now: dt.datetime) -> HttpResponse:
    filename = f"daily-report-{node.pk}-{day.isoformat()}.xlsx"
    return xlsx_response(report_xlsx(user, node, day, now), filename)
