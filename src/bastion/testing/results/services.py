"""Lab results: a file or list of results read, checked and applied to the tubes all-or-nothing,
the positive pools' people put on the retest list."""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import (
    transaction,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import history
from bastion.core.errors import DomainError, Problem
from bastion.ledgers.reading import cell_text, sheet_read
from bastion.testing.results import response
from bastion.testing.results.models import ResultImport, Retest
from bastion.testing.rounds.models import Round
from bastion.testing.rounds.services import ANCESTORS, is_user
from bastion.testing.scans.codes import normalise_barcode
from bastion.testing.scans.models import Result, Scan, ScanKind, Tube, TubeKind, TubeStatus

LOOKUP_CHUNK = 500


# --------------------------------------------------------------------------------- results

RESULT_WORDS = {
    "negative": Result.NEGATIVE,
    "neg": Result.NEGATIVE,
    "阴性": Result.NEGATIVE,
    "-": Result.NEGATIVE,
    "positive": Result.POSITIVE,
    "pos": Result.POSITIVE,
    "阳性": Result.POSITIVE,
    "+": Result.POSITIVE,
    "invalid": Result.INVALID,
    "无效": Result.INVALID,
    "inv": Result.INVALID,
}


TUBE_HEADERS = {
    "tube",
    "barcode",
    "tubebarcode",
    "管号",
    "试管编号",
    "试管条码",
    "试管号",
    "条码",
    "样本编号",
    "采样管编号",
}


RESULT_HEADERS = {"result", "status", "结果", "检测结果"}


@dataclass(frozen=True)
class ResultRow:
    row: int | None  # the row number in the file (None for API input)
    tube: str
    result: str


def _header(text: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", text).lower()


def result_rows_read(*, filename: str, content: bytes) -> list[ResultRow]:
    """The rows of a lab's result file (.xlsx or .csv): a tube column and a result column,
    with English or Chinese headers."""
    sheet = sheet_read(filename=filename, content=content)
    header, body = sheet.header, sheet.rows

    def columns(cells: list) -> tuple[int | None, int | None]:
        names = [_header(cell_text(c)) for c in cells]
        return (
            next((i for i, h in enumerate(names) if h in TUBE_HEADERS), None),
            next((i for i, h in enumerate(names) if h in RESULT_HEADERS), None),
        )

    tube_col, result_col = columns(header)
    if tube_col is None or result_col is None:
        # The ledger reader guessed another row (a title above the header): look further.
        for position, (_number, cells) in enumerate(body[:20]):
            found = columns(cells)
            if None not in found:
                tube_col, result_col = found
                body = body[position + 1 :]
                break
    sheet_rows = body
    problems = []
    if tube_col is None:
        problems.append(
            Problem("file", _("No tube column: name it “tube” or “管号”."), sheet.header_row)
        )
    if result_col is None:
        problems.append(
            Problem("file", _("No result column: name it “result” or “结果”."), sheet.header_row)
        )
    if problems:
        raise DomainError(problems)

    def cell(cells: list, i: int) -> str:
        return cell_text(cells[i]) if i < len(cells) else ""

    return [
        ResultRow(number, cell(cells, tube_col), cell(cells, result_col))
        for number, cells in sheet_rows
    ]


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def results_import(
    *,
    actor,
    round: Round,
    rows: Sequence[ResultRow],
    filename: str = "",
    client_id: uuid.UUID | None = None,
    source: str = "web",
) -> ResultImport:
    """Apply a lab's per-tube results to a round, all or nothing: any bad row (unknown tube,
    bad result, a tube given two results) is named and nothing changes. A tube that already
    has the same result is left as it is, so a file sent twice changes nothing the second time.
    A positive pooled tube marks its residents for a single-tube retest; an invalid tube puts
    its people back to not sampled."""
    if (
        client_id is not None
        and (found := ResultImport.objects.filter(client_id=client_id).first()) is not None
    ):
        return found
    with transaction.atomic():
        return _results_apply(actor, round, rows, filename, client_id, source)


def _row_label(row: ResultRow, index: int) -> int:
    return row.row if row.row is not None else index + 1


def _results_apply(
    actor, round_: Round, rows: Sequence[ResultRow], filename: str, client_id, source: str
) -> ResultImport:
    problems: list[Problem] = []
    wanted: dict[str, tuple[str, int]] = {}
    if not rows:
        raise DomainError(_("No results given."), field="results")
    for index, row in enumerate(rows):
        number = _row_label(row, index)
        try:
            barcode = normalise_barcode(row.tube)
        except DomainError as e:
            problems.append(Problem("tube", str(e), number))
            continue
        result = RESULT_WORDS.get(row.result.strip().lower())
        if result is None:
            problems.append(
                Problem(
                    "result",
                    _("“%(value)s” is not a result: use negative, positive or invalid.")
                    % {"value": row.result},
                    number,
                )
            )
            continue
        if barcode in wanted and wanted[barcode][0] != result:
            problems.append(
                Problem(
                    "result", _("Tube %(tube)s is given two results.") % {"tube": barcode}, number
                )
            )
            continue
        wanted.setdefault(barcode, (result, number))
    tubes: dict[str, Tube] = {}
    for chunk in _chunks(list(wanted)):
        for t in Tube.objects.select_for_update().filter(round=round_, barcode__in=chunk):
            tubes[t.barcode] = t
    changes: dict[str, list[Tube]] = {r: [] for r in Result.values}
    for barcode, (result, number) in wanted.items():
        tube = tubes.get(barcode)
        if tube is None:
            problems.append(
                Problem("tube", _("No tube %(tube)s in this round.") % {"tube": barcode}, number)
            )
        elif tube.result and tube.result != result:
            problems.append(
                Problem(
                    "result",
                    _("Tube %(tube)s already has the result %(r)s.")
                    % {"tube": barcode, "r": tube.get_result_display()},
                    number,
                )
            )
        elif not tube.result:
            if tube.filled == 0:
                problems.append(
                    Problem("tube", _("Tube %(tube)s holds nobody.") % {"tube": barcode}, number)
                )
            else:
                changes[result].append(tube)
    if problems:
        raise DomainError(sorted(problems, key=lambda p: p.row or 0))

    now = timezone.now()
    batch = ResultImport(
        round=round_,
        filename=filename[:200],
        by=actor if is_user(actor) else None,
        source=source,
        client_id=client_id,
        tubes=sum(len(v) for v in changes.values()),
        positive=len(changes[Result.POSITIVE]),
        invalid=len(changes[Result.INVALID]),
    )
    batch.locate(round_.node)
    batch.save()
    for result, changed in changes.items():
        for chunk in _chunks([t.pk for t in changed]):
            Tube.objects.filter(pk__in=chunk).update(
                result=result,
                resulted_at=now,
                result_import=batch,
                status=TubeStatus.CLOSED,
                closed_at=Coalesce("closed_at", now),
            )
            scans = Scan.objects.filter(tube_id__in=chunk, voided_at__isnull=True)
            if result == Result.INVALID:
                scans.update(result=result, voided_at=now)
                # Retests sampled into an invalid tube are due again.
                Retest.objects.filter(tube_id__in=chunk).update(tube=None, sampled_at=None)
            else:
                scans.update(result=result)
        for t in changed:
            t.result = result
    _retests_mark(round_, [t for t in changes[Result.POSITIVE] if t.kind != TubeKind.SINGLE])
    response.results_applied(round_=round_, changes=changes, at=now)  # notify, hold, close
    # The import is recorded once (each tube points at it); the results that set something
    # in motion, positive and invalid, are recorded on their tubes too.
    history.record(
        actor,
        batch,
        "create",
        {
            "tubes": [None, batch.tubes],
            "positive": [None, batch.positive],
            "invalid": [None, batch.invalid],
            "file": [None, batch.filename],
        },
        source=source,
    )
    history.record_many(
        actor,
        changes[Result.POSITIVE] + changes[Result.INVALID],
        "update",
        ["result"],
        source=source,
    )
    return batch


def _retests_mark(round_: Round, tubes: list[Tube]) -> int:
    """Mark the residents of positive pools for a single-tube retest."""
    if not tubes:
        return 0
    # In scan order, so retests are numbered in the order people were sampled (an unordered
    # read follows PostgreSQL's heap, which changes as rows are updated).
    rows = list(
        Scan.objects.filter(tube__in=tubes, kind=ScanKind.RESIDENT, retest=False)
        .order_by("pk")
        .values_list("resident_id", "tube_id", *ANCESTORS)
    )
    existing = set(
        Retest.objects.filter(round=round_, resident_id__in=[r[0] for r in rows]).values_list(
            "resident_id", flat=True
        )
    )
    retests = []
    for resident_id, tube_id, *located in rows:
        if resident_id in existing:
            continue
        retest = Retest(round=round_, resident_id=resident_id, source_tube_id=tube_id)
        for column, value in zip(ANCESTORS, located, strict=True):
            setattr(retest, column, value)
        retests.append(retest)
        existing.add(resident_id)
    Retest.objects.bulk_create(retests)
    return len(retests)
