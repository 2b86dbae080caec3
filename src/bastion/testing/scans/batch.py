# Over 600 lines: a batch of scans is one decision under one lock; its steps share private state.
"""The scan path: a batch of plain scans (no family code) at one station, decided and written
in one transaction.

The hot path: a fixed handful of queries whatever the batch size (replays, shifts, residents,
tubes locked in id order, already-sampled, multi-row INSERT, one conditional UPDATE per
touched tube). The guards are in the database (see models), and a batch that loses a race to
a concurrent writer (a unique index or a tube's fill moved under it) is rolled back whole and
evaluated again, so no pool is overfilled, no resident counted twice and no acknowledged scan
lost.
"""

import contextlib
import datetime as dt
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from dataclasses import field as _dc_field

from django.core.exceptions import ValidationError
from django.db import (
    DataError,
    IntegrityError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from bastion.core import rawsql
from bastion.core.bulk import insert_rows_returning
from bastion.core.errors import DomainError, Problem
from bastion.core.idempotency import item_fingerprint, keys_reused, keys_store, reuse_message
from bastion.geo.identity import normalise_mobile, parse_id_number
from bastion.geo.models import LEVEL_ORDER, Node, Resident
from bastion.incidents.queries import active_area_join
from bastion.testing.results.models import Retest
from bastion.testing.rounds.models import (
    Round,
    Shift,
    Station,
    tube_code_fits,
)
from bastion.testing.rounds.pooling import TubePooling, pooled
from bastion.testing.rounds.services import ANCESTORS, SHIFT_GRACE, is_user, locate_at
from bastion.testing.scans.codes import (
    documents_resolve,
    normalise_barcode,
    read_scanned,
)
from bastion.testing.scans.models import Scan, ScanKind, Tube, TubeKind, TubeStatus, WalkIn
from bastion.testing.scans.shifts import plausible, shift_among, shifts_around
from bastion.testing.scans.shown import PersonShown, person_shown

MAX_BATCH = 200  # scans per batch call


ATTEMPTS = 6  # evaluations of a batch that lost a race before giving up


# ----------------------------------------------------------------------------------- tubes


def new_tube(
    *, round: Round, station: Station, barcode: str, single: bool, at: dt.datetime, actor
) -> Tube:
    capacity = 1 if single else round.pool_size
    tube = Tube(
        round=round,
        station=station,
        barcode=barcode,
        capacity=capacity,
        kind=TubeKind.SINGLE if capacity == 1 else TubeKind.POOL,
        opened_at=at,
        opened_by_id=actor.pk if is_user(actor) else None,
    )
    locate_at(tube, station)
    return tube


def tube_code_refusal(round: Round, barcode: str) -> tuple[str, str] | None:
    """(reason, message) if `barcode` is not one of the round's tube labels (a typo, a word
    scanned by mistake): a new tube is opened only for a barcode the round's pattern takes."""
    if tube_code_fits(round.tube_pattern, barcode):
        return None
    return "bad_tube", _(
        "%(tube)s is not a tube barcode of this round: check the label and scan the tube again."
    ) % {"tube": barcode}


def tube_refusal(
    tube: "Tube | _SeenTube", round_id: int, station: Station
) -> tuple[str, str] | None:
    """(reason, message) if `tube` cannot take a scan of this round at this station."""
    if tube.round_id != round_id:
        return "tube_other_round", _("Tube %(tube)s was used in another round.") % {
            "tube": tube.barcode
        }
    if tube.station_id != station.pk:
        return "tube_other_station", _("Tube %(tube)s is open at another station.") % {
            "tube": tube.barcode
        }
    if tube.status != TubeStatus.OPEN:
        if tube.filled >= tube.capacity:
            return "tube_full", _("Tube %(tube)s is full (%(n)s/%(n)s): open a new tube.") % {
                "tube": tube.barcode,
                "n": tube.capacity,
            }
        return "tube_closed", _("Tube %(tube)s is closed: open a new tube.") % {
            "tube": tube.barcode
        }
    return None


# ----------------------------------------------------------------------------------- scans


@dataclass(frozen=True)
class ScanInput:
    """One scan as a device sends it. `code` is an ID number or a resident code; `tube` the
    barcode of the tube (opened at this station if it is new). A walk-in (an ID number
    unknown here) is taken only with `walk_in` set, so a mistyped number is not."""

    client_id: uuid.UUID
    tube: str
    code: str
    at: dt.datetime | None = None
    walk_in: bool = False
    name: str = ""
    phone: str = ""
    single: bool = False  # a new tube opened by this scan holds one person
    manual: bool = False  # typed in or picked by name at the station, not scanned

    def __post_init__(self) -> None:
        # A device clock without an offset is on local time (TIME_ZONE): every caller gets an
        # aware time to compare with now and with the shifts.
        if self.at is not None and timezone.is_naive(self.at):
            object.__setattr__(self, "at", timezone.make_aware(self.at))


@dataclass
class ScanOutcome:
    client_id: uuid.UUID
    status: str  # "accepted", "replayed" or "refused"
    reason: str = ""  # why refused: station_closed, tube_full, already_sampled, ...
    field: str | None = None
    message: str = ""
    tube: str = ""  # the tube the person is in (for already_sampled: the earlier tube)
    filled: int | None = None
    capacity: int | None = None
    tube_closed: bool = False
    kind: str = ""
    resident_id: int | None = None
    name: str = ""
    id_number: str = ""  # masked
    retest: bool = False
    scan_id: int | None = None
    at: dt.datetime | None = None
    manual: bool = False
    members: list["ScanOutcome"] = _dc_field(default_factory=list)  # a family code's scans

    @property
    def ok(self) -> bool:
        return self.status != "refused"


class ScanRefused(DomainError):
    """A single scan refused; carries the outcome (reason, and the tube for a resident
    already sampled)."""

    def __init__(self, outcome: ScanOutcome):
        self.outcome = outcome
        super().__init__([Problem(outcome.field, outcome.message)])


class _LostRace(Exception):
    """A tube's fill moved under the batch: evaluate the batch again."""


@dataclass
class _TubeState:
    tube: Tube
    new: bool
    filled: int
    status: str
    closed_at: dt.datetime | None = None
    shift: Shift | None = None  # a new tube's: it becomes the station's current tube


@dataclass
class _Person:
    id: int
    id_number: str
    name: str
    located: tuple = field(default_factory=tuple)


@dataclass
class _Accepted:
    index: int
    client_id: uuid.UUID
    round_id: int
    state: _TubeState
    kind: str
    resident_id: int | None
    walk_in: WalkIn | None
    retest: bool
    at: dt.datetime
    located: tuple
    name: str
    number: str
    scan_id: int | None = None
    filled: int = 0  # the tube's fill right after this scan
    closed: bool = False
    manual: bool = False
    shown: PersonShown | None = None  # what the reply shows of the person


SCAN_COLUMNS = (
    "client_id",
    "round_id",
    "tube_id",
    "station_id",
    "kind",
    "resident_id",
    "walk_in_id",
    "retest",
    "at",
    "recorded_at",
    "by_id",
    "result",
    "voided_at",
    "manual",
    *ANCESTORS,
)


def _tubes_locked(barcodes: set[str]) -> list[Tube]:
    """The tubes of these barcodes, locked in id order (so concurrent batches never deadlock
    on them) until the transaction ends: the one statement that reads a tube's fill."""
    if not barcodes:
        return []
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    among, params = rawsql.any_of("t.barcode", sorted(barcodes))
    return [
        tube
        for (tube,) in rawsql.instances(
            f"SELECT {{columns}} FROM {rawsql.table(Tube)} t WHERE {among} ORDER BY t.id{lock}",
            params,
            (Tube, "t"),
        )
    ]


def _tubes_insert(tubes: list[Tube]) -> None:
    """INSERT new tubes (every concrete column but the id) and set their ids."""
    fields = [f.attname for f in Tube._meta.concrete_fields if not f.primary_key]
    rows = [tuple(getattr(t, name) for name in fields) for t in tubes]
    for tube, pk in zip(tubes, insert_rows_returning(Tube, fields, rows), strict=True):
        tube.pk = pk
        tube._state.adding = False


def _tube_fill(state: "_TubeState") -> bool:
    """Move a tube's fill (and status) from what this batch read to what it wrote, with the
    kind an empty tube was fitted to by its first person; False when it moved under the batch."""
    tube = state.tube
    fitted = pooled(tube)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rawsql.table(Tube)} SET filled = %s, status = %s, closed_at = %s, kind = %s, "
            "capacity = %s, household_id = %s WHERE id = %s AND filled = %s AND status = %s",
            [
                state.filled,
                state.status,
                connection.ops.adapt_datetimefield_value(state.closed_at),
                fitted["kind"],
                fitted["capacity"],
                fitted["household_id"],
                tube.pk,
                tube.filled,
                TubeStatus.OPEN,
            ],
        )
        return cursor.rowcount == 1


def _residents(
    numbers: set[str], ids: set[int]
) -> tuple[dict[str, _Person], dict[int, _Person], dict[int, str]]:
    """The residents of these ID numbers and ids, by number and by id, and the control levels
    of the active areas over them ({node id: level}), in one statement."""
    by_number: dict[str, _Person] = {}
    by_id: dict[int, _Person] = {}
    levels: dict[int, str] = {}
    wanted = [(column, sorted(values)) for column, values in (("id_number", numbers), ("id", ids))]
    wanted = [(column, values) for column, values in wanted if values]
    if not wanted:
        return by_number, by_id, levels
    matches = [rawsql.any_of(f"r.{column}", values) for column, values in wanted]
    found = rawsql.rows(
        "SELECT r.id, r.id_number, r.doc_number, r.name, "
        f"{', '.join('r.' + c for c in ANCESTORS)}, ca.node_id, ca.level "
        f"FROM {rawsql.table(Resident)} r {active_area_join('r')} "
        f"WHERE {' OR '.join(sql for sql, _params in matches)}",
        [param for _sql, params in matches for param in params],
    )
    for pk, number, doc_number, name, *located, area_node, area_level in found:
        if area_node is not None:
            levels[area_node] = area_level
        # People known by another document (or none) are kept apart by that number.
        number = number or doc_number
        person = _Person(pk, number, name, tuple(located))
        by_number[number] = person
        by_id[pk] = person
    return by_number, by_id, levels


def _refused(item: ScanInput, reason: str, field_name: str, message: str, **extra) -> ScanOutcome:
    return ScanOutcome(
        client_id=item.client_id,
        status="refused",
        reason=reason,
        field=field_name,
        message=message,
        **extra,
    )


TEXT_FIELDS = ("tube", "code", "name", "phone")


def item_unreadable(item: ScanInput, now: dt.datetime) -> ScanOutcome | None:
    """The refusal of an item no rule can even read: a time no clock shows (year 1, 9999:
    the arithmetic on them overflows) or a NUL character (PostgreSQL cannot store one). Asked
    of each item before anything else, so one such item never fails its batch."""
    for name in TEXT_FIELDS:
        if "\x00" in getattr(item, name):
            return _refused(
                item,
                "bad_text",
                name,
                _("The %(field)s holds a character that cannot be stored (NUL): scan it again.")
                % {"field": name},
            )
    if item.at is not None and not plausible(item.at, now):
        future = item.at > now
        return _refused(
            item,
            "bad_time",
            "at",
            _("The scan's time is in the future: check the clock.")
            if future
            else _("The scan's time is too far in the past: check the clock."),
        )
    return None


def _replayed(item: ScanInput, scan: Scan, station: Station, viewer) -> ScanOutcome:
    if scan.station_id != station.pk:
        return _refused(
            item,
            "client_id_reused",
            "client_id",
            _("This scan id was already used at another station."),
        )
    person = scan.resident or scan.walk_in
    shown = person_shown(
        viewer,
        scan.resident if scan.resident_id else None,  # a walk-in known to nobody: as typed
        name=getattr(person, "name", ""),
        number=getattr(person, "id_number", "") or "",
        resident_id=scan.resident_id,
    )
    return ScanOutcome(
        client_id=item.client_id,
        status="replayed",
        tube=scan.tube.barcode,
        filled=scan.tube.filled,
        capacity=scan.tube.capacity,
        tube_closed=scan.tube.status == TubeStatus.CLOSED,
        kind=scan.kind,
        resident_id=shown.resident_id,
        name=shown.name,
        id_number=shown.id_number,
        retest=scan.retest,
        scan_id=scan.pk,
        at=scan.at,
        manual=scan.manual,
    )


def batch_record(
    *, actor, station: Station, items: Sequence[ScanInput], source: str = "api"
) -> list[ScanOutcome]:
    """Record a batch of plain scans (no family code: `services.scans_record` sends those
    through `family`) at one station, in the order given; one outcome per item. A scan whose
    client id is already stored is answered as before (replayed) and not written again; a
    refused scan changes nothing and does not stop the others. The caller has checked that
    `actor` may change `station`."""
    if len(items) > MAX_BATCH:
        raise DomainError(_("At most %(n)s scans per batch.") % {"n": MAX_BATCH}, field="scans")
    if not items:
        return []
    try:
        return _batch_attempts(actor, station, items)
    except DataError:
        # The database refused a value no check here foresaw: judge each item on its own, so
        # the one it cannot store is refused with the reason and the others go in.
        if len(items) == 1:
            item = items[0]
            return [_refused(item, "bad_data", None, _("The database cannot store this scan."))]
        return [
            outcome
            for item in items
            for outcome in batch_record(actor=actor, station=station, items=[item], source=source)
        ]


def _batch_attempts(actor, station: Station, items: Sequence[ScanInput]) -> list[ScanOutcome]:
    for attempt in range(ATTEMPTS):
        # A single scan tries hopefully first (two lookups fewer, see _scans_apply); in a
        # batch those lookups cost little per scan and one double scan would redo them all.
        careful = attempt > 0 or len(items) > 1
        try:
            with _writer_turn(), transaction.atomic():
                return _scans_apply(actor, station, items, timezone.now(), careful=careful)
        except (IntegrityError, OperationalError, _LostRace):
            # A concurrent writer got a resident, a client id or a tube first (or PostgreSQL
            # broke a deadlock), or the first, hopeful evaluation met a replay or someone
            # already sampled: nothing of this batch was written; evaluate it again, with
            # every check.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_SQLITE_WRITERS = threading.Lock()


@contextlib.contextmanager
def _writer_turn():
    """On SQLite one writer runs at a time whatever we do; the threads of one server process
    queue here instead of in SQLite's busy handler, which sleeps in steps of up to 100 ms and
    let 8 concurrent stations reach 20 scans per second. PostgreSQL writers run side by side."""
    if connection.vendor != "sqlite":
        yield
        return
    with _SQLITE_WRITERS:
        yield


def _scans_apply(
    actor, station: Station, items: Sequence[ScanInput], now: dt.datetime, careful: bool = True
) -> list[ScanOutcome]:
    """Decide and write a batch. Not `careful` (a single scan's first try) it skips the two
    lookups that almost never find anything, replays and people already sampled, and leaves
    them to the database's unique indexes: a hit there rolls the batch back and it is evaluated
    again, carefully, to give the answer (the stored scan, or the tube they are in)."""
    outcomes: list[ScanOutcome | None] = [None] * len(items)

    # 1. Replays: scans already stored under these client ids.
    ids = {i.client_id for i in items}
    stored: dict[uuid.UUID, Scan] = {}
    if careful and Scan.objects.filter(client_id__in=ids).exists():  # load what it made
        stored = {
            s.client_id: s
            for s in Scan.objects.filter(client_id__in=ids).select_related(
                "tube", "resident", "walk_in"
            )
        }
    # Each client id's first item, to tell a retry from another scan under a used id.
    fingerprints: dict[uuid.UUID, str] = {}
    for item in items:
        if item.client_id not in fingerprints:
            fingerprints[item.client_id] = item_fingerprint(item, station.pk)
    reused = keys_reused(Scan, {c: fingerprints[c] for c in stored}) if stored else set()
    pending: list[tuple[int, ScanInput, dt.datetime]] = []
    first_of: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        if item.client_id in reused or (
            item.client_id in first_of
            and item_fingerprint(item, station.pk) != fingerprints[item.client_id]
        ):
            outcomes[index] = _refused(item, "client_id_reused", "client_id", reuse_message())
        elif item.client_id in stored:
            outcomes[index] = _replayed(item, stored[item.client_id], station, actor)
        elif item.client_id in first_of:
            continue  # answered as its first copy, below
        else:
            first_of[item.client_id] = index
            pending.append((index, item, item.at or now))

    # 2. The station's shifts around these times, with their rounds.
    parsed: list[tuple[int, ScanInput, dt.datetime, Shift, str, str | None, int | None]] = []
    documents: list[tuple] = []
    shifts: list[Shift] = []
    times = [at for _i, item, at in pending if not item_unreadable(item, now)]
    if times:
        shifts = shifts_around(station, min(times), max(times) + SHIFT_GRACE)
    for index, item, at in pending:
        if refusal := item_unreadable(item, now):
            outcomes[index] = refusal
            continue
        shift = shift_among(shifts, at)
        if shift is None:
            outcomes[index] = _refused(
                item, "station_closed", "station", _("This station is not open.")
            )
            continue
        if not shift.round.is_open(at):
            outcomes[index] = _refused(
                item,
                "round_not_open",
                "round",
                _("The round %(round)s is not running.") % {"round": shift.round.name},
            )
            continue
        try:
            barcode = normalise_barcode(item.tube)
        except DomainError as e:
            outcomes[index] = _refused(item, "bad_tube", "tube", str(e))
            continue
        scanned = read_scanned(item.code)
        if scanned.bad_code or scanned.household_id:
            outcomes[index] = _refused(
                item, "unknown_code", "code", _("This resident code is not one of ours.")
            )
            continue
        if scanned.document is not None:
            documents.append((index, item, at, shift, barcode, scanned.document))
            continue
        if scanned.id_number is not None:
            try:
                number = parse_id_number(scanned.id_number).number
            except ValidationError as e:
                outcomes[index] = _refused(item, "bad_id_number", "code", e.messages[0])
                continue
            parsed.append((index, item, at, shift, barcode, number, None))
        else:
            parsed.append((index, item, at, shift, barcode, None, scanned.resident_id))

    if documents:
        _documents_parse(documents, parsed, outcomes)
    if parsed:
        _evaluate(actor, station, parsed, outcomes, now, careful)
        keys_store(
            Scan,
            {
                o.client_id: fingerprints[o.client_id]
                for o in outcomes
                if o and o.scan_id and o.status == "accepted"
            },
        )

    # A copy of this batch may have committed while this one was being evaluated (on
    # PostgreSQL each statement sees the latest commits): a refused scan whose client id is
    # stored by now was not refused, it was already taken.
    refused = {
        o.client_id: i
        for i, o in enumerate(outcomes)
        if o and o.status == "refused" and o.reason != "client_id_reused"
    }
    if refused and len(stored) < len(ids):
        for scan in Scan.objects.filter(client_id__in=list(refused)).select_related(
            "tube", "resident", "walk_in"
        ):
            index = refused[scan.client_id]
            outcomes[index] = _replayed(items[index], scan, station, actor)

    # Copies of a client id inside the batch answer as the first one did.
    for index, item in enumerate(items):
        if outcomes[index] is None:
            first = outcomes[first_of[item.client_id]]
            status = "replayed" if first.status == "accepted" else first.status
            outcomes[index] = replace(first, status=status)
    return outcomes  # type: ignore[return-value]


def _documents_parse(documents: list, parsed: list, outcomes: list) -> None:
    """Scans of passports, permits and residence cards: their holders found in one query,
    then evaluated in their place in the batch like a resident code; a number nobody here
    holds is taken as a walk-in when asked (kept apart by that number)."""
    holders = documents_resolve({d[5] for d in documents})
    for index, item, at, shift, barcode, number in documents:
        if number not in holders and item.walk_in:  # a visitor known by a passport or permit
            parsed.append((index, item, at, shift, barcode, number, None))
        elif holders.get(number) is None:
            message = (
                _("Two residents hold this document number: find the person by name.")
                if number in holders
                else _("No resident has this document number.")
            )
            outcomes[index] = _refused(item, "unknown_document", "code", message)
        else:
            parsed.append((index, item, at, shift, barcode, None, holders[number]))
    parsed.sort(key=lambda p: p[0])


def _evaluate(
    actor, station: Station, parsed: list, outcomes: list, now: dt.datetime, careful: bool
) -> None:
    """Decide each parsed scan in order, then write the accepted ones. What a reply shows of
    a person is `person_shown`'s to decide (the actor's view, read without a query)."""
    actor_id = actor.pk if is_user(actor) else None
    by_number, by_id, levels = _residents(
        {p[5] for p in parsed if p[5]}, {p[6] for p in parsed if p[6]}
    )
    pooling = TubePooling(by_id.values(), levels)
    round_ids = {p[3].round_id for p in parsed}

    # Tubes, locked in id order so concurrent batches never deadlock on them.
    barcodes = {p[4] for p in parsed}
    tubes: dict[str, _TubeState] = {
        t.barcode: _TubeState(t, False, t.filled, t.status, t.closed_at)
        for t in _tubes_locked(barcodes)
    }

    # Who of them is already sampled in these rounds, and in which tube.
    resident_ids = {p.id for p in by_id.values()}
    sampled: dict[tuple[int, int], str] = {}
    retested: dict[tuple[int, int], str] = {}
    if resident_ids and careful:
        # Each lookup matches one of the partial unique indexes (round, resident).
        for round_id, resident_id, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            resident_id__in=resident_ids,
            voided_at__isnull=True,
            retest=False,
        ).values_list("round_id", "resident_id", "tube__barcode"):
            sampled[(round_id, resident_id)] = barcode
    to_retest: set[tuple[int, int]] = set()
    if resident_ids and (
        sampled
        or any(p[1].single for p in parsed)
        or any(s.tube.kind == TubeKind.SINGLE for s in tubes.values())
        or any(p[3].round.pool_size == 1 for p in parsed)
    ):
        to_retest = set(
            Retest.objects.filter(round_id__in=round_ids, resident_id__in=resident_ids).values_list(
                "round_id", "resident_id"
            )
        )
    if to_retest:
        for round_id, resident_id, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            resident_id__in=[r for round_of, r in to_retest],
            voided_at__isnull=True,
            retest=True,
        ).values_list("round_id", "resident_id", "tube__barcode"):
            retested[(round_id, resident_id)] = barcode

    walk_in_numbers = {
        (p[3].round_id, p[5] or by_id[p[6]].id_number)
        for p in parsed
        if (p[5] and p[5] not in by_number) or _outside(p, by_number, by_id)
    }
    walk_ins: dict[tuple[int, str], WalkIn] = {}
    walk_in_sampled: dict[tuple[int, str], str] = {}
    if walk_in_numbers:
        for w in WalkIn.objects.filter(
            round_id__in=round_ids, id_number__in={n for _r, n in walk_in_numbers}
        ):
            walk_ins[(w.round_id, w.id_number)] = w
        for round_id, number, barcode in Scan.objects.filter(
            round_id__in=round_ids,
            walk_in__in=list(walk_ins.values()),
            voided_at__isnull=True,
            retest=False,
        ).values_list("round_id", "walk_in__id_number", "tube__barcode"):
            walk_in_sampled[(round_id, number)] = barcode

    new_walk_ins: list[WalkIn] = []
    accepted: list[_Accepted] = []
    station_located = tuple(getattr(station, c) for c in ANCESTORS)
    for index, item, at, shift, barcode, number, code_id in parsed:
        round_ = shift.round
        person = by_number.get(number) if number else by_id.get(code_id)
        if number is None and person is None:
            outcomes[index] = _refused(
                item, "unknown_code", "code", _("No resident has this code.")
            )
            continue
        shown = None
        if person is not None:
            shown = person_shown(
                actor,
                person.located,
                name=person.name,
                number=person.id_number,
                resident_id=person.id,
            )
        state = tubes.get(barcode)
        if state is None:
            if bad := tube_code_refusal(round_, barcode):
                outcomes[index] = _refused(item, bad[0], "tube", bad[1], tube=barcode)
                continue
            tube = new_tube(
                round=round_,
                station=station,
                barcode=barcode,
                single=item.single,
                at=at,
                actor=None,
            )
            tube.opened_by_id = actor_id
            state = tubes[barcode] = _TubeState(tube, True, 0, TubeStatus.OPEN, shift=shift)
        check = tube_refusal(_tube_as_seen(state), round_.pk, station)
        if check:
            outcomes[index] = _refused(
                item,
                check[0],
                "tube",
                check[1],
                tube=barcode,
                filled=state.filled,
                capacity=state.tube.capacity,
                tube_closed=True,
            )
            continue
        if wrong := pooling.refusal(round_, person, state.tube, state.filled, shown=shown):
            outcomes[index] = _refused(item, wrong[0], "tube", wrong[1], tube=barcode)
            continue
        retest = False
        if person is not None and _in_area_values(person, round_.node):
            key = (round_.pk, person.id)
            if state.tube.kind == TubeKind.SINGLE and key in to_retest:
                if key in retested:
                    outcomes[index] = _refused(
                        item,
                        "already_sampled",
                        "code",
                        _("%(name)s was already retested in tube %(tube)s.")
                        % {"name": shown.name, "tube": retested[key]},
                        tube=retested[key],
                        resident_id=shown.resident_id,
                        name=shown.name,
                        id_number=shown.id_number,
                    )
                    continue
                retest = True
                retested[key] = barcode
            elif key in sampled:
                message = _("%(name)s was already sampled in this round, in tube %(tube)s.")
                if key in to_retest:
                    message = _("%(name)s is on the retest list: use a single tube.")
                outcomes[index] = _refused(
                    item,
                    "already_sampled",
                    "code",
                    message % {"name": shown.name, "tube": sampled[key]},
                    tube=sampled[key],
                    resident_id=shown.resident_id,
                    name=shown.name,
                    id_number=shown.id_number,
                    retest=key in to_retest,  # the station offers a single tube for them
                )
                continue
            else:
                sampled[key] = barcode
            entry = _Accepted(
                index,
                item.client_id,
                round_.pk,
                state,
                ScanKind.RESIDENT,
                person.id,
                None,
                retest,
                at,
                person.located,
                person.name,
                person.id_number,
                shown=shown,
            )
        else:
            id_number = number or person.id_number
            key_w = (round_.pk, id_number)
            if person is None and not item.walk_in:
                outcomes[index] = _refused(
                    item,
                    "unknown_person",
                    "code",
                    _(
                        "No resident of this area has this ID number. Take them as a walk-in "
                        "if they are not from here."
                    ),
                )
                continue
            if key_w in walk_in_sampled:
                outcomes[index] = _refused(
                    item,
                    "already_sampled",
                    "code",
                    _("This person was already sampled in this round, in tube %(tube)s.")
                    % {"tube": walk_in_sampled[key_w]},
                    tube=walk_in_sampled[key_w],
                )
                continue
            walk_in = walk_ins.get(key_w)
            if walk_in is None and not id_number:
                outcomes[index] = _refused(
                    item,
                    "no_document",
                    "code",
                    _("%(name)s has no document and lives outside this round's area.")
                    % {"name": shown.name},
                )
                continue
            if walk_in is None:
                try:
                    phone = normalise_mobile(item.phone) if item.phone.strip() else ""
                except ValidationError as e:
                    outcomes[index] = _refused(item, "bad_phone", "phone", e.messages[0])
                    continue
                walk_in = WalkIn(
                    round=round_,
                    id_number=id_number,
                    name=(item.name.strip() or getattr(person, "name", ""))[:50],
                    phone=phone,
                    resident_id=person.id if person else None,
                )
                locate_at(walk_in, station)
                walk_ins[key_w] = walk_in
                new_walk_ins.append(walk_in)
            walk_in_sampled[key_w] = barcode
            entry = _Accepted(
                index,
                item.client_id,
                round_.pk,
                state,
                ScanKind.WALK_IN,
                person.id if person else None,
                walk_in,
                False,
                at,
                station_located,
                walk_in.name,
                id_number,
                shown=person_shown(
                    actor,
                    person.located if person else None,  # known to nobody: as typed
                    name=walk_in.name,
                    number=id_number,
                    resident_id=person.id if person else None,
                ),
            )
        entry.manual = item.manual
        state.filled += 1
        if state.filled >= state.tube.capacity:
            state.status, state.closed_at = TubeStatus.CLOSED, now
        entry.filled, entry.closed = state.filled, state.status == TubeStatus.CLOSED
        accepted.append(entry)

    if not accepted:
        return
    # Write: new tubes (with their final fill), new walk-ins, the scans in one multi-row
    # INSERT, then the fills of the tubes that were there before.
    new_tubes = [s for s in tubes.values() if s.new and s.filled]
    for s in new_tubes:
        s.tube.filled, s.tube.status, s.tube.closed_at = s.filled, s.status, s.closed_at
    if new_tubes:
        _tubes_insert([s.tube for s in new_tubes])
        # The last tube opened by this batch is the one the crew fills now (a device that
        # scanned offline opens its tube here, not through the tube endpoint).
        last = max(new_tubes, key=lambda s: s.tube.opened_at)
        Shift.objects.filter(pk=last.shift.pk).update(current_tube=last.tube.pk)
    if new_walk_ins:
        WalkIn.objects.bulk_create(new_walk_ins)
    # In resident order: concurrent batches then wait on each other's rows in one order,
    # never in a cycle.
    ordered = sorted(accepted, key=lambda a: (a.resident_id or 0, str(a.client_id)))
    ids = insert_rows_returning(
        Scan,
        SCAN_COLUMNS,
        [
            (
                a.client_id,
                a.round_id,
                a.state.tube.pk,
                station.pk,
                a.kind,
                a.resident_id,
                a.walk_in.pk if a.walk_in else None,
                a.retest,
                a.at,
                now,
                actor_id,
                "",
                None,
                a.manual,
                *a.located,
            )
            for a in ordered
        ],
    )
    for a, scan_id in zip(ordered, ids, strict=True):
        a.scan_id = scan_id
    for state in tubes.values():
        if state.new or state.filled == state.tube.filled:
            continue
        if not _tube_fill(state):
            raise _LostRace
    for a in accepted:
        if a.retest:
            Retest.objects.filter(
                round_id=a.round_id, resident_id=a.resident_id, tube__isnull=True
            ).update(tube_id=a.state.tube.pk, sampled_at=now)
    for a in accepted:
        outcomes[a.index] = ScanOutcome(
            client_id=a.client_id,
            status="accepted",
            tube=a.state.tube.barcode,
            filled=a.filled,
            capacity=a.state.tube.capacity,
            tube_closed=a.closed,
            kind=a.kind,
            resident_id=a.shown.resident_id if a.kind == ScanKind.RESIDENT else None,
            name=a.shown.name,
            id_number=a.shown.id_number,
            retest=a.retest,
            scan_id=a.scan_id,
            at=a.at,
            manual=a.manual,
        )


@dataclass(frozen=True)
class _SeenTube:
    """What `tube_refusal` reads of a tube, as a batch sees it part-way through."""

    barcode: str
    round_id: int
    station_id: int
    status: str
    filled: int
    capacity: int


def _tube_as_seen(state: _TubeState) -> "Tube | _SeenTube":
    """The tube as the batch sees it so far (its fill and status after earlier items)."""
    tube = state.tube
    if tube.filled == state.filled and tube.status == state.status:
        return tube
    return _SeenTube(
        tube.barcode, tube.round_id, tube.station_id, state.status, state.filled, tube.capacity
    )


def _in_area_values(person: _Person, area: Node) -> bool:
    return person.located[LEVEL_ORDER.index(area.level)] == area.pk


def _outside(p, by_number: dict, by_id: dict) -> bool:
    """Whether a parsed scan names a known resident who lives outside the round's area."""
    person = by_number.get(p[5]) if p[5] else by_id.get(p[6])
    return person is not None and not _in_area_values(person, p[3].round.node)
