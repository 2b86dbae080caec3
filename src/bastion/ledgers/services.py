"""Ledgers in and out: the residents import (all-or-nothing), the import job that runs it in the
background, the downloadable template, and the .xlsx exports of residents and posts.

The web view, the API and the `bastion import` / `bastion export` commands all call these.
"""

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment

from bastion.accounts.models import RevealLog
from bastion.core import history, scope
from bastion.core.errors import Conflict, DomainError, Problem
from bastion.core.sheets.columns import Column, header_key, is_chinese, label, normalise, yes_no
from bastion.core.sheets.reading import cell_text
from bastion.core.sheets.writing import header_cells, text_cells, widths, workbook_bytes
from bastion.core.stored import value_problems
from bastion.geo.identity import mask_document, mask_id_number, mask_mobile
from bastion.geo.models import LEVEL_ORDER, DocKind, Household, Node, Resident, aged_cutoff
from bastion.geo.services import RESIDENT_FIELDS, guardian_problems, resident_clean
from bastion.geo.signals import households_created
from bastion.ledgers import queries
from bastion.ledgers.columns import (
    DOC_KIND_INDEX,
    DOC_KINDS,
    ERROR_COLUMNS,
    EXPORT_EXTRA_COLUMNS,
    FALSE_WORDS,
    FLAG_KEYS,
    HEADER_INDEX,
    POST_COLUMNS,
    PRESENCE_INDEX,
    PRESENCES,
    RELATION_INDEX,
    RELATIONS,
    RESIDENT_COLUMNS,
    SEX_INDEX,
    SEXES,
    TRUE_WORDS,
    column_header,
)
from bastion.ledgers.models import ImportJob, ImportMode, ImportPhase, ImportStatus
from bastion.ledgers.reading import sheet_read
from bastion.people.models import PostRole, phone_published

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PROGRESS_EVERY = 500  # rows between progress reports
WRITE_BATCH = 1000  # rows per multi-row INSERT
LOOKUP_CHUNK = 500  # ids per IN (...) lookup
HOUSEHOLD_FIELDS = ("room", "floor", "unit_id")
FLOOR_MIN, FLOOR_MAX = -5, 200
_NUMBER_LIKE = re.compile(r"^\d+(\.\d+)?[eE][+-]?\d+$")  # 2.20421E+17 as Excel shows it


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _report(progress: Progress | None, phase: str, done: int, total: int) -> None:
    if progress is not None:
        progress(phase, done, total)


# ---------------------------------------------------------------------------------------------
# Finding the unit a row names
# ---------------------------------------------------------------------------------------------

_AMBIGUOUS = -1
_SUFFIXES = {
    "community": ("社区居委会", "居委会", "社区", "村"),
    "grid": ("网格",),
    "building": ("号楼", "栋", "幢", "楼", "号"),
    "unit": ("单元",),
}
_PLACE_LEVELS = ("community", "grid", "building", "unit")


def _loose(level: str, text: str) -> str:
    for suffix in _SUFFIXES[level]:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def _unknown_place_message(level: str) -> str:
    return {
        "community": _("No community %(name)s inside %(parent)s."),
        "grid": _("No grid %(name)s in %(parent)s."),
        "building": _("No building %(name)s in %(parent)s."),
        "unit": _("No unit %(name)s in %(parent)s."),
    }[level]


class UnitDirectory:
    """The units inside one node, found by the names (or codes) of their community, grid,
    building and unit as a ledger writes them: '3号楼' finds a building named '3' and the
    reverse, a code finds its node, a name used twice under one parent finds nothing."""

    def __init__(self, node: Node):
        self.node = node
        nodes = list(
            node.subtree()
            .filter(level__in=_PLACE_LEVELS)
            .only(
                "id",
                "name",
                "code",
                "level",
                "path",
                "depth",
                "numchild",
                *[f"{lv}_id" for lv in LEVEL_ORDER],
            )
        )
        nodes += [a for a in node.ancestors() if a.level in _PLACE_LEVELS]
        self.by_id: dict[int, Node] = {n.pk: n for n in nodes}
        # level -> {(parent id, key): node id or _AMBIGUOUS}; exact names beat codes/loose keys
        self.exact: dict[str, dict] = {lv: {} for lv in _PLACE_LEVELS}
        self.loose: dict[str, dict] = {lv: {} for lv in _PLACE_LEVELS}
        for n in nodes:
            parent = self._parent_id(n)
            name = normalise(n.name).lower()
            self._add(self.exact[n.level], (parent, name), n.pk)
            for key in {_loose(n.level, name), normalise(n.code).lower()} - {"", name}:
                self._add(self.loose[n.level], (parent, key), n.pk)

    @staticmethod
    def _parent_id(n: Node) -> int | None:
        index = _PLACE_LEVELS.index(n.level)
        return getattr(n, f"{_PLACE_LEVELS[index - 1]}_id") if index else None

    @staticmethod
    def _add(index: dict, key: tuple, pk: int) -> None:
        index[key] = pk if index.get(key, pk) == pk else _AMBIGUOUS

    def find(self, level: str, parent: int | None, text: str) -> int | None:
        """The node id, None when unknown, _AMBIGUOUS when the text names several."""
        text = normalise(text).lower()
        for key in dict.fromkeys((text, _loose(level, text))):
            for index in (self.exact[level], self.loose[level]):
                found = index.get((parent, key))
                if found is not None:
                    return found
        return None

    def resolve(self, values: dict[str, str], row: int) -> tuple[Node | None, list[Problem]]:
        """The unit named by a row's community, grid, building and unit cells."""
        parent: int | None = None
        parent_name = self.node.name
        for level in _PLACE_LEVELS:
            text = values[level]
            if not text:
                message = _("%(column)s is required.") % {"column": column_header(level)}
                return None, [Problem(level, message, row)]
            found = self.find(level, parent, text)
            if found == _AMBIGUOUS:
                message = _(
                    "%(name)s names more than one place under %(parent)s; import into a "
                    "smaller area."
                ) % {"name": text, "parent": parent_name}
                return None, [Problem(level, message, row)]
            if found is None or (level == "community" and not self._inside(found)):
                message = _unknown_place_message(level) % {"name": text, "parent": parent_name}
                return None, [Problem(level, message, row)]
            parent, parent_name = found, self.by_id[found].name
        unit = self.by_id[parent]
        if not unit.path.startswith(self.node.path):
            message = _("Unit %(name)s is not inside %(parent)s.") % {
                "name": unit.name,
                "parent": self.node.name,
            }
            return None, [Problem("unit", message, row)]
        return unit, []

    def _inside(self, node_id: int) -> bool:
        """A community is usable when it is inside the node or above it (importing into a grid
        still names the grid's community)."""
        n = self.by_id[node_id]
        return n.path.startswith(self.node.path) or self.node.path.startswith(n.path)


# ---------------------------------------------------------------------------------------------
# Residents import
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    residents: int  # rows of the file (create mode: residents added)
    households: int
    # update mode: each changed person's changes, as the preview shows them (numbers masked)
    changes: list = field(default_factory=list)


@dataclass
class _Row:
    row: int
    clean: dict
    unit: Node | None
    room: str
    floor: int | None
    floor_bad: bool = False
    guardian: str = ""  # the guardian's name, a resident of the same room
    pk: int | None = None  # update mode: the registered resident the row's ID number found


def _columns_find(sheet_header: list[str], header_row: int) -> tuple[dict[str, int], list[Problem]]:
    """Which cell index holds each known column; every missing required column and every
    column given twice is a problem. Unknown columns (序号, 备注...) are ignored."""
    positions: dict[str, int] = {}
    problems = []
    for index, text in enumerate(sheet_header):
        key = HEADER_INDEX.get(header_key(text))
        if key is None:
            continue
        if key in positions:
            problems.append(
                Problem(key, _("Column %(column)s appears twice.") % {"column": text}, header_row)
            )
        else:
            positions[key] = index
    for column in RESIDENT_COLUMNS:
        if column.required and column.key not in positions:
            problems.append(
                Problem(
                    column.key,
                    _("Column %(zh)s (%(en)s) is missing.") % {"zh": column.zh, "en": column.en},
                    header_row,
                )
            )
    return positions, problems


def _flag(text: str) -> bool | None:
    text = header_key(text)
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def _floor(text: str) -> int | None:
    text = normalise(text).removesuffix("层").removesuffix("楼").removeprefix("第")
    try:
        return int(float(text))
    except ValueError:
        return None


def _row_parse(
    cells: list,
    row: int,
    positions: dict[str, int],
    units: UnitDirectory,
    registered: set[str],
    registered_docs: set[tuple[str, str]] | None = None,
) -> tuple[_Row, list[Problem]]:
    def raw(key: str):
        index = positions.get(key)
        return cells[index] if index is not None and index < len(cells) else ""

    def text(key: str) -> str:
        return normalise(cell_text(raw(key)))

    problems: list[Problem] = []
    data: dict = {"name": text("name"), "phone": text("phone")}
    id_cell = raw("id_number")
    id_text = text("id_number")
    if (
        isinstance(id_cell, (int, float))
        and not isinstance(id_cell, bool)
        or (_NUMBER_LIKE.match(id_text))
    ):
        problems.append(
            Problem(
                "id_number",
                _(
                    "The ID number was stored as a number and Excel kept only 15 digits; "
                    "format the column as text and enter it again."
                ),
                row,
            )
        )
    elif id_text:
        data["id_number"] = id_text
    data["doc_number"] = text("doc_number")
    data["registered_address"] = text("registered_address")
    data["birth_date"] = _birth(raw("birth_date"))
    for key, index in (
        ("relation", RELATION_INDEX),
        ("presence", PRESENCE_INDEX),
        ("doc_kind", DOC_KIND_INDEX),
        ("sex", SEX_INDEX),
    ):
        value = text(key)
        if value:  # an unknown word is passed on, for resident_clean to refuse
            data[key] = index.get(header_key(value), value)
    for key in (*FLAG_KEYS, "no_phone"):
        flag = _flag(text(key))
        if flag is None:
            problems.append(Problem(key, _("Write 是 or 否 (yes or no)."), row))
        data[key] = bool(flag)
    clean, clean_problems = resident_clean(
        data, row=row, registered=registered, registered_docs=registered_docs or set()
    )
    if any(p.field == "id_number" for p in problems):  # said once, with the Excel reason
        clean_problems = [p for p in clean_problems if p.field != "id_number"]
    problems += clean_problems

    unit, place_problems = units.resolve({lv: text(lv) for lv in _PLACE_LEVELS}, row)
    problems += place_problems
    room = text("room")
    if not room:
        problems.append(Problem("room", _("Room number is required."), row))
    elif len(room) > 20:
        problems.append(Problem("room", _("Room number is longer than 20 characters."), row))
    floor = None
    if floor_text := text("floor"):
        floor = _floor(floor_text)
        if floor is None or not FLOOR_MIN <= floor <= FLOOR_MAX:
            problems.append(
                Problem(
                    "floor",
                    _("Floor must be a whole number from %(lo)s to %(hi)s.")
                    % {"lo": FLOOR_MIN, "hi": FLOOR_MAX},
                    row,
                )
            )
            return _Row(row, clean, unit, room, None, True, text("guardian")), problems
    return _Row(row, clean, unit, room, floor, guardian=text("guardian")), problems


_RESIDENT_COLUMNS = {f.name: f for f in Resident._meta.concrete_fields}
_ROOM = Household._meta.get_field("room")


def _stored_problems(row: _Row, *, said: set) -> list[Problem]:
    """What the columns cannot hold (a NUL, text past its length), as a save would refuse it:
    checked with the other problems, so the row and field are named beside them (once: a
    field already refused is not refused again)."""
    problems = []
    for key, value in row.clean.items():
        if isinstance(value, str) and key in _RESIDENT_COLUMNS and key not in said:
            problems += value_problems(_RESIDENT_COLUMNS[key], value, row.row)
    if "room" not in said:
        problems += value_problems(_ROOM, row.room, row.row)
    if "\x00" in row.guardian:
        problems.append(Problem("guardian", _("NUL characters are not allowed."), row.row))
    return problems


def _birth(cell) -> object:
    """A birth date cell: a date (Excel) or its text, for `resident_clean` to check."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    return normalise(cell_text(cell))


def _registered_docs(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (document kind, number) pairs are already registered, one query per chunk; the
    numbers are compared as stored (upper case, no spaces)."""
    numbers = sorted({re.sub(r"[\s-]", "", n).upper() for _k, n in pairs if n})
    found: set[tuple[str, str]] = set()
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        found.update(
            Resident.objects.filter(doc_number__in=chunk).values_list("doc_kind", "doc_number")
        )
    return found


def _guardians_check(rows: list[_Row], existing: dict) -> list[Problem]:
    """Each named guardian must be one resident of the same room, in the file or already
    registered (one query for the rooms' residents), and follow the guardian rules. In update
    mode a registered resident the file also lists counts once, as the file says."""
    named = [r for r in rows if r.guardian and r.unit is not None]
    needs = [r for r in rows if r.clean.get("doc_kind") == DocKind.NONE and not r.guardian]
    problems = [
        Problem("guardian", _("A child without a document needs a guardian."), r.row) for r in needs
    ]
    if not named:
        return problems
    by_room: dict[tuple, list] = {}
    for r in rows:
        if r.unit is not None:
            person = Resident(pk=r.pk, name=r.clean["name"], **_guardian_fields(r.clean))
            person.household_id = (r.unit.pk, r.room)
            by_room.setdefault((r.unit.pk, r.room), []).append((person, r))
    room_of = {pk: key for key, (pk, _floor) in existing.items()}
    keys = {(r.unit.pk, r.room) for r in named}
    stored_ids = [room_of_pk for key, (room_of_pk, _f) in existing.items() if key in keys]
    in_file = [r.pk for r in rows if r.pk is not None]
    stored = Resident.objects.filter(household_id__in=stored_ids).exclude(pk__in=in_file)
    for person in stored.only("pk", "name", "household_id", "doc_kind", "birth_date"):
        key = room_of[person.household_id]
        person.household_id = key
        by_room.setdefault(key, []).append((person, None))
    for r in named:
        key = (r.unit.pk, r.room)
        matches = [
            p for p, source in by_room.get(key, []) if p.name == r.guardian and source is not r
        ]
        if len(matches) != 1:
            message = (
                _("No resident named %(name)s lives in room %(room)s.")
                if not matches
                else _("Several residents named %(name)s live in room %(room)s.")
            )
            problems.append(
                Problem("guardian", message % {"name": r.guardian, "room": r.room}, r.row)
            )
            continue
        r.clean["guardian"] = matches[0]
        problems += guardian_problems(
            clean=r.clean, guardian=matches[0], household_id=key, row=r.row
        )
    return problems


def _guardian_fields(clean: dict) -> dict:
    birth = clean.get("birth_date")
    return {"doc_kind": clean.get("doc_kind"), "birth_date": birth or dt.date.today()}


def _registered_ids(numbers: Iterable[str]) -> set[str]:
    numbers = sorted(set(numbers))
    found: set[str] = set()
    for chunk in _chunks(numbers, LOOKUP_CHUNK):
        found.update(
            Resident.objects.filter(id_number__in=chunk).values_list("id_number", flat=True)
        )
    return found


def _existing_households(unit_ids: set[int]) -> dict[tuple[int, str], tuple[int, int]]:
    """(unit id, room) -> (household id, floor) for the given units."""
    found = {}
    for chunk in _chunks(sorted(unit_ids), LOOKUP_CHUNK):
        for pk, unit_id, room, floor in Household.objects.filter(unit_id__in=chunk).values_list(
            "id", "unit_id", "room", "floor"
        ):
            found[(unit_id, room)] = (pk, floor)
    return found


def _rooms_check(rows: list[_Row], existing: dict) -> tuple[dict, list[Problem]]:
    """Floors must agree with the room's household (stored or earlier in the file), and a new
    room needs a floor. Returns the new rooms: (unit id, room) -> [floor, first row, unit]."""
    problems = []
    new: dict[tuple[int, str], list] = {}
    for r in rows:
        if r.unit is None or not r.room:
            continue
        key = (r.unit.pk, r.room)
        if key in existing:
            stored = existing[key][1]
            if r.floor is not None and r.floor != stored:
                problems.append(
                    Problem(
                        "floor",
                        _("Room %(room)s of this unit is on floor %(stored)s, not %(floor)s.")
                        % {"room": r.room, "stored": stored, "floor": r.floor},
                        r.row,
                    )
                )
        elif key in new:
            first = new[key]
            if first[0] is None:
                first[0] = r.floor
            elif r.floor is not None and r.floor != first[0]:
                problems.append(
                    Problem(
                        "floor",
                        _("Room %(room)s is given floor %(first)s on row %(other)s.")
                        % {"room": r.room, "first": first[0], "other": first[1]},
                        r.row,
                    )
                )
        else:
            new[key] = [r.floor, r.row, r.unit, r.floor_bad]
    for (_unit, room), (floor, row, _node, floor_bad) in new.items():
        if floor is None and not floor_bad:
            problems.append(
                Problem(
                    "floor",
                    _("Room %(room)s is new to this unit: give its floor.") % {"room": room},
                    row,
                )
            )
    return new, problems


def _duplicates(rows: list[_Row]) -> list[Problem]:
    """The same ID number (or the same other document) on several rows: every row named."""
    rows_of: dict[tuple, list[int]] = {}
    for r in rows:
        number = r.clean.get("id_number")
        if number and "birth_date" in r.clean:  # only numbers that passed the checksum
            rows_of.setdefault(("id_number", number), []).append(r.row)
        elif r.clean.get("doc_number"):
            rows_of.setdefault(("doc_number", r.clean["doc_kind"], r.clean["doc_number"]), [])
            rows_of[("doc_number", r.clean["doc_kind"], r.clean["doc_number"])].append(r.row)
    messages = {
        "id_number": _("The same ID number is on row %(rows)s."),
        "doc_number": _("The same document number is on row %(rows)s."),
    }
    problems = []
    for key, numbers_rows in rows_of.items():
        if len(numbers_rows) < 2:
            continue
        for row in numbers_rows:
            others = ", ".join(str(o) for o in numbers_rows if o != row)
            problems.append(Problem(key[0], messages[key[0]] % {"rows": others}, row))
    return problems


_COLUMN_ORDER = {c.key: i for i, c in enumerate(RESIDENT_COLUMNS)}


def _problem_order(problem: Problem) -> tuple:
    return (problem.row or 0, _COLUMN_ORDER.get(problem.field, -1))


def residents_import(
    *,
    actor: AbstractBaseUser | None,
    node: Node,
    filename: str,
    content: bytes,
    progress: Progress | None = None,
    mode: str = ImportMode.CREATE,
    confirmed: list | None = None,
) -> ImportResult:
    """Import every resident of a ledger into units inside `node`, or none.

    Every row is checked first (the same checks as a single resident, plus: the unit must lie
    inside `node`, the ID number must be unique in the file and new to Bastion, a new room
    needs its floor). If any row is bad, DomainError lists every bad row and nothing is
    written. Otherwise households and residents go in with multi-row INSERTs in one
    transaction, each with its ancestor columns and one change-log entry (source "import").
    The caller has checked that `actor` may change `node`.

    In update mode each row must find a registered resident by its ID number, one the actor
    may change; the same checks run, and the result lists what would change for each person
    (numbers masked). Nothing is written unless `confirmed` is given: the changes the
    importer saw in the preview, which must be exactly what the file would change now; then
    every change is written in one transaction, each in the person's history.
    """
    update = mode == ImportMode.UPDATE
    _report(progress, ImportPhase.READING, 0, 0)
    sheet = sheet_read(filename=filename, content=content)
    positions, header_problems = _columns_find(sheet.header, sheet.header_row)
    if header_problems:
        raise DomainError(header_problems)
    total = len(sheet.rows)
    limit = getattr(settings, "BASTION_IMPORT_MAX_ROWS", 200_000)
    if total > limit:
        raise DomainError(
            _(
                "The file has %(n)s rows; at most %(max)s can be imported at "
                "once. Split it and import the parts."
            )
            % {"n": total, "max": limit},
            field="file",
        )

    units = UnitDirectory(node)
    id_at = positions.get("id_number")
    # Which of the file's ID numbers are already registered: one query per chunk, not per row.
    numbers = [
        normalise(cell_text(cells[id_at])).upper()
        for _n, cells in sheet.rows
        if id_at is not None and id_at < len(cells)
    ]
    doc_at = positions.get("doc_number")
    registered_docs = _registered_docs(
        ("", cell_text(cells[doc_at]))
        for _n, cells in sheet.rows
        if doc_at is not None and doc_at < len(cells)
    )
    if update:
        matched = _residents_by_id(numbers)
        changeable = _changeable(actor, [r.pk for r in matched.values()])
        registered: set[str] = set()  # the ID number finds the person: not a duplicate here
        registered_docs -= {(r.doc_kind, r.doc_number) for r in matched.values()}
    else:
        matched, changeable = {}, set()
        registered = _registered_ids(numbers)
    rows: list[_Row] = []
    problems: list[Problem] = []
    _report(progress, ImportPhase.CHECKING, 0, total)
    for done, (row_number, cells) in enumerate(sheet.rows, start=1):
        parsed, row_problems = _row_parse(
            cells, row_number, positions, units, registered, registered_docs
        )
        if update:
            row_problems += _match(parsed, matched, changeable)
        row_problems += _stored_problems(parsed, said={p.field for p in row_problems})
        rows.append(parsed)
        problems += row_problems
        if done % PROGRESS_EVERY == 0:
            _report(progress, ImportPhase.CHECKING, done, total)
    if not update:
        problems = _duplicates_located(actor, problems, rows, registered)
    problems += _duplicates(rows)
    existing = _existing_households({r.unit.pk for r in rows if r.unit is not None})
    new_rooms, room_problems = _rooms_check(rows, existing)
    problems += room_problems
    problems += _guardians_check(rows, existing)
    _report(progress, ImportPhase.CHECKING, total, total)
    if problems:
        raise DomainError(sorted(problems, key=_problem_order))

    if update:
        by_pk = {r.pk: r for r in matched.values()}
        changes = _changes(rows, by_pk, existing)
        if confirmed is None:
            return ImportResult(residents=total, households=0, changes=changes)
        if changes != confirmed:
            raise DomainError(
                _(
                    "These residents were changed since the preview, so the preview is no "
                    "longer what would be written. Nothing was changed; upload the file again "
                    "to see the changes as they are now."
                ),
                field="file",
            )
    _report(progress, ImportPhase.WRITING, 0, total)
    try:
        with transaction.atomic():
            if update:
                return _residents_update(
                    actor=actor,
                    rows=rows,
                    by_pk=by_pk,
                    existing=existing,
                    new_rooms=new_rooms,
                    changes=changes,
                    progress=progress,
                )
            return _residents_write(
                actor=actor, rows=rows, existing=existing, new_rooms=new_rooms, progress=progress
            )
    except IntegrityError:
        # Someone registered one of these people or rooms while the file was being checked.
        logger.warning(
            "import into node %s collided with a concurrent write", node.pk, exc_info=True
        )
        raise DomainError(
            _(
                "Another change to the same residents or rooms was saved while "
                "this file was being checked. Nothing was imported; try again."
            ),
            field="file",
        ) from None


# ---------------------------------------------------------------------------------------------
# Update mode, and where a refused duplicate is registered
# ---------------------------------------------------------------------------------------------

# What an update may change, in the order the preview lists it (the ID number is the key;
# birth date and sex come from it).
UPDATE_FIELDS = (
    "name",
    "phone",
    "no_phone",
    "relation",
    "presence",
    *FLAG_KEYS,
    "doc_kind",
    "doc_number",
    "registered_address",
)
_MASKS = {"phone": mask_mobile, "doc_number": mask_document}


def _residents_by_id(numbers: Iterable[str]) -> dict[str, Resident]:
    """The registered residents with these ID numbers, with their household and guardian."""
    found: dict[str, Resident] = {}
    for chunk in _chunks(sorted(set(numbers)), LOOKUP_CHUNK):
        for r in Resident.objects.filter(id_number__in=chunk).select_related(
            "household", "guardian"
        ):
            found[r.id_number] = r
    return found


def _changeable(actor, pks: list[int]) -> set[int]:
    """Which of these residents the actor may change (a command-line import may change all)."""
    if actor is None:
        return set(pks)
    allowed: set[int] = set()
    for chunk in _chunks(sorted(pks), LOOKUP_CHUNK):
        allowed.update(
            Resident.objects.restrict(actor, scope.CHANGE)
            .filter(pk__in=chunk)
            .values_list("pk", flat=True)
        )
    return allowed


def _match(row: _Row, matched: dict[str, Resident], changeable: set[int]) -> list[Problem]:
    """Update mode: the registered resident a row's ID number finds, or why none."""
    number = row.clean.get("id_number")
    if not number:
        message = _("In update mode each row is found by its ID number; this row has none.")
    elif number not in matched:
        if "birth_date" not in row.clean:  # a bad number is already refused with its reason
            return []
        message = _(
            "No resident with this ID number is registered; add new residents in create mode."
        )
    elif matched[number].pk not in changeable:
        message = _(
            "This person is registered elsewhere, outside your area; ask that area to "
            "change or move them."
        )
    else:
        row.pk = matched[number].pk
        return []
    return [Problem("id_number", message, row.row)]


def _addresses(households: Iterable[Household]) -> dict[int, str]:
    """Household id → its address: community, grid, building, unit and room."""
    households = list(households)
    levels = ("community", "grid", "building", "unit")
    ids = {getattr(h, f"{lv}_id") for h in households for lv in levels}
    names = dict(Node.objects.filter(pk__in=ids - {None}).values_list("pk", "name"))
    return {
        h.pk: " ".join(
            [*(names[pk] for lv in levels if (pk := getattr(h, f"{lv}_id")) in names), h.room]
        )
        for h in households
    }


def _duplicates_located(
    actor, problems: list[Problem], rows: list[_Row], registered: set[str]
) -> list[Problem]:
    """Create mode: say where each refused duplicate is registered, if the importer may see
    that household; "elsewhere" if not (so the refusal leaks nothing outside the scope)."""
    taken_message = _("ID number is already registered.")
    number_of = {r.row: r.clean.get("id_number") for r in rows}
    taken = {
        number_of[p.row]
        for p in problems
        if p.field == "id_number" and p.message == taken_message and number_of.get(p.row)
    }
    if not taken:
        return problems
    found = Resident.objects.filter(id_number__in=taken)
    if actor is not None:
        visible = found.restrict(actor, scope.VIEW) if not actor.is_superuser else found
    else:
        visible = found
    where = dict(visible.values_list("id_number", "household_id"))
    addresses = _addresses(Household.objects.filter(pk__in=set(where.values())))
    out = []
    for p in problems:
        number = number_of.get(p.row)
        if p.field == "id_number" and p.message == taken_message and number in taken:
            if number in where:
                message = _(
                    "ID number is already registered, at %(address)s. To change this "
                    "person's details, import the file in update mode."
                ) % {"address": addresses[where[number]]}
            else:
                message = _("ID number is already registered elsewhere, outside your area.")
            p = Problem("id_number", message, p.row)
        out.append(p)
    return out


def _shown(key: str, value) -> str:
    """A value as the preview shows it: labels for choices, yes/no, numbers masked."""
    if key in _MASKS:
        return _MASKS[key](value or "")
    if isinstance(value, bool):
        return yes_no(value)
    if key == "relation":
        return label(RELATIONS, value)
    if key == "presence":
        return label(PRESENCES, value)
    if key == "doc_kind":
        return label(DOC_KINDS, value)
    return "" if value is None else str(value)


def _changes(rows: list[_Row], by_pk: dict[int, Resident], existing: dict) -> list[dict]:
    """Update mode: for each row that changes its person, every field: old → new."""
    stored_households = [r.household for r in by_pk.values()]
    addresses = _addresses(stored_households)
    new_addresses = {}
    for r in rows:  # the address a row names, in the same words
        key = (r.unit.pk, r.room)
        if key not in new_addresses:
            h = Household(room=r.room)
            h.pk = -len(new_addresses) - 1
            h.locate(r.unit)
            new_addresses[key] = h
    named = _addresses(new_addresses.values())
    out = []
    for r in rows:
        person = by_pk[r.pk]
        changed = [
            {"field": key, "old": _shown(key, old), "new": _shown(key, new)}
            for key in UPDATE_FIELDS
            if (old := getattr(person, key)) != (new := r.clean.get(key, old))
        ]
        key = (r.unit.pk, r.room)
        if existing.get(key, (None,))[0] != person.household_id:
            changed.append(
                {
                    "field": "room",
                    "old": addresses[person.household_id],
                    "new": named[new_addresses[key].pk],
                }
            )
        guardian = r.clean.get("guardian")
        if (guardian.pk if guardian else None) != person.guardian_id:
            changed.append(
                {
                    "field": "guardian",
                    "old": person.guardian.name if person.guardian_id else "",
                    "new": guardian.name if guardian else "",
                }
            )
        if changed:
            out.append(
                {"row": r.row, "resident_id": person.pk, "name": person.name, "changes": changed}
            )
    return out


def _households_create(*, actor, new_rooms: dict) -> list[Household]:
    """The rooms new to their units, in one multi-row insert, recorded and announced."""
    households = []
    for (_unit_id, room), (floor, _row, unit, _bad) in new_rooms.items():
        household = Household(room=room, floor=floor)
        household.locate(unit)
        household.unit = unit  # so str() and the change log need no query
        households.append(household)
    Household.objects.bulk_create(households, batch_size=WRITE_BATCH)
    history.record_many(actor, households, "create", HOUSEHOLD_FIELDS, source="import")
    households_created.send(Household, households=households)
    return households


def _residents_update(
    *,
    actor,
    rows: list[_Row],
    by_pk: dict[int, Resident],
    existing: dict,
    new_rooms: dict,
    changes: list[dict],
    progress: Progress | None,
) -> ImportResult:
    """Write the previewed changes: each changed person saved and recorded in their history
    (source "import"); new rooms first."""
    households = _households_create(actor=actor, new_rooms=new_rooms)
    household_id = {key: pk for key, (pk, _floor) in existing.items()}
    household_id |= {(h.unit_id, h.room): h.pk for h in households}
    changed_rows = {c["row"] for c in changes}
    total = len(changed_rows)
    done = 0
    for r in rows:
        if r.row not in changed_rows:
            continue
        person = by_pk[r.pk]
        before = history.snapshot(person, RESIDENT_FIELDS)
        for key in UPDATE_FIELDS:
            if key in r.clean:
                setattr(person, key, r.clean[key])
        guardian = r.clean.get("guardian")
        person.guardian_id = guardian.pk if guardian else None
        target = household_id[(r.unit.pk, r.room)]
        if target != person.household_id:
            person.household_id = target
            person.locate(r.unit)
        person.save()
        history.record_update(actor, person, before, RESIDENT_FIELDS, source="import")
        done += 1
        if done % PROGRESS_EVERY == 0:
            _report(progress, ImportPhase.WRITING, done, total)
    _report(progress, ImportPhase.WRITING, total, total)
    return ImportResult(residents=len(rows), households=len(households), changes=changes)


def _row_of(rows: list[_Row], person: Resident) -> int:
    """The file row an unsaved guardian was read from (same room, same name)."""
    key = person.household_id
    return next(
        r.row for r in rows if (r.unit.pk, r.room) == key and r.clean["name"] == person.name
    )


def _residents_write(
    *, actor, rows: list[_Row], existing: dict, new_rooms: dict, progress: Progress | None
) -> ImportResult:
    taken = _registered_ids(r.clean["id_number"] for r in rows if r.clean["id_number"])
    if taken:
        raise DomainError(
            [
                Problem("id_number", _("ID number is already registered."), r.row)
                for r in rows
                if r.clean["id_number"] in taken
            ]
        )
    households = _households_create(actor=actor, new_rooms=new_rooms)
    household_id = {key: pk for key, (pk, _floor) in existing.items()}
    household_id |= {(h.unit_id, h.room): h.pk for h in households}

    residents = []
    for r in rows:
        fields = {k: v for k, v in r.clean.items() if k != "guardian"}
        resident = Resident(household_id=household_id[(r.unit.pk, r.room)], **fields)
        resident.locate(r.unit)
        residents.append(resident)
    # Guardians before the children under them, whose rows then point at their ids.
    made = {id(r): resident for r, resident in zip(rows, residents, strict=True)}
    wards = [(r, made[id(r)]) for r in rows if r.clean.get("guardian") is not None]
    ward_set = {id(resident) for _r, resident in wards}
    total = len(residents)
    first = [resident for resident in residents if id(resident) not in ward_set]
    for done, batch in enumerate(_chunks(first, WRITE_BATCH), start=1):
        Resident.objects.bulk_create(batch)
        _report(progress, ImportPhase.WRITING, min(done * WRITE_BATCH, total), total)
    if wards:
        by_row = {r.row: resident for r, resident in zip(rows, residents, strict=True)}
        for r, resident in wards:
            guardian = r.clean["guardian"]
            resident.guardian_id = guardian.pk or by_row[_row_of(rows, guardian)].pk
        Resident.objects.bulk_create([resident for _r, resident in wards])
    history.record_many(actor, residents, "create", RESIDENT_FIELDS, source="import")
    return ImportResult(residents=total, households=len(households))


# ---------------------------------------------------------------------------------------------
# Import jobs
# ---------------------------------------------------------------------------------------------


def upload_size_check(*, size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            field="file",
        )


def import_job_create(
    *,
    user: AbstractBaseUser,
    node: Node,
    filename: str,
    content: bytes,
    language: str | None = None,
    mode: str = ImportMode.CREATE,
) -> ImportJob:
    """Record an uploaded file as a queued job on `node`, which the user must be able to
    change. The file is checked and imported by `import_run` (in update mode checked into a
    preview, applied once `import_confirm`ed)."""
    if mode not in ImportMode.values:
        raise DomainError(_("Unknown import mode."), field="mode")
    if not scope.can(user, scope.CHANGE, node):
        raise PermissionDenied(_("You may not change residents of this area."))
    upload_size_check(size=len(content))
    job = ImportJob(
        node=node,
        created_by=user,
        filename=(filename or "upload")[-200:],
        content=content,
        language=language or translation.get_language() or "",
        mode=mode,
    )
    job.locate(node)
    job.save()
    return job


def import_confirm(*, job: ImportJob, user: AbstractBaseUser) -> ImportJob:
    """Apply a previewed update: the job goes back to the queue, to be checked again and
    written only if the file still changes exactly what the preview showed."""
    if not scope.can(user, scope.CHANGE, job.node):
        raise PermissionDenied(_("You may not change residents of this area."))
    confirmed = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEW).update(
        status=ImportStatus.QUEUED,
        phase=ImportPhase.WAITING,
        confirmed_at=timezone.now(),
        processed_rows=0,
    )
    if not confirmed:
        raise Conflict(_("Only an import waiting for confirmation can be applied."), field="job")
    job.refresh_from_db()
    return job


def job_update(job: ImportJob, **fields) -> None:
    for key, value in fields.items():
        setattr(job, key, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_run(*, job_id: int, progress: Progress | None = None) -> ImportJob:
    """Run one queued import job: check the file, then import it all or reject it with every
    bad row. Progress is written to the job every few hundred rows. Running a job that is not
    queued any more (a retried task) does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), phase=ImportPhase.READING
    )
    job = ImportJob.objects.select_related("node", "created_by").get(pk=job_id)
    if not claimed:
        return job

    def report(phase: str, done: int, total: int) -> None:
        fields: dict = {"phase": phase, "total_rows": total}
        if phase == ImportPhase.CHECKING:
            fields["processed_rows"] = done
        elif phase == ImportPhase.WRITING:
            fields |= {"processed_rows": total, "imported_rows": done}
        if phase != ImportPhase.READING:
            job_update(job, **fields)
        _report(progress, phase, done, total)

    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            if not scope.can(job.created_by, scope.CHANGE, job.node):
                raise DomainError(_("You may not change residents of this area."), field="node")
            result = residents_import(
                actor=job.created_by,
                node=job.node,
                filename=job.filename,
                content=bytes(job.content),
                progress=report,
                mode=job.mode,
                confirmed=job.changes if job.confirmed_at else None,
            )
        except DomainError as e:
            job_update(
                job,
                status=ImportStatus.REJECTED,
                errors=e.as_list(),
                imported_rows=0,
                finished_at=timezone.now(),
                content=b"",
            )
        except Exception:
            logger.exception("import job %s failed", job.pk)
            job_update(
                job,
                status=ImportStatus.FAILED,
                imported_rows=0,
                content=b"",
                finished_at=timezone.now(),
                errors=[
                    {
                        "field": "file",
                        "message": _(
                            "The import stopped on an unexpected error; nothing "
                            "was imported. Tell your administrator."
                        ),
                    }
                ],
            )
        else:
            previewed = job.mode == ImportMode.UPDATE and not job.confirmed_at
            if previewed and result.changes:  # kept, with the file, until confirmed
                job_update(
                    job,
                    status=ImportStatus.PREVIEW,
                    total_rows=result.residents,
                    processed_rows=result.residents,
                    imported_rows=0,
                    changes=result.changes,
                )
                return job
            written = len(result.changes) if job.mode == ImportMode.UPDATE else result.residents
            job_update(
                job,
                status=ImportStatus.DONE,
                phase=ImportPhase.WRITING,
                total_rows=result.residents,
                processed_rows=result.residents,
                imported_rows=written,
                created_households=result.households,
                finished_at=timezone.now(),
                content=b"",
            )
    return job


def job_problems(job: ImportJob, *, language: str | None = None) -> list[dict]:
    """The job's problems for an error table: row, column header (in the reader's language)
    and message."""
    return [
        {
            "row": e.get("row"),
            "field": e.get("field"),
            "column": _("File")
            if e.get("field") in (None, "file")
            else column_header(e.get("field"), language),
            "message": e.get("message", ""),
        }
        for e in job.errors
    ]


def job_changes(job: ImportJob, *, language: str | None = None) -> list[dict]:
    """An update job's changes (previewed or written), each field with its column header in
    the reader's language (a move names the whole address)."""
    return [
        c
        | {
            "changes": [
                ch
                | {
                    "column": _("Address")
                    if ch["field"] == "room"
                    else column_header(ch["field"], language)
                }
                for ch in c["changes"]
            ]
        }
        for c in job.changes
    ]


# ---------------------------------------------------------------------------------------------
# Writing workbooks
# ---------------------------------------------------------------------------------------------

_RESIDENT_WIDTHS = {
    "name": 10,
    "id_number": 21,
    "phone": 14,
    "relation": 11,
    "community": 14,
    "grid": 12,
    "building": 10,
    "unit": 8,
    "room": 8,
    "floor": 6,
    "presence": 9,
}


def template_build(*, language: str | None = None) -> bytes:
    """The residents import template: the header row and one example row, and a second sheet
    that explains each column — headers in the given (or active) language."""
    language = language or translation.get_language()
    chinese = is_chinese(language)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民" if chinese else "Residents")
    widths(sheet, [_RESIDENT_WIDTHS.get(c.key, 9) for c in RESIDENT_COLUMNS])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, RESIDENT_COLUMNS, language, required=True))
    example = []
    for c in RESIDENT_COLUMNS:
        value = c.example
        if c.key == "relation":
            value = label(RELATIONS, "head", language)
        elif c.key == "presence":
            value = label(PRESENCES, "home", language)
        elif c.key in FLAG_KEYS:
            value = yes_no(False, language)
        example.append(value)
    sheet.append(text_cells(sheet, example, set(range(len(RESIDENT_COLUMNS)))))

    help_sheet = workbook.create_sheet("填写说明" if chinese else "How to fill in")
    widths(help_sheet, [16, 10, 90])
    help_sheet.append(
        header_cells(
            help_sheet,
            (
                Column("column", "列", "Column"),
                Column("required", "必填", "Required"),
                Column("help", "说明", "What to enter"),
            ),
            language,
        )
    )
    for c in RESIDENT_COLUMNS:
        help_sheet.append(
            text_cells(help_sheet, [c.header(language), yes_no(c.required, language), str(c.help)])
        )
    help_sheet.append([])
    for line in (
        _(
            "Keep the header row. Columns may be in any order; extra columns are ignored; "
            "Chinese or English headers are both accepted."
        ),
        _("Delete the example row before importing."),
        _("Save as .xlsx, or as CSV (UTF-8 or GB18030)."),
        _(
            "The whole file is imported or none of it: if any row is wrong, every wrong row is "
            "listed with its row number and nothing is saved."
        ),
    ):
        note = WriteOnlyCell(help_sheet, value=line)
        note.alignment = Alignment(wrap_text=False)
        help_sheet.append([note])
    return workbook_bytes(workbook)


def import_errors_export(*, job: ImportJob, language: str | None = None) -> bytes:
    """Every problem of a rejected job as a workbook, for big files."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误" if is_chinese(language) else "Problems")
    widths(sheet, [8, 14, 90])
    sheet.append(header_cells(sheet, ERROR_COLUMNS, language))
    for p in job_problems(job, language=language):
        sheet.append(text_cells(sheet, [p["row"], p["column"], p["message"]]))
    return workbook_bytes(workbook)


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------


def _revealable(user, reveal: bool):
    """An annotation: whether this row's numbers go out in full."""
    if not reveal:
        return Value(False, output_field=BooleanField())
    if not scope.has_action(user, scope.REVEAL):
        raise PermissionDenied(_("Your role may not see ID and phone numbers in full."))
    condition = scope.scope_q(user, scope.REVEAL)
    if user.is_superuser or not condition:
        return Value(True, output_field=BooleanField())
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


ANCESTOR_COLUMNS = [f"{level}_id" for level in LEVEL_ORDER]


def _reveal_of_person(person) -> RevealLog:
    entry = RevealLog(
        subject_type="person",
        subject_id=person.pk,
        subject_name=person.name[:50],
        field="phone",
        via="export",
    )
    entry.locate(person)
    return entry


def _reveals_log(user, entries: list[RevealLog]) -> None:
    for entry in entries:
        entry.user = user
    RevealLog.objects.bulk_create(entries, batch_size=WRITE_BATCH)


_TEXT_KEYS = ("id_number", "phone", "doc_number")


def residents_export(
    *,
    user: AbstractBaseUser,
    node: Node,
    out: IO[bytes],
    reveal: bool = False,
    language: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the residents of `node`'s subtree that `user` may see to `out` as .xlsx; returns
    how many. ID and phone numbers are masked unless `reveal` is asked for, and then shown in
    full only where the user's role may reveal — each resident shown in full is logged
    (RevealLog, via "export")."""
    language = language or translation.get_language()
    rows = (
        queries.residents_for_export(user=user, node=node)
        .annotate(revealable=_revealable(user, reveal))
        .values(*queries.RESIDENT_EXPORT_FIELDS, "revealable")
    )
    total = rows.count()
    names = queries.node_names(node=node)
    columns = (*RESIDENT_COLUMNS, *EXPORT_EXTRA_COLUMNS)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民" if is_chinese(language) else "Residents")
    widths(sheet, [_RESIDENT_WIDTHS.get(c.key, 9) for c in columns])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, columns, language))
    cutoff = aged_cutoff()
    reveals: list[RevealLog] = []
    text_columns = {i for i, c in enumerate(columns) if c.key in _TEXT_KEYS}
    _report(progress, "writing", 0, total)
    for done, r in enumerate(rows.iterator(chunk_size=2000), start=1):
        if r["revealable"]:
            id_number, phone, doc_number = r["id_number"] or "", r["phone"], r["doc_number"]
            shown = [f for f in ("id_number", "doc_number", "phone") if r[f]]
            reveals.append(
                RevealLog(
                    subject_type="resident",
                    subject_id=r["id"],
                    subject_name=r["name"][:50],
                    via="export",
                    field=",".join(shown),
                    **{c: r[c] for c in ANCESTOR_COLUMNS},
                )
            )
        else:
            id_number, phone = mask_id_number(r["id_number"] or ""), mask_mobile(r["phone"])
            doc_number = mask_document(r["doc_number"])
        by_key = {
            "name": r["name"],
            "id_number": id_number,
            "phone": phone,
            "relation": label(RELATIONS, r["relation"], language),
            "community": names.get(r["community_id"], ""),
            "grid": names.get(r["grid_id"], ""),
            "building": names.get(r["building_id"], ""),
            "unit": names.get(r["unit_id"], ""),
            "room": r["household__room"],
            "floor": r["household__floor"],
            "presence": label(PRESENCES, r["presence"], language),
            **{f: yes_no(r[f], language) for f in FLAG_KEYS},
            "doc_kind": label(DOC_KINDS, r["doc_kind"], language),
            "doc_number": doc_number,
            "sex": label(SEXES, r["sex"], language),
            "birth_date": r["birth_date"],
            "guardian": r["guardian__name"] or "",
            "no_phone": yes_no(r["no_phone"], language),
            "registered_address": r["registered_address"],
            "aged": yes_no(r["birth_date"] <= cutoff, language),
        }
        values = [by_key[c.key] for c in columns]
        sheet.append(text_cells(sheet, values, text_columns))
        if done % PROGRESS_EVERY == 0:
            _report(progress, "writing", done, total)
    workbook.save(out)
    with transaction.atomic():
        _reveals_log(user, reveals)
    _report(progress, "writing", total, total)
    return total


def posts_export(
    *,
    user: AbstractBaseUser,
    node: Node,
    out: IO[bytes],
    reveal: bool = False,
    language: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the current posts in `node`'s subtree that `user` may see to `out` as .xlsx:
    person, post, place, phone (masked unless revealed as for residents; each person shown in
    full is logged once)."""
    language = language or translation.get_language()
    posts = queries.posts_for_export(user=user, node=node).annotate(
        revealable=_revealable(user, reveal)
    )
    total = posts.count()
    names = queries.node_names(node=node)
    start = LEVEL_ORDER.index(node.level)
    role_labels = {r.value: r.label for r in PostRole}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("职务" if is_chinese(language) else "Posts")
    widths(sheet, [10, 16, 14, 40, 14, 14, 12])
    sheet.freeze_panes = "A2"
    sheet.append(header_cells(sheet, POST_COLUMNS, language))
    revealed: dict[int, RevealLog] = {}
    _report(progress, "writing", 0, total)
    for done, p in enumerate(posts.iterator(chunk_size=2000), start=1):
        path = " › ".join(
            names[pk]
            for level in LEVEL_ORDER[start:]
            if (pk := getattr(p, f"{level}_id")) is not None and pk in names
        )
        if phone_published(p):  # the building notice prints it: no reveal to log
            phone = p.person.phone
        elif p.revealable:
            phone = p.person.phone
            revealed.setdefault(
                p.person_id,
                _reveal_of_person(p.person),
            )
        else:
            phone = mask_mobile(p.person.phone)
        values = [
            p.person.name,
            str(role_labels.get(p.role, p.role)),
            p.title,
            path,
            p.zone.name if p.zone_id else "",
            phone,
            p.started_on,
        ]
        sheet.append(text_cells(sheet, values, {5}))
        if done % PROGRESS_EVERY == 0:
            _report(progress, "writing", done, total)
    workbook.save(out)
    with transaction.atomic():
        _reveals_log(user, list(revealed.values()))
    _report(progress, "writing", total, total)
    return total


def export_filename(*, what: str, node: Node) -> str:
    stamp = timezone.localdate().strftime("%Y%m%d")
    return f"{what}-{node.name}-{stamp}.xlsx"
